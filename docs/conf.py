"""Sphinx configuration: the pages are Markdown (MyST), the API reference comes from the docstrings."""

project = "tinygrad_lite"
author = "the tinygrad_lite developers"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "pictures/*.py"]
myst_heading_anchors = 2
autodoc_member_order = "bysource"
autodoc_typehints = "description"
html_theme = "alabaster"
html_title = "tinygrad_lite"
suppress_warnings = ["myst.xref_missing"]
