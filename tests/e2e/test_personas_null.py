"""With no persona effect built into the simulator, the whole chain (plan, simulated X per
persona, runner, journal, analysis) finds none: the persona effect's 95% interval covers zero
in most studies. The counterpart of tests/reports/test_personas.py's example, whose built-in
effect is found with an interval above zero."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import anyio
import pytest

from analysis import analyze
from tests.e2e.personas import example_copy, run_personas

SEEDS = range(10)


def without_effect(study: Path, seed: int) -> Path:
    """The personas example with the simulator's persona preferences taken out (every
    [personas.*] and [brands.*.personas.*] table), the study's seed set to `seed`."""
    sim = study / "simulator.toml"
    kept, keep = [], True
    for line in sim.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            keep = not re.match(r"\[(brands\.[^.\]]+\.)?personas\.", line)
        if keep:
            kept.append(line)
    sim.write_text("\n".join(kept) + "\n", encoding="utf-8")
    toml = study / "study.toml"
    text, n = re.subn(r"(?m)^seed = \d+$", f"seed = {seed}", toml.read_text(encoding="utf-8"))
    assert n == 1
    toml.write_text(text, encoding="utf-8")
    return study


@pytest.mark.slow
def test_with_no_built_in_effect_the_interval_covers_zero(tmp_path: Path) -> None:
    # A 95% interval misses zero in half a study of ten on average; three or more misses
    # would happen about once in a hundred sets of ten (and the seeds are fixed).
    covered, differences = 0, []
    for seed in SEEDS:
        study = without_effect(example_copy(tmp_path / f"s{seed}"), seed)
        sim = tomllib.loads((study / "simulator.toml").read_text(encoding="utf-8"))
        assert "personas" not in sim and not any("personas" in b for b in sim["brands"].values())
        anyio.run(run_personas, study)
        effects = analyze(study, replicates=20)["persona_effects"]
        [effect] = effects["persona_followers"]["effects"]
        assert effect["brands"] == 16 and effect["probes"] == 128  # every probe was sent
        covered += effect["difference_low"] <= 0 <= effect["difference_high"]
        differences.append(effect["difference"])
    assert covered >= 8, differences
    # No bias either way: the differences average near zero (the example's is about 0.31).
    assert abs(sum(differences) / len(differences)) < 0.1, differences
