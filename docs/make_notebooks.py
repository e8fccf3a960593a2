"""The tutorial pages as Jupyter notebooks: each docs/tutorial_*.md, converted by jupytext, into notebooks/ (`make
notebooks`). The code blocks become code cells, the text and the shown outputs markdown cells; run a notebook top
to bottom and it prints what its page shows. tests/test_examples_and_docs.py checks that they are current.
"""

from __future__ import annotations

from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def pages() -> list[Path]:
    return sorted((ROOT / "docs").glob("tutorial_*.md"))


def notebook(page: Path) -> object:
    """The notebook of one page, as jupytext reads it, run by a Python 3 kernel."""
    nb = jupytext.read(page, fmt="md")
    nb.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):  # ids by position (nbformat draws random ones): a page's change alone shows
        cell.id = f"cell-{i}"
    return nb


if __name__ == "__main__":
    (ROOT / "notebooks").mkdir(exist_ok=True)
    for page in pages():
        path = ROOT / "notebooks" / f"{page.stem}.ipynb"
        jupytext.write(notebook(page), path, fmt="ipynb")
        print(path.relative_to(ROOT))
