"""What the worlds of the simulator's faces share: the heap of scheduled bot actions, applied
lazily, and the ledger lines of what happened in them.

Bot actions are scheduled when a probe is posted and *materialised lazily*: before each
request, every action due by the clock's now is applied in time order (ties in scheduling
order), so ids follow virtual time and an item's time is the scheduled instant, however late
the next request comes.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from probes.sim.bots import Action
from probes.sim.ledger import Ledger
from study.timeutil import iso


@dataclass
class DueActions:
    """A face's world: the heap of scheduled bot actions (`_apply` does one) and its ledger.

    Not thread-safe by itself: the face holds its lock around every use."""

    LEDGER_CHANNEL: ClassVar[str | None] = None  # the ledger's "channel"; X's lines have none

    ledger: Ledger | None = field(default=None, kw_only=True)
    _queue: list[tuple[datetime, int, Action]] = field(default_factory=list, kw_only=True)
    _order: itertools.count[int] = field(default_factory=itertools.count, kw_only=True)

    def schedule(self, action: Action) -> None:
        heapq.heappush(self._queue, (action.at, next(self._order), action))

    def pending(self) -> list[Action]:
        """Actions not yet applied, in time order."""
        return [a for _, _, a in sorted(self._queue)]

    def apply_due(self, now: datetime) -> None:
        """Apply every action due by `now`, oldest first."""
        while self._queue and self._queue[0][0] <= now:
            _, _, action = heapq.heappop(self._queue)
            self._apply(action)

    def _apply(self, action: Action) -> None:
        raise NotImplementedError

    def write_ledger(
        self,
        kind: str,
        item_id: str,
        author: tuple[str, str],
        text: str,
        at: datetime,
        *,
        in_reply_to_id: str | None,
        conversation_id: str,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """One ledger line: a "post", "dm" or "deleted" item by `author` (handle, id)."""
        if self.ledger is None:
            return
        entry: dict[str, Any] = {"kind": kind}
        if self.LEDGER_CHANNEL is not None:
            entry["channel"] = self.LEDGER_CHANNEL
        entry.update(id=item_id, author=author[0], author_id=author[1], text=text)
        entry.update(created_at=iso(at), in_reply_to_id=in_reply_to_id)
        entry["conversation_id"] = conversation_id
        entry.update(extra or {})
        self.ledger.write(entry)


def action_extra(action: Action, role: str, probe_post_id: str | None) -> dict[str, Any]:
    """The ledger fields of a bot's post or DM: who, what kind, for which probe and brand."""
    extra: dict[str, Any] = {"role": role, "reply_kind": str(action.kind)}
    if probe_post_id is not None:
        extra["probe_post_id"] = probe_post_id
    if action.brand is not None:
        extra["brand"] = action.brand
        extra["country"] = action.country
    return extra
