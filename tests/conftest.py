"""Shared fixtures: the example study, a fresh copy of it, and a manual clock; and the
summary line that counts the tests skipped for want of a program (tests/system.py)."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from probes.sim.x.auth import SIM_APP
from study.clock import ManualClock
from tests.system import OPT_OUT, SKIP_REASON, uv

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "examples" / "uxalliance"
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
# The simulator's own X app (docs/simulator.md), exported in the four variables the example
# studies' [channels.x] names (OAuth 1.0a user context), as a researcher would export theirs.
SIM_X_ENV = {
    "REPLYBENCH_X_CONSUMER_KEY": SIM_APP.consumer_key,
    "REPLYBENCH_X_CONSUMER_SECRET": SIM_APP.consumer_secret,
    "REPLYBENCH_X_ACCESS_TOKEN": SIM_APP.access_token,
    "REPLYBENCH_X_ACCESS_TOKEN_SECRET": SIM_APP.access_token_secret,
}

# The runs in the tests keep Bluesky sessions and X tokens in a token store; where no test
# names one ($REPLYBENCH_STATE_DIR), platformdirs' user state dir is under $XDG_STATE_HOME:
# a temporary folder, set before any test module copies the environment for a subprocess,
# never the home folder of the person running the tests.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="replybench-tests-state-")
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], ignore_errors=True)


@pytest.fixture
def example_dir() -> Path:
    return EXAMPLE


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A private copy of the example study, safe to run and to break."""
    dest = tmp_path / "study"
    shutil.copytree(EXAMPLE, dest)
    return dest


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    yield ManualClock(datetime(2026, 3, 2, tzinfo=UTC))


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (anyio's pytest plugin, installed with httpx)."""
    return "asyncio"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests the opt-out skipped, and which programs were missing."""
    skipped = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if isinstance(r.longrepr, tuple) and SKIP_REASON in str(r.longrepr[2])
    ]
    if skipped:
        missing = sorted({str(r.longrepr[2]).rpartition(": ")[2] for r in skipped})
        terminalreporter.write_line(
            f"{len(skipped)} tests skipped because {OPT_OUT}=1 and these programs are missing: "
            f"{', '.join(missing)} (make system-deps installs them)"
        )


# The files a wheel is built from: the packages and what pyproject.toml names.
WHEEL_SOURCES = ("replybench", "study", "probes", "analysis", "reports", "data", "pyproject.toml",
                 "README.md", "LICENSE", "tests/fixtures/NOTICE.md")  # fmt: skip


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """replybench's wheel, built offline by the build backend (setuptools) from a copy of the
    sources, as `pip wheel .` or `uv build` would build it."""
    src = tmp_path_factory.mktemp("wheel-src")
    for name in WHEEL_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    build = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", build, str(out)], cwd=src, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [built] = out.glob("replybench-*.whl")
    return built


@pytest.fixture(scope="session")
def installed_wheel(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed (without dependencies: they are this venv's) into a folder of its
    own, outside any clone: run `FOLDER/bin/replybench` with PYTHONPATH=FOLDER."""
    target = tmp_path_factory.mktemp("installed")
    done = subprocess.run(
        [uv(), "pip", "install", "--no-deps", "--offline", "--python", sys.executable,
         "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return target
