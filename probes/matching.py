"""Which probe an inbox item answers.

A public reply names the post it answers (`in_reply_to`) and its thread (`conversation_id`):
either one that is a probe's post, or a reply already tied to a probe, decides. A private
message (a DM, or an automatic acknowledgement sent privately) usually names nothing, and a
brand's one global account may have several probes open at once, from several countries. It
is tied to a probe only by what ties it (docs/channels.md, "Which probe a reply answers"):

1. the conversation it continues (as for public replies);
2. the account that wrote: a brand's local account answers the probes sent to it, and so does
   an account targets.csv lists in that target's `answers_from` (a support account);
3. the probes it may answer are those whose window is open when it was written, and those
   that asked the writer to move to DMs (a redirect) and have had no DM from it since; with
   none of these, the brand's recent probes;
4. the language of the text, when it is clearly one of the languages of the brand's recent
   probes: only a probe in that language fits (a text in the language of a closed probe
   alone may be a late answer to that one, so none does);
5. of the probes that still fit, the one that asked to move to DMs, when one did.

Where these leave other than exactly one probe (several, or none),
the message is left unmatched and counted as ambiguous, as e-mail leaves mail it cannot tie:
better no match than a guess. Matches are kept for closed probes too: the analysis, not the
runner, decides that a reply after the window does not count.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from probes.channels.base import Reply
from probes.language import language_of
from study.model import ReplyKind, Study

PRIVATE = (ReplyKind.DIRECT_MESSAGE, ReplyKind.AUTO_ACK)
_RECENT = 50  # closed probes of a brand considered for a message that no open probe fits


@dataclass(frozen=True, order=True)
class _Sent:
    sent_at: datetime
    probe_id: str = field(compare=False)
    handle: str = field(compare=False)
    closes_at: datetime = field(compare=False)
    language: str = field(compare=False)


@dataclass(frozen=True)
class Match:
    """The probe an inbox item answers, or None; for a private message left unmatched
    because more than one probe fits, the probes it could answer (`ambiguous`)."""

    probe_id: str | None
    ambiguous: tuple[str, ...] = ()


NO_MATCH = Match(None)


class Matcher:
    """Maps inbox items to probes; work per item is independent of the number of probes.

    Feed it every item in time order (`match`), or what the journal already holds
    (`remember`) after a restart: it keeps the threads, redirects and decisions it has seen,
    and an item seen twice gets its first decision."""

    def __init__(self, study: Study) -> None:
        self._by_message: dict[tuple[str, str], str] = {}  # probe posts and tied replies
        self._by_brand: dict[tuple[str, str], list[_Sent]] = defaultdict(list)
        self._sent: dict[str, _Sent] = {}
        # (channel, handle) -> brands that own that account
        self._brands_of: dict[tuple[str, str], set[str]] = defaultdict(set)
        # (channel, further account) -> the handles it answers for (answers_from)
        self._speaks_for: dict[tuple[str, str], set[str]] = defaultdict(set)
        for t in study.probed_targets:
            self._brands_of[t.account_key].add(t.brand)
            for other in t.answers_from:
                self._brands_of[(t.channel, other.lower())].add(t.brand)
                self._speaks_for[(t.channel, other.lower())].add(t.handle.lower())
        self._language = {c.code: c.language for c in study.countries}
        # probe id -> accounts that asked it to move to DMs and have not written one since
        self._asked: dict[str, set[str]] = defaultdict(set)
        self._decided: dict[tuple[str, str], Match] = {}

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
        country: str = "",
    ) -> None:
        self._by_message[(channel, message_id)] = probe_id
        sent = _Sent(sent_at, probe_id, handle.lower(), closes_at, self._language.get(country, ""))
        self._sent[probe_id] = sent
        bisect.insort(self._by_brand[(channel, brand)], sent)

    def match(self, reply: Reply) -> Match:
        """The probe `reply` answers, decided once per item."""
        decided = self._decided.get((reply.channel, reply.reply_id))
        if decided is not None:
            return decided
        found = self._thread(reply)
        if found is not None:
            result = Match(found)
        elif reply.kind in PRIVATE and reply.in_reply_to is None:
            result = self._private(reply)
        else:
            result = NO_MATCH
        self.remember(reply, result.probe_id)
        self._decided[(reply.channel, reply.reply_id)] = result
        return result

    def remember(self, reply: Reply, probe_id: str | None) -> None:
        """What an item tied to `probe_id` (or to none) tells about the items after it: a
        reply to it continues its thread; a redirect waits for a DM; a DM ends the wait."""
        self._decided.setdefault((reply.channel, reply.reply_id), Match(probe_id))
        if probe_id is None:
            return
        self._by_message.setdefault((reply.channel, reply.reply_id), probe_id)
        author = reply.author.lower()
        if reply.kind is ReplyKind.REDIRECT:
            self._asked[probe_id].add(author)
        elif reply.kind is ReplyKind.DIRECT_MESSAGE:
            self._asked[probe_id].discard(author)

    def _thread(self, reply: Reply) -> str | None:
        for ref in (reply.in_reply_to, reply.conversation_id):
            if ref is not None:
                pid = self._by_message.get((reply.channel, ref))
                if pid is not None:
                    return pid
        return None

    def _private(self, reply: Reply) -> Match:
        author, at = reply.author.lower(), reply.created_at
        earlier: list[_Sent] = []
        for brand in sorted(self._brands_of.get((reply.channel, author), ())):
            sent = self._by_brand[(reply.channel, brand)]
            i = bisect.bisect_right(sent, _Sent(at, "", "", at, ""))
            earlier += sent[max(0, i - _RECENT) : i]
        if not earlier:
            return NO_MATCH
        mine = {author} | self._speaks_for.get((reply.channel, author), set())
        own = [s for s in earlier if s.handle in mine]
        pool = own or earlier  # a global account may also answer a brand's local probe
        waiting = {s.probe_id for s in pool if author in self._asked.get(s.probe_id, ())}
        candidates = [s for s in pool if s.closes_at > at or s.probe_id in waiting] or pool
        # Among the languages of every probe it might answer, closed ones included: a
        # message in the language of a closed probe only may be a late answer to it.
        language = language_of(reply.text, {s.language for s in pool if s.language})
        fits = candidates
        if language is not None:
            fits = [s for s in fits if s.language == language]
        if len(fits) > 1:
            fits = [s for s in fits if s.probe_id in waiting] or fits
        if len(fits) == 1:
            return Match(fits[0].probe_id)
        return Match(None, tuple(s.probe_id for s in (fits or candidates)))
