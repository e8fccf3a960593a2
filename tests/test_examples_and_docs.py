"""The runnable promises: examples run and print what they say; generated docs are current."""

import contextlib
import inspect
import io
import re
import runpy
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses, trained demos, a browser: `make check` leaves them out

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs_and_prints_hand_derived_values():
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for line in ("dL/da = 6", "dL/db = -4", "dL/dc = -2", "dL/df = 4", "f'(3)  = 27", "f''(3) = 18",
                 "gradcheck of tanh(A @ B): True"):
        assert line in done.stdout


@pytest.mark.parametrize("name, expected", [
    ("perceptron.py", "[0.99993704]"),
    ("regressor.py", "Part 7"),
    ("xor.py", "100% of the rows right"),
    ("three_layer.py", "accuracy: 100%"),
    ("newton.py", "Newton: final cost"),
    ("own_data.py", "root mean squared error"),
])
def test_examples_run(name, expected, tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


def test_own_data_example_reads_a_csv(tmp_path):
    csv = tmp_path / "scores.csv"  # semicolons and a text label, which the old example could not read
    csv.write_text("hours;sleep;grade\n" + "".join(f"{h};{s};{'pass' if 4 * h + 2 * s > 30 else 'fail'}\n"
                                                      for h in range(1, 7) for s in range(4, 9)))
    script = str(ROOT / "examples" / "own_data.py")
    done = subprocess.run([sys.executable, script, str(csv), "--steps", "400", "--save", str(tmp_path / "m.npz")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "30 rows; inputs hours, sleep; target 'grade' (classification, classes fail, pass)" in done.stdout
    assert "the saved model's predictions for the first rows: fail, fail, fail" in done.stdout  # 4 + 8..16 < 30
    bad = subprocess.run([sys.executable, script, str(csv), "--target", "price"], capture_output=True, text=True)
    assert bad.returncode == 1 and "no column 'price'" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("name", ["docs/ops.md", "README.md", "docs/coming_from.md"])
def test_what_the_docs_say_of_the_op_table_is_generated_from_it(name):
    make = runpy.run_path(str(ROOT / "docs" / "make_ops_table.py"))["GENERATED"][name]
    text = (ROOT / name).read_text()
    assert text == make(text), "run: python docs/make_ops_table.py"


PAGES = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```(?:\n\n```text\n(.*?)```)?", re.S)


@pytest.mark.parametrize("page", PAGES)
def test_every_python_block_in_the_docs_runs_and_prints_what_it_shows(page):
    """The blocks of a page run in order in one namespace, as a reader would run them; where a block is
    followed by a text block, that is what it must print."""
    namespace: dict = {}
    text = (ROOT / page).read_text()
    if "import torch" in text:  # the page on moving to PyTorch: torch is optional (.ci/run installs it)
        pytest.importorskip("torch", reason="torch is optional: pip install -e '.[torch]' (.ci/run installs it)")
    for match in BLOCK.finditer(text):
        code, shown = match.groups()
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            exec(compile(code, page, "exec"), namespace)
        if shown is not None:
            first = code.splitlines()[0]
            assert _same_but_last_digits(out.getvalue(), shown), \
                f"{page}: the block starting {first!r} printed something else:\n{out.getvalue()}"


NUMBER = re.compile(r"-?\d+(?:\.(\d+))?(?:e([-+]?\d+))?")


def _same_but_last_digits(printed, shown):
    """The text as the page shows it, each number within one unit of its last shown digit (a rounding that falls
    the other way on another CPU), everything else exactly."""
    if NUMBER.sub("#", printed) != NUMBER.sub("#", shown):
        return False
    for got, want in zip(NUMBER.finditer(printed), NUMBER.finditer(shown)):
        decimals, exponent = len(want.group(1) or ""), int(want.group(2) or 0)
        unit = 10.0 ** (exponent - decimals)
        if abs(float(got.group(0)) - float(want.group(0))) > unit * 1.000001:
            return False
    return True


def test_pictures_are_build_output_so_make_docs_leaves_the_tree_clean():
    # Their bytes depend on the CPU (the flat-valley curves of the regressor's parts 6 and 7) and on the
    # matplotlib and Graphviz versions, so they are made by `make docs` and never tracked.
    ignored = subprocess.run(["git", "check-ignore", "-q", "docs/pictures/regressor_cost.png"], cwd=ROOT)
    tracked = subprocess.run(["git", "ls-files", "docs/pictures", "docs/_build"], cwd=ROOT, capture_output=True,
                             text=True)
    assert ignored.returncode == 0 and tracked.stdout == ""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built as `make docs` builds it, from a copy of docs/ as a fresh clone has it."""
    pytest.importorskip("sphinx", reason="sphinx is in the dev extra, which make test installs")
    pytest.importorskip("myst_parser", reason="myst-parser is in the dev extra, which make test installs")
    tmp_path = tmp_path_factory.mktemp("site")
    docs = tmp_path / "docs"  # a copy, as a fresh clone has it: no pictures, no build
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("_build", "pictures"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    done = subprocess.run([sys.executable, str(docs / "make_pictures.py"), str(docs / "pictures")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    made = {p.name for p in (docs / "pictures").iterdir()}
    done = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
                           str(docs), str(tmp_path / "html")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # -W: a warning fails the build
    return tmp_path / "html", made


def test_the_site_builds_without_warnings_with_every_picture_made_by_the_script(site):
    html, made = site
    shown = {m for page in PAGES for m in re.findall(r"\]\(pictures/([^)]+)\)", (ROOT / page).read_text())}
    assert shown and shown <= made, f"not made by docs/make_pictures.py: {shown - made}"
    assert (html / "faq.html").exists() and (html / "api.html").exists()
    assert (html / "perceptron_steps.html").exists()  # the step-through page the autograd page embeds
    autograd = (html / "autograd.html").read_text()
    assert '<iframe src="perceptron_steps.html"' in autograd
    index = (html / "index.html").read_text()
    assert "furo" in index  # the theme: previous/next links, dark mode, search
    assert "Copyright &#169; 2026, the tinygrad_lite developers" in index  # not the old empty "©. |"
    for page in html.glob("*.html"):  # every link inside the site leads to a file the build made
        for href in re.findall(r'href="([^"#?]+)[^"]*"', page.read_text()):
            if not re.match(r"[a-z]+:", href):
                assert (page.parent / href).exists(), f"{page.name}: a link to {href}, which is not there"
        for anchor in re.findall(r'href="#([^"]+)"', page.read_text()):  # and to a place on its own page
            assert f'id="{anchor}"' in page.read_text(), f"{page.name}: a link to #{anchor}, which is not there"
    for page in html.glob("*.html"):  # every picture opens at full size: each image is inside a link to itself
        text = page.read_text()
        for img in re.findall(r"<img [^>]*>", text):
            if "_images/" in img:
                src = re.search(r'src="([^"]+)"', img).group(1)
                assert f'href="{src}"' in text, f"{page.name}: {src} is not a link to itself"


@pytest.mark.parametrize("width", [390, 1400])
def test_no_built_page_scrolls_sideways(site, browser, width):
    html, _ = site
    pages = sorted(html.glob("*.html"))
    assert len(pages) > 15
    wide = {}
    for page in pages:
        browser.open(page.as_uri(), width)
        wide[page.name] = browser.sideways()
        if page.name in ("autograd.html", "index.html"):
            browser.screenshot(f"docs_{page.stem}_{width}.png")
    assert {name: px for name, px in wide.items() if px} == {}
    content = browser.run("return document.querySelector('article').getBoundingClientRect().width")
    assert content > (340 if width == 390 else 740)  # Furo's content column, wider than the old 610 px
    assert browser.errors() == []


@pytest.mark.parametrize("module", ["tinygrad_lite.value", "tinygrad_lite.functional"])
def test_the_examples_in_docstrings_print_what_they_show(module):
    import doctest
    import importlib
    failed, attempted = doctest.testmod(importlib.import_module(module))
    assert attempted and not failed


def test_a_page_number_may_differ_by_one_unit_of_its_last_digit_and_no_more():
    assert _same_but_last_digits("loss 2.36, 429 of 450, 1.1e-03\n", "loss 2.35, 430 of 450, 1.0e-03\n")
    assert not _same_but_last_digits("loss 2.37\n", "loss 2.35\n")
    assert not _same_but_last_digits("loss 2.35 of 450\n", "loss 2.35 of 451 \n")
    assert not _same_but_last_digits("dev 2.35\n", "train 2.35\n")


def test_the_first_example_pastes_into_a_python_prompt():
    """Python's prompt needs a blank line to end a loop before the next statement: the index's first block has it,
    so pasting it line by line (as an interactive console reads it) runs it."""
    import code as console
    block = BLOCK.search((ROOT / "docs" / "index.md").read_text()).group(1)
    shell, out = console.InteractiveConsole(), io.StringIO()
    with contextlib.redirect_stdout(out):
        more = False
        for line in block.splitlines() + [""]:
            more = shell.push(line)
    assert not more and out.getvalue() == "0.99993704\n"


def test_the_gpt_page_shows_the_model_as_the_package_has_it():
    from tinygrad_lite.programs import gpt
    shown = re.findall(r"```\{code-block\} python\n(.*?)\n```", (ROOT / "docs" / "tutorial_gpt.md").read_text(), re.S)
    source = inspect.getsource(gpt.GPT)
    assert shown[:2] == [inspect.getsource(gpt.Block).rstrip(), source[:source.index("    def optimizer")].rstrip()]


def _cells(nb):
    return [(c.cell_type, c.source) for c in nb.cells]


@pytest.mark.parametrize("page", sorted(p.stem for p in (ROOT / "docs").glob("tutorial_*.md")))
def test_each_tutorial_page_is_a_current_notebook(page):
    """notebooks/ holds every tutorial page as jupytext makes it (`make notebooks`): the same cells, in order."""
    import nbformat
    make = runpy.run_path(str(ROOT / "docs" / "make_notebooks.py"))
    path = ROOT / "notebooks" / f"{page}.ipynb"
    assert path.exists(), "run: make notebooks"
    assert _cells(nbformat.read(path, as_version=4)) == _cells(make["notebook"](ROOT / "docs" / f"{page}.md")), \
        "run: make notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(p.stem for p in (ROOT / "docs").glob("tutorial_*.md")))
def test_each_notebook_runs_top_to_bottom_and_prints_what_its_page_shows(page, tmp_path):
    import nbclient
    import nbformat
    nb = nbformat.read(ROOT / "notebooks" / f"{page}.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = ["".join(o.get("text", "") for o in c.outputs if o.get("name") == "stdout")
               for c in nb.cells if c.cell_type == "code"]
    shown = [m.group(2) for m in BLOCK.finditer((ROOT / "docs" / f"{page}.md").read_text())]
    for got, want in zip(printed, shown):
        if want is not None:
            assert _same_but_last_digits(got, want), f"{page}: a cell printed {got!r}, the page shows {want!r}"
