"""Small things a new user meets first: --version, the import format's documentation, a
missing study folder, a sending period already over."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from study.cli import app

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
