"""`tinygrad_lite.page.save_page`, kept here for existing code; the page lives in `tinygrad_lite.show.page`."""

from .show.page import page_html, save_page

__all__ = ["page_html", "save_page"]
