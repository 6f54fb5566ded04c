"""The programs some tests run for real (Dovecot, openssl, Chromium), which `make test` installs
(scripts/system-deps). A test whose program is missing fails, saying how to install it; only
with REPLYBENCH_SKIP_SYSTEM_TESTS=1, asked for in so many words, is it skipped instead, and the
run's summary counts those skips (tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

OPT_OUT = "REPLYBENCH_SKIP_SYSTEM_TESTS"
SKIP_REASON = f"{OPT_OUT}=1 and a program is missing"  # the start of every such skip's reason
# The same paths and packages as scripts/system-deps (a test holds the two in step).
DOVECOT = Path("/usr/sbin/dovecot")
CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, never Playwright's own download (`playwright install`).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PACKAGES = {"dovecot": "dovecot-imapd", "openssl": "openssl", "chromium": "chromium"}


def opted_out() -> bool:
    return os.environ.get(OPT_OUT) == "1"


def require(program: str) -> None:
    """Fail the calling test when `program` (a key of PACKAGES) is missing, or skip it when the
    person running the tests opted out."""
    found = {
        "dovecot": DOVECOT.exists(),
        "chromium": CHROMIUM.exists(),
        "openssl": shutil.which("openssl") is not None,
    }[program]
    if found:
        return
    package = PACKAGES[program]
    if opted_out():
        pytest.skip(f"{SKIP_REASON}: {package}")
    pytest.fail(
        f"{program} is not installed: run `make system-deps` (as root) or "
        f"`sudo apt-get install -y {package}`; or set {OPT_OUT}=1 to skip the tests that need it",
        pytrace=False,
    )


def uv() -> str:
    """uv (a dev dependency, which installs from uv.lock): beside this Python, or on PATH."""
    here = Path(sys.executable).parent
    found = shutil.which("uv", path=f"{here}{os.pathsep}{os.environ['PATH']}")
    assert found is not None, "uv is a dev dependency: `make` installs it"
    return found


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (installed by make test, or the test stops)."""
    require("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
