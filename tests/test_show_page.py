"""The step-through page: written by the three commands and the Python method, self-contained, and driven in
a real browser (headless Chromium) at a phone's width and a desktop's: Right to the end, Left back, the URL
fragment, Space to play, the graph's highlight, and no console error. Screenshots go to test-artefacts/."""

import re
import subprocess
import sys
import time

import numpy as np
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import tinygrad_lite as tl
from tinygrad_lite.programs import tutorials
from tinygrad_lite.show.steps import steps

pytestmark = pytest.mark.slow  # subprocesses, trained demos, a browser: `make check` leaves them out

WIDTHS = (390, 1400)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinygrad_lite", *args], capture_output=True, text=True, cwd=cwd)


def _perceptron_dw() -> str:
    """dL/dw at the perceptron's first step, by its closed form in plain numpy: X^T [(out - y) out (1 - out)]."""
    X, y = tl.data.perceptron()
    w = 2 * np.random.RandomState(1).random((3, 1)) - 1
    out = 1 / (1 + np.exp(-(X @ w)))
    return np.array2string((X.T @ ((out - y) * out * (1 - out))).ravel(), precision=4, separator=", ")


@pytest.fixture(scope="module")
def perceptron_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("page") / "perceptron.html"
    done = _cli("explain", "perceptron", "--html", str(path))
    assert done.returncode == 0 and done.stdout == f"page: {path}\n" and done.stderr == ""
    return path


def _state(driver):
    count = driver.find_element(By.ID, "count").text
    return int(re.match(r"step (\d+) of (\d+)", count).group(1)), driver.find_element(By.ID, "panel").text


def test_the_page_is_one_file_that_needs_no_network(perceptron_page):
    text = perceptron_page.read_text()
    assert "<svg" in text and '<script id="steps" type="application/json">' in text
    for outside in ("<link", " src=", "@import", "url(", "https://", "fetch("):
        assert outside not in text, outside  # no CDN, no web font, no other file
    assert "http://" not in text.replace("http://www.w3.org/", "")  # the SVG namespaces only


@pytest.mark.parametrize("width", WIDTHS)
def test_stepping_through_the_perceptron_in_a_browser(browser, perceptron_page, width):
    told = steps(tutorials.perceptron_loss())
    last = 1 + len(told["forward"]) + len(told["backward"])  # the inputs, each op, each backward step, the end
    driver = browser.open(perceptron_page.as_uri(), width)
    assert _state(driver)[0] == 0 and f"step 0 of {last}" in driver.find_element(By.ID, "count").text
    body = driver.find_element(By.TAG_NAME, "body")
    panels = [_state(driver)[1]]
    for _ in range(last):
        body.send_keys(Keys.ARROW_RIGHT)
        panels.append(_state(driver)[1])
    assert _state(driver)[0] == last and driver.current_url.endswith(f"#step={last}")
    dw = _perceptron_dw()
    assert dw == "[-0.2862, -0.0639, -0.1491]"
    assert f"dL/dw = {dw}" in panels[-1]  # the leaves' final gradients, as tl.explain tells them
    assert f"dL/dw = {dw}" in tl.explain(tutorials.perceptron_loss())
    # each forward step shows its value as written, each backward step its node, rule and what the inputs get
    for i, f in enumerate(told["forward"], start=1):
        assert f"{f['name']} = {f['expr']}" in panels[i] and f["data"] in panels[i]
    for i, b in enumerate(told["backward"], start=1 + len(told["forward"])):
        assert f"At {b['name']}" in panels[i] and b["arrives"] in panels[i]
        for part in b.get("parts", []):
            assert f"{part['name']} receives {part['gives']}" in panels[i] and part["rule"] in panels[i]
    assert "w receives [-0.2862, -0.0639, -0.1491]" in panels[last - 2]  # at v1 = X @ w
    # the card of w shows its gradient once backward has reached it, and not before
    w_card = next(v["id"] for v in told["values"] if v.get("name") == "w")
    card = browser.run(f"return document.getElementById('v{w_card}').textContent")
    assert "grad [-0.2862, -0.0639, -0.1491]" in card
    body.send_keys(Keys.ARROW_LEFT)
    assert _state(driver) == (last - 1, panels[last - 1])
    assert browser.sideways() == 0, f"the page scrolls sideways at {width} px"
    browser.screenshot(f"page_perceptron_{width}.png")
    # a link with a step in its fragment opens at that step, the current node highlighted in the graph
    middle = 1 + len(told["forward"]) + 2
    driver = browser.open(perceptron_page.as_uri() + f"#step={middle}", width)
    assert _state(driver) == (middle, panels[middle])
    node = told["backward"][2]["node"]
    assert browser.run("return [...document.querySelectorAll('g.node.current')].map(g => g.id)") == [f"v{node}"]
    assert "grad: not yet" in browser.run(f"return document.getElementById('v{w_card}').textContent")
    browser.screenshot(f"page_perceptron_{width}_step{middle}.png")
    assert browser.errors() == []


