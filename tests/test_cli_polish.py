"""Small things a new user meets first: --version, the import format's documentation, a
missing study folder, a sending period already over."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from replybench.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_help_and_the_readme_point_to_the_format() -> None:
    code, out, _ = invoke("import", "--help")
    assert code == 0 and "docs/import.md" in out
    assert "(docs/import.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    doc = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    for column in ("brand", "country", "channel", "sent_at", "replied_at", "reply_kind"):
        assert f"| `{column}` |" in doc


def test_a_missing_study_folder_is_called_missing(tmp_path: Path) -> None:
    d = tmp_path / "no-such-study"
    for args in (("status", str(d)), ("export", str(d), "probes"), ("analyze", str(d))):
        code, _, err = invoke(*args)
        assert code == 1, args
        assert err.strip() == (
            f"Error: {d}: does not exist; check the path: give the study folder (the one that "
            "holds study.toml, or journal/ after an import)"
        ), args
    assert not d.exists()


def test_version_is_the_one_pyproject_declares() -> None:
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    code, out, _ = invoke("--version")
    assert code == 0
    assert out == f"replybench {declared['project']['version']}\n"


def study_in(tmp_path: Path, year: int) -> Path:
    """A `replybench init` study moved to `year` (its sending period is in March)."""
    d = tmp_path / f"study-{year}"
    assert invoke("init", str(d))[0] == 0
    toml = d / "study.toml"
    text = toml.read_text(encoding="utf-8").replace("start = 2026-", f"start = {year}-")
    toml.write_text(text.replace("end = 2026-", f"end = {year}-"), encoding="utf-8")
    return d


def test_plan_and_validate_warn_when_the_sending_period_is_over(tmp_path: Path) -> None:
    past = study_in(tmp_path, 2001)  # before any clock this test runs on; New York on EST
    for args in (("validate", str(past)), ("plan", str(past)), ("plan", str(past), "--json")):
        code, out, err = invoke(*args)
        assert code == 0, args
        [warning] = err.splitlines()
        assert warning.startswith(
            "warning: the sending period (2001-03-02 to 2001-03-22) ended at 2001-03-23 05:00 "
            "UTC, before now ("
        ), args
        assert "move start and end in study.toml to future dates" in warning
        assert "warning" not in out
    future = study_in(tmp_path, 2098)
    for args in (("validate", str(future)), ("plan", str(future))):
        code, _, err = invoke(*args)
        assert (code, err) == (0, ""), args
