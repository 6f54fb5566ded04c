"""The layout holds: the import contracts in pyproject.toml keep every room to its own
imports (and break when one reaches across), and every path README.md and docs/ name exists."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("replybench", "study", "probes", "analysis", "reports")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = "|".join((*PACKAGES, "data", "tests", "benchmarks", "docs", "scripts"))
# A path from the repository's root, as prose or code names it: `probes/channels/<kind>/`,
# `analysis/sql/*.sql`, `probes/sim/{x,mastodon,bluesky}/` (not .venv/bin/... nor a URL).
REPO_PATH = re.compile(rf"(?<![\w./~-])(?:{TOP})/[\w./<>*{{}},-]*")
MARKDOWN_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)#\s]+)")


def lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` (a dev dependency, beside this Python) on the project in `cwd`."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "import-linter is a dev dependency: `make` installs it"
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [exe, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_import_contracts_hold() -> None:
    done = lint_imports(ROOT, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Contracts: [1-9]\d* kept, 0 broken", done.stdout), done.stdout


@pytest.mark.parametrize(
    ("room", "line", "broken"),
    [
        ("study", "from probes import channels", "study imports nothing of the project"),
        ("probes", "import analysis.sql", "probes, analysis and reports do not import each other"),
        ("reports", "from replybench import cli", "only replybench (the command line)"),
        ("analysis", "import httpx", "network code (httpx) only in probes"),
        ("probes", "import duckdb", "SQL in DuckDB only in analysis"),
        ("replybench", "import matplotlib", "templates and charts (jinja2, matplotlib)"),
        ("replybench", "import analysis.sql, probes.channels, reports.render", None),
    ],
)
def test_an_import_across_the_rooms_breaks_its_contract(
    tmp_path: Path, room: str, line: str, broken: str | None
) -> None:
    """The contracts of pyproject.toml on a tree of empty packages with one import added, made
    inside a function (lazy imports count); the last case is one the layers allow."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "analysis" / "sql.py").write_text("")
    (tmp_path / "probes" / "channels.py").write_text("")
    (tmp_path / "reports" / "render.py").write_text("")
    (tmp_path / "replybench" / "cli.py").write_text("")
    (tmp_path / room / "reach.py").write_text(f"def reach() -> None:\n    {line}\n")
    done = lint_imports(tmp_path, tmp_path)
    if broken is None:
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        assert done.returncode == 1, done.stdout + done.stderr
        assert re.search(rf"^{re.escape(broken)}.* BROKEN$", done.stdout, re.M), done.stdout
        assert f"{room}.reach -> " in done.stdout


def named_paths(doc: Path) -> list[tuple[int, str, Path]]:
    """Each path `doc` names, with its line: repository paths anywhere in the text, and the
    targets of its relative Markdown links."""
    text = doc.read_text(encoding="utf-8")
    found = [(m.start(), m.group(0).rstrip(".,"), ROOT) for m in REPO_PATH.finditer(text)]
    found += [(m.start(), m.group(1), doc.parent) for m in MARKDOWN_LINK.finditer(text)]
    return sorted({(text.count("\n", 0, at) + 1, path, base) for at, path, base in found})


def exists(path: str, base: Path) -> bool:
    """A placeholder (`<kind>`, `KIND`, `{x,y}`) stands for folders below the part before it;
    a glob must match something."""
    fixed = re.split(r"[<{]|(?<=/)[A-Z][A-Z_]*(?=/)", path)[0]
    if fixed != path:
        return (base / fixed).exists()
    return any(base.glob(path)) if "*" in path else (base / path).exists()


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.relative_to(ROOT).as_posix())
def test_every_path_the_docs_name_exists(doc: Path) -> None:
    named = named_paths(doc)
    assert named or doc.name != "README.md"  # the pattern still finds README's paths
    missing = [f"{doc.name}:{n}: {path}" for n, path, base in named if not exists(path, base)]
    assert not missing, "paths named but not in the repository:\n" + "\n".join(missing)