def test_space_plays_and_pauses_and_the_buttons_and_slider_step(browser, perceptron_page):
    driver = browser.open(perceptron_page.as_uri(), 1400)
    Select = __import__("selenium.webdriver.support.select", fromlist=["Select"]).Select
    Select(driver.find_element(By.ID, "speed")).select_by_visible_text("fast")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.SPACE)
    time.sleep(1.0)
    body.send_keys(Keys.SPACE)
    paused = _state(driver)[0]
    assert paused >= 2 and driver.find_element(By.ID, "play").text == "Play"
    time.sleep(0.7)
    assert _state(driver)[0] == paused  # paused: nothing moves
    driver.find_element(By.ID, "next").click()
    assert _state(driver)[0] == paused + 1
    assert browser.run("return document.activeElement.tagName") == "BODY"  # so Space plays, not presses Next
    driver.find_element(By.ID, "prev").click()
    driver.find_element(By.ID, "prev").click()
    assert _state(driver)[0] == paused - 1
    browser.run("const s = document.getElementById('slider'); s.value = 4; s.dispatchEvent(new Event('input'))")
    assert _state(driver)[0] == 4 and driver.current_url.endswith("#step=4")
    assert browser.errors() == []


def test_a_value_used_twice_shows_its_contributions_added(browser, tmp_path):
    path = tmp_path / "twice.html"
    done = _cli("graph", "--expr", "a*a + a", "a=3", "--html", str(path))  # d/da = 2a + 1 = 7
    assert done.returncode == 0, done.stderr
    told = steps(_expression())
    at_a = next(b for b in told["backward"] if b["name"] == "a")
    assert at_a["sum"] == "1 + 3 + 3 = 7"  # in the order they arrive: from the add, then twice from the mul
    driver = browser.open(path.as_uri() + f"#step={1 + len(told['forward']) + told['backward'].index(at_a)}", 390)
    text = _state(driver)[1]
    assert "a is used 3 times" in text and "1 + 3 + 3 = 7" in text
    assert browser.errors() == [] and browser.sideways() == 0


def _expression():
    a = tl.Value(3.0, name="a")
    return a * a + a


def test_modules_collapse_into_one_box_each(browser, tmp_path):
    J = tutorials.regressor_loss()
    J.backward()  # a plain backward first: the page works after it, as the drawing does
    path = tl.explain(J).save_html(tmp_path / "regressor.html")
    driver = browser.open(path.as_uri() + "#step=3", 1400)
    assert browser.run("return document.getElementById('svg-collapsed').hidden") is True
    driver.find_element(By.ID, "collapse").click()
    assert browser.run("return document.getElementById('svg-full').hidden") is True
    boxes = browser.run("return [...document.querySelectorAll('#svg-collapsed g.node')].map(g => g.id)")
    assert {"m0", "m1"} <= set(boxes)  # the two Linear layers, each one box
    assert browser.run("return document.querySelector('#svg-collapsed g.node.current').id") in boxes
    browser.screenshot("page_regressor_collapsed.png")
    assert browser.errors() == []


def test_save_html_refuses_what_is_not_a_page_file(tmp_path):
    told = tl.explain(tutorials.perceptron_loss())
    with pytest.raises(ValueError, match="end in .html"):
        told.save_html(tmp_path / "steps.svg")
    (tmp_path / "dir.html").mkdir()
    with pytest.raises(IsADirectoryError, match="folder"):
        told.save_html(tmp_path / "dir.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.html"]  # nothing half-written


@pytest.mark.parametrize("args, message", [
    (["explain", "perceptron", "--html", "steps.svg"], "give a file name ending in .html"),
    (["explain", "perceptron", "--html", ""], "the file name is empty"),
    (["explain", "perceptron", "--html", "missing/steps.html"], "does not exist"),
    (["explain", "perceptron", "--html", "."], "that is a folder"),
    (["graph", "perceptron"], "-o FILE (the drawing) and/or --html FILE"),
    (["graph", "--expr", "a*2", "a=1", "--html", "x.txt"], "ending in .html"),
])
def test_html_mistakes_are_one_line_and_exit_2(tmp_path, args, message):
    done = _cli(*args, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
    assert message in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_graph_writes_the_drawing_and_the_page(tmp_path):
    done = _cli("graph", "regressor", "-o", "g.svg", "--html", "g.html", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "graph: g.svg\npage: g.html\n", done.stderr
    assert "Backward pass" in (tmp_path / "g.html").read_text() and (tmp_path / "g.svg").read_text().startswith("<?xml")


def test_a_big_graph_stays_usable(browser, tmp_path):
    """More values than the drawing's max_nodes: the picture is the summary near the loss, every step is still
    there, and the page still says nothing to the console."""
    x = tl.Value(np.linspace(-1, 1, 8), name="x")
    y = x
    for _ in range(150):
        y = (y * 0.9).tanh()
    loss = y.sum()
    loss.name = "loss"
    path = tl.explain(loss).save_html(tmp_path / "big.html")
    told = steps(loss)
    last = 1 + len(told["forward"]) + len(told["backward"])
    assert "more nodes" in path.read_text()  # the drawing's summary
    driver = browser.open(path.as_uri() + f"#step={last}", 390)
    assert _state(driver)[0] == last and f"dloss/dx = {told['backward'][-1]['arrives']}" in _state(driver)[1]
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    assert _state(driver)[0] == last - 1
    driver = browser.open(path.as_uri() + "#step=5", 390)  # a value the summary leaves out: no highlight, no error
    assert _state(driver)[0] == 5
    assert browser.errors() == [] and browser.sideways() == 0
