"""What produced a publication: `data/manifest.json`, beside the data files it vouches for.

A reader who wants to reproduce a figure needs the same inputs and the same software: the
replybench version, the Python version and those of the libraries that computed or drew the
figures, the study folder's fingerprint (a SHA-256 over its design files and its journal's
plan digest), the as-of time, the bootstrap seed and replicates, and the SHA-256 of every
data file. Nothing here reads a clock: the same inputs and versions give the same bytes.
"""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from study.journal.tables import read_meta_value

MANIFEST_FILE = "manifest.json"
# Distributions whose code computes or draws what the site shows (by their PyPI names).
LIBRARIES = (
    "duckdb",
    "jinja2",
    "lingua-language-detector",
    "matplotlib",
    "numpy",
    "pandas",
    "pyarrow",
    "tzdata",
)
# The study folder's own files that fix the design (study.toml names the probe accounts:
# only its digest is published, never its text).
DESIGN_INPUTS = ("study.toml", "targets.csv", "scripts.csv", "simulator.toml")


def installed(name: str) -> str | None:
    """The installed version of distribution `name`, or None when it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def fingerprint(study_dir: Path) -> dict[str, Any]:
    """The SHA-256 of each design file present and of the journal's plan, and one digest
    over them all (`sha256`), which changes when any of them does."""
    parts: dict[str, str] = {}
    for name in DESIGN_INPUTS:
        path = study_dir / name
        if path.is_file():
            parts[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    plan = read_meta_value(study_dir, "plan_sha256")
    if plan is not None:
        parts["plan"] = plan
    joined = "\n".join(f"{k} {v}" for k, v in sorted(parts.items()))
    return {"files": parts, "sha256": hashlib.sha256(joined.encode("utf-8")).hexdigest()}


def manifest(
    study_dir: Path,
    *,
    as_of: str,
    replicates: int,
    seed: int,
    contents: dict[str, bytes],
) -> dict[str, Any]:
    """The manifest of a publication whose data files are `contents` (name -> bytes)."""
    return {
        "replybench": installed("replybench"),
        "python": platform.python_version(),
        "libraries": {name: installed(name) for name in LIBRARIES},
        "study": fingerprint(study_dir),
        "as_of": as_of,
        "bootstrap": {"replicates": replicates, "seed": seed},
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(contents.items())
        },
    }
