"""The nouns of a study, as frozen dataclasses.

A study folder holds `study.toml`, `targets.csv`, `scripts.csv` (and, for the built-in
simulator, `simulator.toml`); `study.load` turns it into a `Study`; `study.plan` turns a
`Study` into `PlannedProbe`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from study.approval import Approval
    from study.personas import Assignment, Persona


class Scope(StrEnum):
    """Which account of a brand a target names in one country."""

    LOCAL = "local"  # the brand's account for this country
    GLOBAL = "global"  # no local account exists: the global one is asked
    NONE = "none"  # no account found: nothing is sent; reported as a finding


class ReplyKind(StrEnum):
    """What a message seen in the probe account's inbox is."""

    PUBLIC_REPLY = "public_reply"
    DIRECT_MESSAGE = "direct_message"
    REDIRECT = "redirect"  # "please DM us": a public reply that moves the talk elsewhere
    AUTO_ACK = "auto_ack"  # an automatic acknowledgement: not a response
    OTHER = "other"  # a mention that is not an answer (e.g. from a stranger)


class ProbeState(StrEnum):
    PLANNED = "planned"  # not yet sent
    SENDING = "sending"  # a send was attempted and its outcome is not yet known
    SENT = "sent"  # the platform acknowledged it; the window is open
    CLOSED = "closed"  # its observation window ended
    MISSED = "missed"  # could not be sent inside its slot (e.g. the runner was down)
    FAILED = "failed"  # the platform refused it for good (e.g. 4xx other than 429)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, upper case
    name: str
    timezone: str  # IANA zone, e.g. "Europe/Berlin"
    language: str  # ISO 639-1, lower case; picks the script text
    local_name: str = ""  # the name as it reads in a sentence in `language`, e.g. "the UK"

    @property
    def text_name(self) -> str:
        """What `{country}` becomes in a script text: `local_name`, or `name` if none."""
        return self.local_name or self.name


@dataclass(frozen=True)
class Slot:
    """A named local-time window in which probes may be sent, e.g. business hours."""

    name: str
    days: frozenset[int]  # 0 = Monday ... 6 = Sunday
    start: time
    end: time  # exclusive; end > start (slots do not cross midnight)


@dataclass(frozen=True)
class ChannelSettings:
    """How to reach one channel: API base, the researcher's probe account, credentials."""

    name: str  # "x", later "email", "mastodon", "bluesky", "manual"
    api_base: str
    account: str  # the researcher's probe account (handle without '@')
    token_env: str  # name of the environment variable that holds the credential
    options: tuple[tuple[str, str], ...] = ()  # any further settings, as text
    confirm: bool = False  # a person confirms each send (`replybench run --confirm`)


@dataclass(frozen=True)
class Ethics:
    max_probes_per_account: int  # in the whole study
    max_probes_per_account_per_day: int  # per UTC day
    approval: Approval | None = None  # an ethics board's ([ethics.approval], study.approval)


@dataclass(frozen=True)
class Alerts:
    """Where to tell a person that the runner stopped, is cut off, or finished."""

    url_env: str  # environment variable holding one or more apprise URLs (they hold secrets)
    unreachable_minutes: float  # alert when a channel cannot be reached this long


@dataclass(frozen=True)
class Target:
    """One brand's account in one country on one channel (or the lack of one)."""

    brand: str  # identifier: lower-case letters, digits, '-', '_'
    brand_name: str
    sector: str
    country: str
    channel: str
    handle: str  # without '@' on X; empty when scope is none
    scope: Scope
    line: int = 0  # line in targets.csv, for messages
    # The hours the brand states for this account, in the country's local time
    # (study.service_hours); "" when targets.csv states none.
    service_hours: str = ""
    # Further accounts of the brand on this channel whose replies count as the brand's (e.g.
    # a support account answering probes sent to the main one): targets.csv's answers_from.
    answers_from: tuple[str, ...] = ()

    @property
    def account_key(self) -> tuple[str, str]:
        """Two targets with the same key are the same account (e.g. one global account)."""
        return (self.channel, self.handle.lower())


@dataclass(frozen=True)
class Script:
    """One inquiry, written in every language the study uses; `{handle}` names the target."""

    id: str
    category: str
    texts: tuple[tuple[str, str], ...]  # (language, text), sorted by language
    # Further wordings of the inquiry (scripts.csv's `variant` column, 2, 3, ...), as
    # (language, text) in variant order: personas posting on one platform get different
    # ones, so no two accounts post the same text (study.assign).
    variants: tuple[tuple[str, str], ...] = ()

    def text(self, language: str, variant: int = 0) -> str:
        """The text in `language`; `variant` counts from 0 (the first wording) and wraps
        around the wordings the language has."""
        for lang, t in self.texts:
            if lang == language:
                wordings = [t] + [v for vlang, v in self.variants if vlang == language]
                return wordings[variant % len(wordings)]
        raise KeyError(f"script {self.id!r} has no text in {language!r}")

    def wordings(self, language: str) -> int:
        """How many wordings (variants) the script has in `language` (0: no text)."""
        if language not in dict(self.texts):
            return 0
        return 1 + sum(lang == language for lang, _ in self.variants)


