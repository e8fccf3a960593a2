"""Sphinx configuration: the pages are Markdown (MyST), the API reference comes from the docstrings, the theme
is Furo (wide content, previous/next links, dark mode, search)."""

project = "tinygrad_lite"
author = "the tinygrad_lite developers"
copyright = "2026, the tinygrad_lite developers"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "pictures/*.py"]
myst_heading_anchors = 2
autodoc_member_order = "bysource"
autodoc_typehints = "description"
html_theme = "furo"
html_title = "tinygrad_lite"
html_static_path = ["_static"]
html_css_files = ["wide.css"]
# the step-through pages the autograd and attention pages embed
html_extra_path = ["pictures/perceptron_steps.html", "pictures/attention_steps.html"]
suppress_warnings = ["myst.xref_missing"]


def _link_pictures(app, doctree):
    """Every picture opens at full size when clicked: a scale makes Sphinx wrap it in a link to the file."""
    from docutils import nodes

    for image in doctree.findall(nodes.image):
        if not isinstance(image.parent, nodes.reference) and not {"scale", "width", "height"} & set(image):
            image["scale"] = 100


def setup(app):
    app.connect("doctree-read", _link_pictures)
