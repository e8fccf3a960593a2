"""Hypothesis profiles: `ci` (used by `make test`): no deadline, a fixed number of examples, and the
seed printed in pytest's header so that a failure can be replayed with `make test SEED=...`."""

import os

from hypothesis import HealthCheck, settings

EXAMPLES_PER_OP = int(os.environ.get("EXAMPLES_PER_OP", "100"))

settings.register_profile("ci", deadline=None, max_examples=EXAMPLES_PER_OP, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, max_examples=15)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes seconds (trains a demo, runs a subprocess); `make check` skips it")
    config.addinivalue_line("markers", "browser: drives headless Chromium; `make check` skips it")


def pytest_collection_modifyitems(config, items):
    for item in items:  # every test that uses the browser fixture is a browser test
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker("browser")


def pytest_report_header(config):
    seed = config.getoption("hypothesis_seed", None)
    return [f"hypothesis seed: {seed if seed is not None else 'random (pass --hypothesis-seed=N to fix it)'}, "
            f"examples per property: {settings().max_examples}"]


# ---- a real browser: Debian's chromium driven through chromedriver (.ci/run installs both) ----

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = Path(os.environ.get("TL_TEST_ARTEFACTS", ROOT / "test-artefacts"))  # screenshots; not in git


class Browser:
    """A headless Chromium at a chosen width, keeping what the pages log to the console."""

    def __init__(self, driver):
        self.driver = driver

    def open(self, url: str, width: int, height: int = 900):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        self.driver.get("about:blank")
        self.driver.get_log("browser")  # start with an empty console
        self.driver.get(url)
        return self.driver

    def errors(self) -> list:
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def run(self, script: str):
        return self.driver.execute_script(script)

    def sideways(self) -> int:
        """How far the page body scrolls sideways (0: never)."""
        return self.run("return document.documentElement.scrollWidth - document.documentElement.clientWidth")

    def screenshot(self, name: str) -> Path:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / name
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture(scope="session")
def browser():
    chromium, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not (chromium and driver):
        message = "chromium and chromedriver are needed (apt-get install chromium chromium-driver; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a missing browser is a failure, never a silent skip
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    yield Browser(chrome)
    chrome.quit()


# ---- one run of the demos per test session: the slowest thing the suite does, shared by the tests of its output ----

import subprocess  # noqa: E402
import sys  # noqa: E402


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory):
    """`tinygrad-lite demo all --out DIR` (narrated, plots written) and `demo all --json`, each run once."""
    out = tmp_path_factory.mktemp("demo")
    command = [sys.executable, "-m", "tinygrad_lite", "demo", "all"]
    narrated = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True)
    json_run = subprocess.run([*command, "--json"], capture_output=True, text=True)
    return {"out": out, "command": command, "narrated": narrated, "json": json_run}
