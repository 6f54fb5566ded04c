"""Does every target's account exist? Each target looked up on its channel, before a campaign.

Brands rename, move and close accounts between the desk research and the first probe; a probe
to an account that is gone is wasted and, worse, reads as "no answer". `check_accounts` looks
every account up once (a global account asked from many countries is one look-up):

- X: GET /2/users/by/username/:username (no user: missing; "User has been suspended": suspended)
- Mastodon: GET /api/v1/accounts/lookup?acct=, and for an account on another instance that
  the probe account's instance has not seen, GET /api/v2/search?resolve=true (WebFinger)
  (not found: missing; `moved`: moved; `suspended`)
- Bluesky: com.atproto.identity.resolveHandle, then app.bsky.actor.getProfile (a handle that
  does not resolve: missing; the profile's handle differing: renamed; a takedown: suspended)
- e-mail: the address's syntax only (nothing is sent); manual: not checked.

Nothing is asked of a platform without `live`, unless the API base is on this machine (the
simulator): offline, only the syntax of handles and addresses is checked.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from probes.channels.base import AuthError, ChannelError, Closer, Wiring
from probes.channels.registry import (
    HTTP_KINDS,
    MANUAL,
    api_base_of,
    driven_personas,
    module_of,
    on_loopback,
)
from study.clock import Clock, SystemClock
from study.errors import StudyError
from study.handles import handle_problem
from study.load import load_study
from study.model import Scope, Study, Target
from study.personas import Persona

if TYPE_CHECKING:
    from probes.channels.bluesky.adapter import BlueskyChannel
    from probes.channels.mastodon.adapter import MastodonChannel
    from probes.channels.x.adapter import XChannel

# A finding's status; the first three make `replybench accounts` exit 1.
MISSING = "missing"
SUSPENDED = "suspended"
UNKNOWN = "unknown"  # the look-up failed: the account may or may not be there
INVALID = "invalid"  # the handle cannot name an account on its channel
RENAMED = "renamed"  # renamed or moved: the account lives on under another handle
OK = "ok"
NOT_CHECKED = "not checked"
NO_ACCOUNT = "none"  # scope none: the brand has no account here
BLOCKING = (MISSING, SUSPENDED, UNKNOWN, INVALID)

NEEDS_LIVE = (
    "handle syntax ok; looking the account up needs --live (or --api-base on this machine, "
    "e.g. the simulator)"
)
NO_LOCAL = "no local account found; consider scope global with the brand's global account"


@dataclass(frozen=True)
class AccountFinding:
    """What the look-up of one target's account found."""

    brand: str
    country: str
    channel: str
    handle: str
    scope: str
    status: str  # ok, missing, suspended, renamed, invalid, unknown, not checked, none
    detail: str  # what was found, and what to do about it
    line: int  # the target's line in targets.csv

    @property
    def blocking(self) -> bool:
        """Whether the target cannot be probed as it stands (missing, suspended, ...)."""
        return self.status in BLOCKING


Progress = Callable[[int, int], None]  # (done, total)
Lookup = Callable[[str], Awaitable[tuple[str, str]]]  # handle -> (status, detail)
Note = Callable[[], Awaitable[list[str]]]  # warnings about a probe account


