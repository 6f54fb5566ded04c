"""Shared fixtures: the example study, a fresh copy of it, and a manual clock."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from study.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "examples" / "uxalliance"
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"


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
