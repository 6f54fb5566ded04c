"""The set-up a fresh machine trusts: `make test` installs the programs the tests run or says
how, a test whose program is missing fails unless skipping was asked for, the Python packages
come from the lock file, and the wheel carries the example studies."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.system import CHROMIUM, DOVECOT, OPT_OUT, PACKAGES, uv

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_DEPS = ROOT / "scripts" / "system-deps"
ENV = {k: v for k, v in os.environ.items() if not k.startswith("REPLYBENCH_")}
# `make -n` as a person types it, also when the tests themselves run under make.
MAKE_ENV = {k: v for k, v in ENV.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}

NEEDS_SERVERS = """
from pathlib import Path

import tests.system as system
from tests.probes.mailservers import dovecot
from tests.reports.test_browser import browser

system.DOVECOT = Path("/nonexistent/dovecot")
system.CHROMIUM = Path("/nonexistent/chromium")


def test_runs_dovecot():
    with dovecot():
        pass


def test_runs_chromium(browser):
    pass


def test_needs_nothing():
    pass
"""


def run_inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.RunResult:
    """The e-mail and browser tests' own fixtures, on a machine without Dovecot or Chromium."""
    pytester.makepyfile(test_inner=NEEDS_SERVERS)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return pytester.runpytest_subprocess("-p", "tests.conftest", "-p", "no:cacheprovider")


def test_a_missing_program_fails_its_test_and_says_how_to_install_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(OPT_OUT, raising=False)
    result = run_inner(pytester, monkeypatch)
    result.assert_outcomes(passed=1, failed=1, errors=1)  # the browser fixture errs
    for program, package in (("dovecot", "dovecot-imapd"), ("chromium", "chromium")):
        result.stdout.fnmatch_lines(
            [f"{program} is not installed: run `make system-deps` (as root) or `sudo apt-get "
             f"install -y {package}`; or set REPLYBENCH_SKIP_SYSTEM_TESTS=1 to skip the tests "
             "that need it"]
        )  # fmt: skip


def test_skipping_takes_the_opt_out_and_the_summary_counts_the_skips(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OPT_OUT, "1")
    result = run_inner(pytester, monkeypatch)
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        ["2 tests skipped because REPLYBENCH_SKIP_SYSTEM_TESTS=1 and these programs are "
         "missing: chromium, dovecot-imapd (make system-deps installs them)"]
    )  # fmt: skip


def fake_bin(tmp_path: Path, uid: int) -> Path:
    """`id` answering `uid`, and an `apt-get` that notes its arguments instead of installing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "apt.log"}\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return bin_dir


def system_deps(tmp_path: Path, uid: int, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **ENV,
        "PATH": f"{fake_bin(tmp_path, uid)}:{os.environ['PATH']}",
        "DOVECOT_BIN": str(tmp_path / "no-dovecot"),
        "CHROMIUM_BIN": str(CHROMIUM),
        **extra,
    }
    return subprocess.run([str(SYSTEM_DEPS)], env=env, capture_output=True, text=True, timeout=60)


def test_system_deps_installs_what_is_missing_when_root_with_apt(tmp_path: Path) -> None:
    done = system_deps(tmp_path, 0, CHROMIUM_BIN=str(tmp_path / "no-chromium"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == [
        "update -qq",
        "install -y -qq dovecot-imapd chromium",
    ]


def test_system_deps_stops_at_once_with_the_command_when_it_cannot_install(
    tmp_path: Path,
) -> None:
    done = system_deps(tmp_path, 1000)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "The tests run programs this machine lacks: dovecot-imapd. Install them with:",
        "  sudo apt-get install -y dovecot-imapd",
        "or skip the tests that need them: REPLYBENCH_SKIP_SYSTEM_TESTS=1 make test",
    ]
    assert not (tmp_path / "apt.log").exists()


def test_system_deps_installs_nothing_with_the_opt_out(tmp_path: Path) -> None:
    done = system_deps(tmp_path, 0, REPLYBENCH_SKIP_SYSTEM_TESTS="1")
    assert (done.returncode, done.stderr) == (0, "")
    assert not (tmp_path / "apt.log").exists()


def test_system_deps_and_the_tests_look_for_the_same_programs() -> None:
    script = SYSTEM_DEPS.read_text(encoding="utf-8")
    assert f'"${{DOVECOT_BIN:-{DOVECOT}}}"' in script
    assert f'"${{CHROMIUM_BIN:-{CHROMIUM}}}"' in script
    assert all(f"need+=({package})" in script for package in PACKAGES.values())


def test_make_test_installs_the_programs_and_ci_runs_make_test() -> None:
    done = subprocess.run(
        ["make", "-n", "test", f"VENV={ROOT / 'no-such-venv'}"],
        cwd=ROOT, env=MAKE_ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "scripts/system-deps"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1] == "make test" and "  apt-get install -y -qq make" in ci


def test_the_lock_pins_exactly_what_pyproject_asks_for() -> None:
    """uv.lock matches pyproject.toml (after editing the dependencies: make lock); checked
    offline, from the two files alone."""
    done = subprocess.run(
        [uv(), "lock", "--check", "--offline", "--python", sys.executable],
        cwd=ROOT, env={**ENV, "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_makefile_installs_from_the_lock(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    done = subprocess.run(
        ["make", "-n", f"{venv}/.installed-stamp", f"VENV={venv}"],
        cwd=ROOT, env=MAKE_ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    install = [line for line in done.stdout.splitlines() if " sync " in line]
    assert len(install) == 1 and "uv sync --locked --all-extras" in install[0]
    assert "pip install -e" not in done.stdout


def test_the_wheel_carries_the_example_studies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        shipped = {n for n in z.namelist() if n.startswith("data/")}
    examples = {p.relative_to(ROOT).as_posix() for p in (ROOT / "data").rglob("*") if p.is_file()}
    assert "data/examples/uxalliance/study.toml" in examples
    assert shipped == examples
