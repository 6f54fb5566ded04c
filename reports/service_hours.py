"""A company page's answers inside and outside the service hours the brand states."""

from __future__ import annotations

from typing import Any

from reports.context import Cell, StatedHours, Table
from reports.fmt import count, hours, pct, pct_range
from reports.view import View, rate_cells

SIDE_NAMES = {"inside": "Inside its stated hours", "outside": "Outside its stated hours"}


def stated_hours(v: View, brand: str) -> StatedHours | None:
    """The brand's stated-hours figures, or None when none of its targets states hours."""
    rows = [r for r in v.data.breakdowns.get("brand_service_hours") or () if r["brand"] == brand]
    if not rows:
        return None
    by_side = {r["side"]: r for r in rows}
    said = []
    for side in ("inside", "outside"):
        r = by_side.get(side)
        label = "inside its stated hours" if side == "inside" else "outside"
        said.append(f"{label}: {pct(r['response_rate']) if r else 'no probe sent'}")
    sentence = "Answered " + "; ".join(said) + "."
    stated = tuple(
        f"{v.country(t['country'])} ({t['channel']}): {t['service_hours']}, local time"
        for t in v.data.design.get("targets") or ()
        if t["brand"] == brand and t.get("service_hours")
    )
    return StatedHours(sentence, stated, _table(v.name(brand), by_side))


def _table(name: str, by_side: dict[str, dict[str, Any]]) -> Table:
    head = (
        Cell("Inquiry sent"),
        Cell("Probes", num=True),
        Cell("Answered", num=True),
        Cell("Response rate (95% CI)", num=True),
        Cell("Median time (95% CI)", num=True),
        Cell("Mean time (to the window)", num=True),
    )
    rows = []
    for side, r in sorted(by_side.items(), key=lambda kv: kv[0] != "inside"):
        rate, median = rate_cells(r)
        rows.append(
            (
                Cell(SIDE_NAMES[side], header=True),
                Cell(str(r["probes"]), num=True),
                Cell(str(r["answered"]), num=True),
                rate,
                median,
                Cell(hours(r["restricted_mean_hours"]), num=True),
            )
        )
    total = sum(r["probes"] for r in by_side.values())
    note = (
        f"{count(total, 'probe')} to accounts that state service hours, split by the local "
        "time they were sent; probes to accounts stating none are not in this table."
    )
    caption = f"{name} inside and outside the service hours it states"
    return Table(caption, head, tuple(rows), note + _gap(by_side))


def _gap(by_side: dict[str, dict[str, Any]]) -> str:
    i, o = by_side.get("inside"), by_side.get("outside")
    if i is None or o is None:
        return ""
    apart = (
        i["response_rate_low"] is not None
        and o["response_rate_high"] is not None
        and (i["response_rate_low"] > o["response_rate_high"]
             or o["response_rate_low"] > i["response_rate_high"])
    )  # fmt: skip
    ci = f"({pct_range(i['response_rate_low'], i['response_rate_high'])} against "
    ci += f"{pct_range(o['response_rate_low'], o['response_rate_high'])})"
    return (
        f" The two response rates' 95% intervals {'do not overlap' if apart else 'overlap'} {ci}."
    )
