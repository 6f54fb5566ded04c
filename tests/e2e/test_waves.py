"""Two waves of a small study run on the simulator (in-process, manual clock), the second
with one brand's answer rate cut: `compare` finds that change and (nearly) no other."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replybench.cli import app
from study.waves import new_wave
from tests.e2e.studies import short_study
from tests.e2e.test_campaign import campaign

pytestmark = pytest.mark.anyio

CHANGED = "acorn"


def two_waves(tmp: Path) -> tuple[Path, Path]:
    """Four brands x two countries, three probes each (six per brand) in 6-hour windows; the
    second wave made by new_wave, with acorn answering 5% instead of 95%."""
    one = short_study(tmp / "wave-1", brands=4)
    toml = one / "study.toml"
    text = re.sub(r"probes_per_target = \d+", "probes_per_target = 3", toml.read_text())
    toml.write_text(re.sub(r"end = 2026-03-03", "end = 2026-03-05", text))
    bots = one / "simulator.toml"
    bots.write_text(
        bots.read_text() + f"\n[brands.{CHANGED}]\nanswer_rate = 0.95\n", encoding="utf-8"
    )
    two = new_wave(one, tmp / "wave-2").folder
    bots = two / "simulator.toml"
    bots.write_text(bots.read_text().replace("answer_rate = 0.95", "answer_rate = 0.05"))
    return one, two


async def test_compare_finds_the_brand_whose_answers_changed(tmp_path: Path) -> None:
    one, two = two_waves(tmp_path)
    for folder in (one, two):
        _, journal, _ = await campaign(folder)
        journal.close()
    out = tmp_path / "changes.json"
    done = CliRunner().invoke(
        app, ["compare", str(one), str(two), "--json", str(out), "--replicates", "200"]
    )
    assert done.exit_code == 0, done.output
    assert "what changed" in done.output
    result = json.loads(out.read_text())
    assert result["old"]["wave"] == 1 and result["new"]["wave"] == 2
    rates = {r["brand"]: r["response_rate"] for r in result["changes"]["brand"]}
    assert set(rates) == {"acorn", "birch", "cedar", "dune"}
    assert rates[CHANGED]["change"] < -0.5
    assert rates[CHANGED]["high"] < 0 and rates[CHANGED]["excludes_zero"]
    others = [b for b, r in rates.items() if b != CHANGED and r["excludes_zero"]]
    assert others == []
    assert [r["probes"] for r in (result["changes"]["overall"][0]["old"],)] == [24]
