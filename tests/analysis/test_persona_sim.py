"""The persona effect on simulated audit studies: a built-in effect is found, and with none
the interval covers zero about as often as a 95% interval should."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.persona_effect import persona_effects
from analysis.power import inquiries_per_persona

BRANDS = 40
PER_BRAND = 12  # inquiries per brand and persona: 480 per persona, 960 in all
WINDOW = 72.0


def audit_study(seed: int, effect: float) -> pd.DataFrame:
    """A balanced audit design: every brand asked PER_BRAND times by each of personas a and
    b. Brands answer 25-75% of inquiries (b's `effect` more), after exponential times with
    brand medians of 1-24 hours; what is not answered within the window is censored there."""
    rng = np.random.default_rng(seed)
    brand = np.repeat(np.arange(BRANDS), 2 * PER_BRAND)
    persona = np.tile(np.repeat(["a", "b"], PER_BRAND), BRANDS)
    rate = rng.uniform(0.25, 0.75, BRANDS)[brand] + np.where(persona == "b", effect, 0.0)
    median = rng.uniform(1, 24, BRANDS)[brand]
    hours = rng.exponential(median / np.log(2))
    observed = (rng.random(len(brand)) < rate) & (hours < WINDOW)
    return pd.DataFrame(
        {
            "brand": [f"brand-{i}" for i in brand],
            "persona": persona,
            "observed": observed,
            "duration_hours": np.where(observed, hours, WINDOW),
        }
    )


def test_the_design_has_the_power_to_find_ten_points() -> None:
    # 10 points around 50% need 388 inquiries per persona for 80% power; the design has 480
    assert inquiries_per_persona(0.5, 0.10) == 388 < BRANDS * PER_BRAND


def test_a_ten_point_effect_is_found() -> None:
    result = persona_effects(audit_study(seed=2026, effect=0.10), reference="a")
    [effect] = result.effects
    assert effect.brands == BRANDS and effect.probes == 2 * BRANDS * PER_BRAND
    assert effect.difference_low is not None and effect.difference_low > 0
    assert effect.difference_high is not None and effect.difference_high > 0.10 - 0.06
    assert effect.cmh_p is not None and effect.cmh_p < 0.05
    assert result.unknown == 0


def test_power_over_fifty_studies() -> None:
    # Power about 0.87 for this design (normal approximation): 43 of 50 expected; fewer
    # than 38 would happen by chance about once in a hundred runs of fifty.
    found = 0
    for seed in range(50):
        [effect] = persona_effects(audit_study(seed, 0.10), reference="a").effects
        assert effect.difference_low is not None
        found += effect.difference_low > 0
    assert found >= 38


def test_no_effect_is_covered_in_most_studies() -> None:
    # A 95% interval misses zero in 2.5 of 50 studies on average; 7 or more misses would
    # happen about once in a hundred runs of fifty. The same for the log-rank test's p.
    covered = quiet = 0
    for seed in range(100, 150):
        [effect] = persona_effects(audit_study(seed, 0.0), reference="a").effects
        assert effect.difference_low is not None and effect.difference_high is not None
        covered += effect.difference_low <= 0 <= effect.difference_high
        assert effect.logrank_p is not None
        quiet += effect.logrank_p >= 0.05
    assert covered >= 44
    assert quiet >= 44