@dataclass(frozen=True)
class Study:
    name: str
    seed: int
    window_hours: float
    start: date  # first day of the sending period (inclusive, local dates)
    end: date  # last day of the sending period (inclusive)
    probes_per_target: int
    min_spacing_hours: float  # between two probes to one account
    ethics: Ethics
    slots: tuple[Slot, ...]
    channels: tuple[ChannelSettings, ...]
    countries: tuple[Country, ...]
    targets: tuple[Target, ...]
    scripts: tuple[Script, ...]
    path: Path = field(default=Path("."), compare=False)
    # How the runner rides out an outage (docs/study-folder.md): a probe whose slot passed
    # while the runner was down goes to a later occurrence of its slot (`catch_up`); a runner
    # that cannot reach a channel for `max_outage_minutes` exits with OUTAGE_EXIT_CODE.
    catch_up: bool = True
    max_outage_minutes: float = 60.0
    alerts: Alerts | None = None
    # Keep one account's probes `window_hours` apart where the sending period allows, so
    # no two of its windows overlap and a DM has one open probe to answer (study.plan).
    separate_windows: bool = False
    # A repeat of an earlier study (docs/study-folder.md, Waves): its number, and the folder
    # of the wave before it, which `report` compares this one with.
    wave: int = 1
    previous: Path | None = field(default=None, compare=False)
    # The probe accounts ([personas.NAME] tables, study.personas) and how probes are shared
    # among them ([assignment]); none declared: each channel's one account asks everything.
    personas: tuple[Persona, ...] = ()
    assignment: Assignment | None = None
    # A person confirms each send on every channel (`confirm` in [study]; a channel's own
    # `confirm` asks it of that channel alone): `replybench run --confirm`.
    confirm: bool = False

    def country(self, code: str) -> Country:
        for c in self.countries:
            if c.code == code:
                return c
        raise KeyError(code)

    def channel(self, name: str) -> ChannelSettings:
        for c in self.channels:
            if c.name == name:
                return c
        raise KeyError(name)

    def slot(self, name: str) -> Slot:
        for s in self.slots:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def probed_targets(self) -> tuple[Target, ...]:
        """Targets that get probes: every target whose scope is not `none`."""
        return tuple(t for t in self.targets if t.scope is not Scope.NONE)

    def confirmed_channels(self) -> frozenset[str]:
        """The channels on which a person confirms each send (study.toml's `confirm`)."""
        return frozenset(c.name for c in self.channels if self.confirm or c.confirm)

    @property
    def answers_from(self) -> tuple[tuple[str, str], ...]:
        """(brand, account) for every further account of a brand in targets.csv's
        `answers_from`, account lower case: the journal's `answers_from` table."""
        return tuple(
            sorted({(t.brand, a.lower()) for t in self.probed_targets for a in t.answers_from})
        )


@dataclass(frozen=True)
class PlannedProbe:
    """One inquiry to send: to whom, what, and when (UTC), inside which slot occurrence."""

    probe_id: str  # e.g. "kaito-DE-x-r1"
    brand: str
    country: str
    channel: str
    handle: str
    scope: Scope
    script: str
    slot: str
    round: int  # 1-based
    text: str  # the script text in the country's language with {handle} filled in
    scheduled_at: datetime  # UTC, inside [slot_start_at, slot_end_at)
    slot_start_at: datetime  # UTC start of the slot occurrence
    slot_end_at: datetime  # UTC end of the slot occurrence: sending later breaks the design
    # The persona ([personas.NAME]) whose account sends it; "" for the channel's one account
    # in a study without personas (left out of the plan's JSON, so its digest is as before).
    persona: str = ""

    @property
    def sender(self) -> str:
        """The name of the account that sends it: its persona, or its channel's one account
        (named after the channel)."""
        return self.persona or self.channel


@dataclass(frozen=True)
class Sent:
    """The platform acknowledged a probe: its id there and when it was posted."""

    probe_id: str
    message_id: str
    sent_at: datetime  # the platform's timestamp when it gives one, else our clock at the ack
    # The sending account's follower count as the platform's answer shows it (Mastodon's
    # status carries its account's followers_count); None where it does not.
    followers: int | None = None


@dataclass(frozen=True)
class Reply:
    """One item from the probe account's inbox, as the platform reported it."""

    reply_id: str  # the platform's id (a post id, a DM event id, ...)
    channel: str
    author: str  # handle, without '@'
    author_id: str
    text: str
    created_at: datetime  # the platform's own timestamp, UTC
    kind: ReplyKind  # public reply, DM, redirect, ... as far as the adapter can tell
    in_reply_to: str | None  # the message id it answers (post replied to), when known
    conversation_id: str | None = None  # thread root, when the platform has one


# An opaque, JSON-serialisable position in the inbox: the runner stores it in the journal in
# the same transaction as the replies it covers, so a crash re-reads, never skips.
Cursor = dict[str, str]
