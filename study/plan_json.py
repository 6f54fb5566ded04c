"""The plan as text: a deterministic JSON array, and counts for a quick look at the design."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields
from datetime import datetime
from enum import Enum

from study.model import PlannedProbe
from study.timeutil import iso


def plan_summary(plan: list[PlannedProbe]) -> dict[str, dict[str, int]]:
    """Probes by country, slot, script and round; keys sorted (rounds in numeric order)."""
    by_round = Counter(p.round for p in plan)
    return {
        "country": _sorted(Counter(p.country for p in plan)),
        "round": {str(r): by_round[r] for r in sorted(by_round)},
        "script": _sorted(Counter(p.script for p in plan)),
        "slot": _sorted(Counter(p.slot for p in plan)),
    }


def plan_json(plan: list[PlannedProbe]) -> str:
    """The plan as a JSON array in (scheduled_at, probe_id) order: same plan, same bytes."""
    rows = []
    for p in sorted(plan, key=lambda p: (p.scheduled_at, p.probe_id)):
        row: dict[str, object] = {}
        for f in fields(p):
            value = getattr(p, f.name)
            if f.name == "persona" and not value:
                continue  # a study without personas: its plan, and digest, as before them
            if isinstance(value, datetime):
                value = iso(value)
            elif isinstance(value, Enum):
                value = value.value
            row[f.name] = value
        rows.append(row)
    return json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _sorted(counts: Counter[str]) -> dict[str, int]:
    return {k: counts[k] for k in sorted(counts)}
