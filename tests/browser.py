"""Headless Chromium for the tests that look at a page the way a person does.

``open_page(path)`` loads a local HTML file in Debian's Chromium (``/usr/bin/chromium``, driven through
``/usr/bin/chromedriver`` by Selenium) with the network switched off, and yields a :class:`Page`: the
Selenium driver, the console messages the page logged, and a ``screenshot(path)`` helper.

CI installs Chromium (``.ci/run``) and sets ``GANKIT_REQUIRE_BROWSER=1``, so there a missing browser is a
failure; on a machine without it the browser tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("GANKIT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("GANKIT_CHROMEDRIVER", "/usr/bin/chromedriver")

# What the machine's closed network needs (no background connections, no first-run, no GPU).
_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1600",
)


def browser_missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def require_browser() -> None:
    """Skip the calling test where there is no browser, unless GANKIT_REQUIRE_BROWSER=1 (CI): then fail."""
    why = browser_missing()
    if why is None:
        return
    if os.environ.get("GANKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {why}")
    pytest.skip(why)


@dataclass
class Page:
    """A loaded page: ``driver`` (Selenium WebDriver) and what its console said."""

    driver: Any

    def console(self) -> list[dict]:
        """Console entries logged since the last call (level, message)."""
        return list(self.driver.get_log("browser"))

    def errors(self) -> list[str]:
        """Console errors (level SEVERE) logged since the last call: JavaScript exceptions, failed loads."""
        return [entry["message"] for entry in self.console() if entry.get("level") == "SEVERE"]

    def find(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def run(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def screenshot(self, path: str | Path) -> Path:
        path = Path(path)
        self.driver.save_screenshot(str(path))
        return path


@contextlib.contextmanager
def open_page(path: str | Path, timeout_s: float = 20.0) -> Iterator[Page]:
    """Open ``path`` (a local HTML file) in headless Chromium; the browser closes when the block ends."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="gankit-chromium-") as profile:
        for flag in _FLAGS + (f"--user-data-dir={profile}",):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        try:
            driver.set_page_load_timeout(timeout_s)
            driver.get(Path(path).resolve().as_uri())
            yield Page(driver)
        finally:
            driver.quit()
