"""Probes to one account whose observation windows overlap: while both are open, a DM from
that account names neither, and only its language or a redirect can tell which it answers
(probes.matching). `separate_windows = true` in study.toml asks the plan to avoid them."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from study.model import PlannedProbe, Study


def overlapping_windows(
    plan: list[PlannedProbe], window_hours: float
) -> list[tuple[PlannedProbe, PlannedProbe]]:
    """Pairs of probes to one account (channel and handle) sent less than a window apart,
    each pair in time order, sorted."""
    window = timedelta(hours=window_hours)
    by_account: dict[tuple[str, str], list[PlannedProbe]] = defaultdict(list)
    for p in plan:
        by_account[(p.channel, p.handle.lower())].append(p)
    pairs = []
    for probes in by_account.values():
        probes.sort(key=lambda p: (p.scheduled_at, p.probe_id))
        for i, a in enumerate(probes):
            for b in probes[i + 1 :]:
                if b.scheduled_at - a.scheduled_at >= window:
                    break
                pairs.append((a, b))
    return sorted(pairs, key=lambda ab: (ab[0].scheduled_at, ab[0].probe_id, ab[1].probe_id))


def overlap_note(study: Study, plan: list[PlannedProbe]) -> str | None:
    """What `plan` and `validate` say when `separate_windows` could not be kept everywhere."""
    if not study.separate_windows:
        return None
    pairs = overlapping_windows(plan, study.window_hours)
    if not pairs:
        return None
    a, b = pairs[0]
    accounts = len({(p.channel, p.handle.lower()) for p, _ in pairs})
    return (
        f"note: separate_windows: {len(pairs)} pair(s) of probes to {accounts} account(s) "
        f"still have overlapping windows (e.g. {a.probe_id} and {b.probe_id}): the sending "
        f"period has no room to keep each account's {study.window_hours:g}-hour windows "
        "apart; a DM to them is tied by a redirect or its language only (docs/channels.md). "
        "Lengthen the sending period or shorten window_hours to avoid it"
    )
