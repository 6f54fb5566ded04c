"""The personas example (data/examples/personas) end to end through the command line, on one
simulator as `replybench sim` serves it: `replybench run` of all four personas, and in a copy
three `run --persona` runs (the two German personas in one, each American persona in its
own) joined by `replybench merge`. The merged journal holds the one run's probes and replies;
`analyze` and `report` on it find the built-in persona effect with its interval, and the method
page states the balanced design and the ethics approval. Time is the test's (SharedClock)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from study.paths import journal_path
from tests.e2e.personas import POLLING, example_copy, run_cli
from tests.e2e.test_personas_merge import rows
from tests.reports.test_personas import FOUND
from tests.test_cli import invoke

# Three researchers' runs: Germany's two personas from one machine, each American on their own.
SHARES = (("lena", "jonas"), ("maya",), ("tyler",))


@pytest.mark.slow
def test_the_example_split_and_merged_equals_one_run_and_shows_the_effect(
    tmp_path: Path,
) -> None:
    base = example_copy(tmp_path / "base")
    whole = tmp_path / "all"
    shutil.copytree(base, whole)
    out = run_cli(whole, config=POLLING)
    assert out.startswith("campaign over: closed 128;"), out

    parts = []
    for i, names in enumerate(SHARES):
        parts.append(tmp_path / f"part{i}")
        shutil.copytree(base, parts[-1])
        run_cli(parts[-1], *names, config=POLLING)
    code, out, err = invoke("merge", str(base), *(str(journal_path(p)) for p in parts))
    assert code == 0, err
    probes, replies = rows(base)
    assert len(probes) == 128 and all(p[2] == "closed" for p in probes)
    assert {p[1] for p in probes} == {"lena", "jonas", "maya", "tyler"}
    assert replies
    assert (probes, replies) == rows(whole)  # the same probes and replies as the one run

    code, out, err = invoke("analyze", str(base), "--json", str(tmp_path / "metrics.json"))
    assert code == 0, err
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    [effect] = metrics["persona_effects"]["persona_followers"]["effects"]
    assert (effect["level"], effect["reference"], effect["brands"]) == ("5000", "40", 16)
    assert 0 < effect["difference_low"] < effect["difference"] < effect["difference_high"]
    [(points, low, high)] = FOUND.findall(out)  # the terminal says it in words too
    assert 0 < int(low) <= int(points) <= int(high)

    site = tmp_path / "site"
    code, out, err = invoke("report", str(base), "--out", str(site))
    assert code == 0, err
    index = (site / "index.html").read_text(encoding="utf-8").replace("&#39;", "'")
    assert FOUND.findall(index) == [(points, low, high)]  # the site says what analyze said
    method = (site / "methodology.html").read_text(encoding="utf-8")
    assert "Balanced (an audit design): every brand was asked equally often" in method
    assert "No persona asked one brand more than 2 times." in method
    assert "REC-2026-014" in method and "(reference REC-2026-014) on 2026-01-15." in method