async def check_accounts(
    study_dir: Path,
    *,
    env: Mapping[str, str],
    api_base: str | None = None,
    live: bool = False,
    clock: Clock | None = None,
    on_progress: Progress | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> list[AccountFinding]:
    """Every target of the study and what its account's look-up found, in targets.csv order.

    HTTP channels are asked only with `live` or on this machine (`api_base` pointing at the
    simulator); credentials come from the environment as for `replybench run`. Raises
    `StudyError` when a channel refuses the credentials. What the probe account's settings
    mean for the study (a Mastodon notification policy that filters or drops brands'
    replies) goes to `on_warning`."""
    study = load_study(study_dir)
    clock = clock or SystemClock()
    lookups, closers, notes = _lookups(study, env=env, api_base=api_base, live=live, clock=clock)
    found: dict[tuple[str, str], tuple[str, str]] = {}
    findings: list[AccountFinding] = []
    try:
        for note in notes:
            for line in await note():
                if on_warning is not None:
                    on_warning(line)
        targets = sorted(study.targets, key=lambda t: t.line)
        for n, target in enumerate(targets, 1):
            status, detail = await _check(target, lookups, found)
            if target.scope is Scope.LOCAL and status in (MISSING, SUSPENDED):
                detail = f"{detail}; {NO_LOCAL}"
            elif target.scope is Scope.GLOBAL and status == OK:
                detail = f"{detail} (the brand's global account: no local one)"
            findings.append(
                AccountFinding(
                    target.brand,
                    target.country,
                    target.channel,
                    target.handle,
                    target.scope.value,
                    status,
                    detail,
                    target.line,
                )
            )
            if on_progress is not None:
                on_progress(n, len(targets))
    finally:
        for close in reversed(closers):
            await close()
    return findings


async def _check(
    target: Target,
    lookups: Mapping[str, Lookup],
    found: dict[tuple[str, str], tuple[str, str]],
) -> tuple[str, str]:
    if target.scope is Scope.NONE:
        return NO_ACCOUNT, "no account (scope none): nothing is sent; the study reports it"
    if target.channel == MANUAL:
        return NOT_CHECKED, "contacted by people: check the number, form or app by hand"
    problem = handle_problem(target.channel, target.handle)
    if problem is not None:
        return INVALID, f"{problem} (targets.csv line {target.line})"
    if target.channel == "email":
        return OK, "address syntax ok; nothing was sent (only a reply proves a mailbox)"
    lookup = lookups.get(target.channel)
    if lookup is None:
        return NOT_CHECKED, NEEDS_LIVE
    key = target.account_key
    if key not in found:
        try:
            found[key] = await lookup(target.handle)
        except AuthError as e:
            raise StudyError(
                f"{target.channel}: {e}; check the credentials named in study.toml "
                f"[channels.{target.channel}]"
            ) from e
        except ChannelError as e:
            found[key] = (UNKNOWN, f"could not look it up ({e}); try again later")
    return found[key]


def _lookups(
    study: Study,
    *,
    env: Mapping[str, str],
    api_base: str | None,
    live: bool,
    clock: Clock,
) -> tuple[dict[str, Lookup], list[Closer], list[Note]]:
    """A look-up for each HTTP channel the study's targets use and that may be asked (made
    from its first persona's account), and a check of every persona's account on it: its
    credentials (each persona's own), and for Mastodon its notification policy."""
    lookups: dict[str, Lookup] = {}
    closers: list[Closer] = []
    notes: list[Note] = []
    personas = [p for p in driven_personas(study) if p.channel in HTTP_KINDS]
    for persona in sorted(personas, key=lambda p: HTTP_KINDS.index(p.channel)):
        name, settings = persona.channel, persona.settings
        if not live and not on_loopback(settings, api_base):
            continue
        channel, close = module_of(name).build(settings, Wiring(env, clock, api_base, live))
        closers.append(close)
        where = api_base_of(settings, api_base)
        if persona.declared:
            where = f"{where}, {persona.describe()}"
        lookups.setdefault(name, _named(_LOOKUPS[name](channel, where), persona))
        notes.append(account_note(channel, persona, where))
    return lookups, closers, notes


def _named(lookup: Lookup, persona: Persona) -> Lookup:
    """`lookup`, refused credentials named by the table that holds them."""

    async def named(handle: str) -> tuple[str, str]:
        try:
            return await lookup(handle)
        except AuthError as e:
            raise StudyError(
                f"{persona.channel}: {e}; check the credentials named in study.toml {persona.table}"
            ) from e

    return named


def account_note(channel: Any, persona: Persona, where: str) -> Note:
    """Check one probe account before the look-ups: its platform accepts its credentials
    (StudyError naming its table if not), and, on Mastodon, what its notification policy
    does to brands' replies."""

    async def note() -> list[str]:
        kind = persona.channel
        try:
            await (channel.login() if kind == "bluesky" else channel.me())
        except AuthError as e:
            raise StudyError(
                f"{kind}: {e}; check the credentials named in study.toml {persona.table}"
            ) from e
        except ChannelError as e:
            return [f"{kind} at {where}: could not check the credentials ({e}); try again"]
        return await mastodon_notes(channel, where)() if kind == "mastodon" else []

    return note


# -- one look-up per platform: (status, detail) -------------------------------------------


def x_lookup(channel: XChannel, where: str) -> Lookup:
    """Look X users up by username on `channel` (`where` names its API in details)."""

    async def lookup(handle: str) -> tuple[str, str]:
        user, reason = await channel.lookup_account(handle)
        if user is None:
            if "suspended" in reason.lower():
                return SUSPENDED, f"X: {reason}"
            return MISSING, f"X at {where} has no user @{handle} ({reason})"
        return OK, f"@{user.get('username', handle)}, user id {user.get('id', '?')}"

    return lookup


def mastodon_lookup(channel: MastodonChannel, where: str) -> Lookup:
    """Look Mastodon accounts up as the probe account's instance (`where`) knows them."""

    async def lookup(handle: str) -> tuple[str, str]:
        account = await channel.lookup(handle)
        if account is None:
            return MISSING, (
                f"{where} knows no account {handle} (accounts/lookup: 404; an account on "
                "another instance is also looked for by WebFinger, search with resolve=true)"
            )
        if account.get("suspended") is True:
            return SUSPENDED, f"{handle} is suspended on {where}"
        moved = account.get("moved")
        if isinstance(moved, dict):
            return RENAMED, (
                f"moved to @{moved.get('acct', '?')}; put the new handle in targets.csv"
            )
        return OK, f"@{account.get('acct', handle)}, account id {account.get('id', '?')}"

    return lookup


def mastodon_notes(channel: MastodonChannel, where: str) -> Note:
    """What the probe account's notification policy does to brands' replies (a policy that
    drops them is said loudly here; `run` refuses it)."""

    async def note() -> list[str]:
        try:
            return [f"mastodon at {where}: {w}" for w in await channel.policy_warnings()]
        except StudyError as e:
            return [f"WARNING: mastodon at {where}: {e}"]

    return note


def bluesky_lookup(channel: BlueskyChannel, where: str) -> Lookup:
    """Look Bluesky handles up: resolve each, then read its DID's profile."""

    async def lookup(handle: str) -> tuple[str, str]:
        profile, reason = await channel.lookup_account(handle)
        if profile is None:
            low = reason.lower()
            if "takedown" in low or "suspend" in low:
                return SUSPENDED, f"Bluesky: @{handle}: {reason}"
            return MISSING, f"Bluesky: @{handle} ({reason})"
        labels = {str(label.get("val")) for label in profile.get("labels") or []}
        if "!takedown" in labels:
            return SUSPENDED, f"Bluesky: @{handle} is taken down"
        now = str(profile.get("handle", "")).lower()
        did = profile.get("did", "?")
        if now == "handle.invalid":
            return RENAMED, (
                f"{did}: its handle no longer verifies (handle.invalid); find the brand's "
                "current handle and put it in targets.csv"
            )
        if now != handle.lower():
            return RENAMED, f"{did} is now @{now}; put the new handle in targets.csv"
        return OK, f"@{now}, {did}"

    return lookup


_LOOKUPS: dict[str, Callable[[Any, str], Lookup]] = {
    "x": x_lookup,
    "mastodon": mastodon_lookup,
    "bluesky": bluesky_lookup,
}


# -- showing them -------------------------------------------------------------------------


def findings_json(findings: list[AccountFinding]) -> str:
    """The findings as a JSON list, one object per target (with `blocking`)."""
    rows = [{**asdict(f), "blocking": f.blocking} for f in findings]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def findings_table(findings: list[AccountFinding]) -> Any:
    """The findings as a rich table, problems first (the text is escaped: handles and
    details come from outside)."""
    from rich.markup import escape
    from rich.table import Table

    order = {s: n for n, s in enumerate((*BLOCKING, RENAMED, NO_ACCOUNT, NOT_CHECKED, OK))}
    table = Table(title="Target accounts")
    for column in ("brand", "country", "channel", "handle", "scope", "status", "detail"):
        table.add_column(column, overflow="fold")
    style = {MISSING: "red", SUSPENDED: "red", UNKNOWN: "red", INVALID: "red", RENAMED: "yellow"}
    for f in sorted(findings, key=lambda f: (order.get(f.status, 99), f.line)):
        status = f"[{style[f.status]}]{f.status}[/]" if f.status in style else f.status
        cells = (f.brand, f.country, f.channel, f.handle, f.scope)
        table.add_row(*(escape(c) for c in cells), status, escape(f.detail))
    return table


def summary_line(findings: list[AccountFinding]) -> str:
    """E.g. '6 targets: 4 ok, 1 missing, 1 none'."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.status] = counts.get(f.status, 0) + 1
    parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: kv[0]))
    return f"{len(findings)} targets: {parts}"
