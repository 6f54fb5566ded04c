"""`separate_windows`: keep one account's observation windows apart where the sending period
allows, and say so where it does not."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from replybench.cli import app
from study.load import load_study
from study.model import PlannedProbe
from study.plan import make_plan
from study.plan_json import plan_json
from study.plan_windows import overlapping_windows
from tests.e2e.multichannel import EXAMPLE
from tests.e2e.studies import global_accounts_study


def test_the_plan_keeps_each_account_s_windows_apart_when_there_is_room(tmp_path: Path) -> None:
    d = global_accounts_study(tmp_path / "s", window_hours=36)
    study = load_study(d)
    assert not study.separate_windows  # off unless asked for
    together = make_plan(study)
    apart = make_plan(replace(study, separate_windows=True))
    assert len(overlapping_windows(together, 36)) > 50
    assert overlapping_windows(apart, 36) == []

    # The design stays: the same probes, rounds, scripts and slots; only the instants move.
    def design(plan: list[PlannedProbe]) -> list[tuple[str, int, str, str, str]]:
        return sorted((p.probe_id, p.round, p.script, p.slot, p.text) for p in plan)

    assert design(apart) == design(together)
    assert all(p.slot_start_at <= p.scheduled_at < p.slot_end_at for p in apart)
    out = CliRunner().invoke(app, ["plan", str(d)]).stdout
    assert "note:" not in out


def test_where_there_is_no_room_plan_and_validate_say_so(tmp_path: Path) -> None:
    d = global_accounts_study(tmp_path / "s", window_hours=48, separate_windows=True)
    plan = make_plan(load_study(d))
    pairs = overlapping_windows(plan, 48)
    assert 0 < len(pairs) < len(overlapping_windows(
        make_plan(replace(load_study(d), separate_windows=False)), 48))  # fmt: skip
    shown = CliRunner().invoke(app, ["plan", str(d)])
    assert shown.exit_code == 0
    [note] = [line for line in shown.stdout.splitlines() if line.startswith("note:")]
    first = pairs[0]
    assert note.startswith(
        f"note: separate_windows: {len(pairs)} pair(s) of probes to 12 account(s) still have "
        f"overlapping windows (e.g. {first[0].probe_id} and {first[1].probe_id}): "
    )
    assert "Lengthen the sending period or shorten window_hours" in note
    checked = CliRunner().invoke(app, ["validate", str(d)])
    assert checked.exit_code == 0 and note in checked.stdout
    assert checked.stdout.strip().endswith("ok: 36 targets (36 probed), 2 scripts, 3 countries")


def test_the_multichannel_example_with_separate_windows(tmp_path: Path) -> None:
    """Two rounds of a week, three countries, 72-hour windows: fewer overlaps, the same
    design; without the key the plan is byte for byte what it was."""
    d = tmp_path / "m"
    shutil.copytree(EXAMPLE, d)
    before = plan_json(make_plan(load_study(d)))
    toml = d / "study.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("min_spacing_hours = 2", "min_spacing_hours = 2\n"
                                 "separate_windows = false"), encoding="utf-8")  # fmt: skip
    assert plan_json(make_plan(load_study(d))) == before
    toml.write_text(text.replace("min_spacing_hours = 2", "min_spacing_hours = 2\n"
                                 "separate_windows = true"), encoding="utf-8")  # fmt: skip
    apart = make_plan(load_study(d))
    together = len(overlapping_windows(make_plan(load_study(EXAMPLE)), 72))
    assert len(overlapping_windows(apart, 72)) < together


def test_a_wrong_value_is_one_line_naming_the_key(tmp_path: Path) -> None:
    d = global_accounts_study(tmp_path / "s")
    toml = d / "study.toml"
    toml.write_text(
        re.sub(r"separate_windows = \w+", 'separate_windows = "yes"', toml.read_text("utf-8")),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", str(d)])
    assert result.exit_code == 1
    assert "separate_windows must be true or false, not 'yes'" in result.output
