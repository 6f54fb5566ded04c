"""The shape every channel adapter has, and the errors it may raise.

Reply detection costs work in proportion to replies, not to open probes: `inbox` reads the
probe account's own inbox (mentions, DM events, ...) once per poll and returns everything new;
the runner matches each item to its probe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from probes.channels.tokens import TokenStore
from study.clock import Clock

# Sent, Reply and Cursor are study's nouns (the journal stores them); the adapters speak them.
from study.model import Cursor as Cursor
from study.model import PlannedProbe
from study.model import Reply as Reply
from study.model import Sent as Sent


@dataclass(frozen=True)
class RateLimit:
    """What the platform said about the budget of the endpoint last called."""

    endpoint: str
    limit: int | None
    remaining: int | None
    reset_at: datetime | None
    # The platform's own reset when it lay further ahead than a client should ever wait
    # (e.g. the year 5138): `reset_at` is then clamped to a day ahead (probes.answers).
    reset_clamped_from: str | None = None


class Channel(Protocol):
    name: str

    async def send(self, probe: PlannedProbe) -> Sent:
        """Post the probe. Raises `OutcomeUnknown` when the request may have been applied."""
        ...

    async def find_sent(self, probe: PlannedProbe, since: datetime) -> Sent | None:
        """Look the probe up among the probe account's own posts since `since` (reconcile)."""
        ...

    async def inbox(self, since: Cursor | None) -> tuple[list[Reply], Cursor]:
        """Everything new in the probe account's inbox since the cursor, oldest first."""
        ...


@dataclass(frozen=True)
class Wiring:
    """What every adapter's `build(settings, wiring)` gets besides its settings (the
    registry's contract, probes/channels/registry.py)."""

    env: Mapping[str, str]  # where the credential named by the settings' `token_env` is
    clock: Clock
    api_base: str | None = None  # `--api-base`: overrides the HTTP channels' API base
    live: bool = False  # without `--live`, every endpoint must be on this machine
    # The study's token store (probes.channels.tokens): credentials replybench obtained
    # itself (an X OAuth 2.0 pair); None where nothing needs it.
    store: TokenStore | None = None


# How to close what `build` opened (its client, its connections).
Closer = Callable[[], Awaitable[None]]


class ChannelError(Exception):
    """A channel could not do what was asked."""


class AuthError(ChannelError):
    """401/403: the credentials are wrong or lack access. Retrying will not help: stop."""


class Rejected(ChannelError):
    """The platform refused this one request for good (e.g. 400, 404, duplicate content)."""


class Transient(ChannelError):
    """5xx, 429 or a network error whose request certainly was not applied: retry later."""

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at  # when the platform said to come back (429 reset), if it did


class OutcomeUnknown(ChannelError):
    """The request may or may not have been applied (timeout, dropped connection after
    sending): reconcile with `find_sent` before any retry, or risk posting twice."""


class DuplicateContent(OutcomeUnknown):
    """The platform refused the text as a duplicate of one of the account's posts. Either an
    earlier attempt of this probe did get through (reconciliation finds it), or the text
    repeats an older post, which no retry can fix."""


class Unreadable(ChannelError):
    """The platform answered, but not with anything that can be read: an HTML page or broken
    JSON on a 200, a body past the size limit, pages without end, a refused read. An inbox
    read that raises it failed (its probes stay censored at the last good read); it never
    reads as an empty inbox."""


class Unresolvable(ChannelError):
    """The lookup shows a send whose outcome can never be learned (e.g. an e-mail whose SMTP
    transaction was cut off with no trace either way). Not sending again avoids a double
    inquiry: the runner records the probe as failed, which excludes it from the analysis."""
