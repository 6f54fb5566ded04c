"""Which probe an inbox item answers.

A public reply names the post it answers (`in_reply_to`) and its thread (`conversation_id`):
either one that is a probe's post decides. A direct message names nothing, so it goes to the
brand's probe most recently sent before it, preferring probes still inside their window and
probes to the very account that wrote (a global account answering a local probe by DM is
still the brand answering). Matches are kept for closed probes too: the analysis, not the
runner, decides that a reply after the window does not count.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from probes.channel import Reply
from study.model import ReplyKind, Study


@dataclass(frozen=True, order=True)
class _Sent:
    sent_at: datetime
    probe_id: str = field(compare=False)
    handle: str = field(compare=False)
    closes_at: datetime = field(compare=False)


class Matcher:
    """Maps inbox items to probes; work per item is independent of the number of probes."""

    def __init__(self, study: Study) -> None:
        self._by_message: dict[tuple[str, str], str] = {}
        self._by_brand: dict[tuple[str, str], list[_Sent]] = defaultdict(list)
        # (channel, handle) -> brands that own that account
        self._brands_of: dict[tuple[str, str], set[str]] = defaultdict(set)
        for t in study.probed_targets:
            self._brands_of[t.account_key].add(t.brand)

    def add(
        self,
        *,
        probe_id: str,
        brand: str,
        channel: str,
        handle: str,
        message_id: str,
        sent_at: datetime,
        closes_at: datetime,
    ) -> None:
        self._by_message[(channel, message_id)] = probe_id
        bisect.insort(self._by_brand[(channel, brand)], _Sent(sent_at, probe_id, handle, closes_at))

    def match(self, reply: Reply) -> str | None:
        for ref in (reply.in_reply_to, reply.conversation_id):
            if ref is not None:
                pid = self._by_message.get((reply.channel, ref))
                if pid is not None:
                    return pid
        if (
            reply.kind in (ReplyKind.DIRECT_MESSAGE, ReplyKind.AUTO_ACK)
            and reply.in_reply_to is None
        ):
            return self._match_private(reply)
        return None

    def _match_private(self, reply: Reply) -> str | None:
        author = reply.author.lower()
        best: tuple[bool, bool, datetime] | None = None
        best_id: str | None = None
        for brand in self._brands_of.get((reply.channel, author), ()):
            sent = self._by_brand[(reply.channel, brand)]
            i = bisect.bisect_right(sent, _Sent(reply.created_at, "", "", reply.created_at))
            for s in reversed(sent[max(0, i - 50) : i]):
                key = (s.closes_at > reply.created_at, s.handle.lower() == author, s.sent_at)
                if best is None or key > best:
                    best, best_id = key, s.probe_id
        return best_id
