"""Each brand's answers to inquiries sent inside and outside the service hours it states.

targets.csv's optional `service_hours` (study.service_hours) says when an account claims to
answer, in the country's local time. A probe to such a target was sent `inside` or
`outside` them; the brand's probes on each side get the statistics every group gets
(group_metrics: response rate with its Wilson interval, Kaplan-Meier median with its
interval, restricted mean), so both figures read like the rest of the site.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from analysis.analyze import groups_json
from analysis.metrics import group_metrics
from analysis.outcomes import sql_text
from study.model import Study
from study.service_hours import parse_service_hours

SIDES = ("inside", "outside")


def sides(probes: pd.DataFrame, study: Study) -> pd.DataFrame:
    """`probe_id` and `side` ('inside' or 'outside' the stated hours when it was sent) of
    each probe in `probes` (probe_id, brand, country, channel, sent_at UTC) whose target
    states service hours."""
    parts = []
    for t in study.targets:
        if not t.service_hours:
            continue
        hours = parse_service_hours(t.service_hours)
        mine = probes[
            (probes["brand"] == t.brand)
            & (probes["country"] == t.country)
            & (probes["channel"] == t.channel)
        ]
        if mine.empty:
            continue
        zone = study.country(t.country).timezone
        local = pd.to_datetime(mine["sent_at"], utc=True).dt.tz_convert(zone)
        inside = [hours.covers_local(ts.to_pydatetime()) for ts in local]
        side = ["inside" if i else "outside" for i in inside]
        parts.append(pd.DataFrame({"probe_id": mine["probe_id"].to_numpy(), "side": side}))
    if not parts:
        return pd.DataFrame({"probe_id": pd.Series(dtype=str), "side": pd.Series(dtype=str)})
    return pd.concat(parts, ignore_index=True)


def service_hours_split(
    con: duckdb.DuckDBPyConnection, study: Study, window_hours: float
) -> list[dict[str, Any]]:
    """Each brand's statistics inside and outside its stated hours, as JSON-ready rows
    (brand, side, metrics...), in brand and side order; [] when no target states hours.

    Needs `published_outcomes` (analysis.publish.breakdowns makes it) and leaves `outcomes`
    as it was."""
    probes = con.execute(
        "SELECT probe_id, brand, country, channel, sent_at FROM published_outcomes"
    ).df()
    found = sides(probes, study)
    if found.empty:
        return []
    con.register("probe_sides", pa.Table.from_pandas(found, preserve_index=False))
    try:
        con.execute(sql_text("publish_service_hours"))
        rows = groups_json(group_metrics(con, window_hours=window_hours))["brand_country"]
    finally:
        con.execute(sql_text("publish_regroup"), {"by": "country"})
        con.unregister("probe_sides")
    out = [{("side" if k == "country" else k): v for k, v in row.items()} for row in rows]
    return sorted(out, key=lambda r: (r["brand"], SIDES.index(r["side"])))
