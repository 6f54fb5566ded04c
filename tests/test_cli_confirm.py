"""`replybench run --confirm`: the option's forms (issue 11 item 5; the behaviour is tested in
tests/probes/test_confirm_run.py)."""

from __future__ import annotations

from pathlib import Path

from replybench.cmd_campaign import bare_confirm
from tests.test_cli import invoke


def test_an_unknown_way_to_confirm_is_bad_usage_and_writes_nothing(tmp_path: Path) -> None:
    d = tmp_path / "s"
    invoke("init", str(d))
    before = sorted(p.name for p in d.iterdir())
    code, _, err = invoke("run", str(d), "--confirm=phone")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: --confirm=phone: confirm on the web page (--confirm) or at the terminal "
        "(--confirm=terminal)"
    )
    assert sorted(p.name for p in d.iterdir()) == before


def test_confirm_alone_means_the_web_page(tmp_path: Path) -> None:
    """A bare `--confirm` is `--confirm=web` (replybench's entry point reads it so), and the
    study's checks run as without it."""
    assert bare_confirm(["run", "s", "--confirm"]) == ["run", "s", "--confirm=web"]
    assert bare_confirm(["run", "--confirm", "s"]) == ["run", "--confirm=web", "s"]
    assert bare_confirm(["run", "s", "--confirm", "terminal"]) == ["run", "s", "--confirm",
                                                                    "terminal"]  # fmt: skip
    d = tmp_path / "s"
    invoke("init", str(d))
    code, _, err = invoke("run", str(d), "--confirm=web")
    assert code == 1
    assert err.startswith("Error: refusing to send to https://api.x.com without --live")
    code, out, _ = invoke("run", "--help")
    assert "--confirm" in out
