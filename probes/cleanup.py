"""After the study: delete the probe posts whose windows have closed, and say so in the journal.

A benchmark's inquiries are a means, not a message: once a probe's window has closed (the
runner has read the inbox past its end), its post is deleted from the platform (X
`DELETE /2/tweets/:id`, Mastodon `DELETE /api/v1/statuses/:id`, Bluesky
`com.atproto.repo.deleteRecord`); e-mail and manual probes leave nothing to delete. Each
deletion is committed as an `events` row (`deleted`, the probe, the message id) as it
happens, so a clean-up stopped half-way loses nothing and a second one deletes nothing: a
probe with a `deleted` event is skipped, and a post already gone counts as deleted. A probe
whose window is still open is never touched.

Deleting is idempotent, so a request that fails on the way is simply made again: after a
429 at the platform's reset time, otherwise with exponential backoff. A platform that cannot
be reached fails fast: once `MAX_FAILED_POSTS` posts of a channel in a row have failed that
way, its remaining posts are not tried (each would wait out every retry) and are reported for
the next clean-up.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import httpx

from probes.channels.base import AuthError, ChannelError, Closer, Rejected, Transient, Wiring
from probes.channels.http import status_text
from probes.channels.ratelimits import read_rate_limit
from probes.channels.registry import (
    HTTP_KINDS,
    api_base_of,
    credential,
    is_loopback,
    module_of,
    on_loopback,
    where,
)
from study.clock import Clock, SystemClock
from study.errors import StudyError
from study.journal.campaign import Journal
from study.load import load_study
from study.model import ChannelSettings, ProbeState, Study
from study.paths import existing_journal
from study.personas import Persona, personas_of
from study.plan import make_plan
from study.timeutil import iso

if TYPE_CHECKING:
    from probes.channels.mastodon.adapter import MastodonChannel

DELETED = "deleted"  # the events row of a deletion; its detail is the message id
MAX_FAILURES = 5  # tries of one post that fail for other reasons than a rate limit
MAX_RATE_WAITS = 50  # resets waited for in a row (Mastodon allows 30 deletions per 30 min)
MAX_RATE_WAIT_S = 3600.0  # a longer wait is a failure: run the clean-up again later
MAX_FAILED_POSTS = 2  # posts of one channel failing in a row on the way: give the channel up

Progress = Callable[[int, int], None]  # (done, total)


class Deleter(Protocol):
    async def delete(self, message_id: str) -> bool:
        """True when the post was deleted now, False when it was already gone."""
        ...


@dataclass(frozen=True)
class CleanupSummary:
    """What one clean-up did, probe by probe."""

    deleted: int  # posts deleted now
    gone: int  # posts already gone from the platform: recorded as deleted
    earlier: int  # probes whose post an earlier clean-up deleted
    open: int  # probes whose window is still open: kept
    nothing_to_delete: int  # sent probes of e-mail and manual channels
    failed: tuple[str, ...]  # one line per post that could not be deleted: run again


@dataclass(frozen=True)
class _Post:
    probe_id: str
    channel: str
    message_id: str
    sender: str  # its persona: the account that posted it, and deletes it


async def cleanup(
    study_dir: Path,
    *,
    env: Mapping[str, str],
    api_base: str | None = None,
    live: bool = False,
    now: datetime | None = None,
    clock: Clock | None = None,
    on_progress: Progress | None = None,
) -> CleanupSummary:
    """Delete the post of every probe whose window closed by `now` (default: the clock's
    now); what was done.

    `clock` defaults to the simulator's when `api_base` is on this machine, else real time.
    Without `live`, refuses any platform not on this machine. Raises `StudyError` before
    anything is deleted when a channel cannot be used, and when a platform refuses the
    credentials (what was deleted until then stays recorded)."""
    study = load_study(study_dir)
    existing_journal(study_dir)  # no journal: nothing was sent, nothing to delete
    if clock is None:
        clock = await _clock(study, api_base)
    cut = now or clock.now()
    journal = Journal.create_or_open(
        study_dir,
        make_plan(study),
        study_name=study.name,
        window_hours=study.window_hours,
        now=cut,
    )
    try:
        todo, counts = _sort(journal, cut)
        personas = _posters(study, {p.sender for p in todo})
        _check(personas.values(), env=env, api_base=api_base, live=live)
        failed: list[str] = []
        deleted = gone = 0
        failing: dict[str, int] = {}  # persona -> posts failed in a row on the way
        deleters, closers = _deleters(personas.values(), env, api_base, clock)
        try:
            for n, post in enumerate(todo, 1):
                what = f"{post.probe_id} ({post.channel} {post.message_id})"
                if failing.get(post.sender, 0) >= MAX_FAILED_POSTS:
                    failed.append(f"{what}: not tried, the {_whose(personas[post.sender])} "
                                  "posts before it could not be deleted either")  # fmt: skip
                else:
                    try:
                        if await _delete(deleters[post.sender], post.message_id, clock):
                            deleted += 1
                        else:
                            gone += 1
                    except AuthError as e:
                        table = personas[post.sender].table
                        raise StudyError(
                            f"{post.channel}: {e}; check the credentials named in study.toml "
                            f"{table} (deleted until now: {deleted + gone})"
                        ) from e
                    except Transient as e:  # still failing after every retry
                        failed.append(f"{what}: {e}")
                        failing[post.sender] = failing.get(post.sender, 0) + 1
                    except ChannelError as e:
                        failed.append(f"{what}: {e}")
                    else:
                        failing[post.sender] = 0
                        journal.event(clock.now(), DELETED, post.probe_id, post.message_id)
                if on_progress is not None:
                    on_progress(n, len(todo))
        finally:
            for close in reversed(closers):
                await close()
    finally:
        journal.close()
    return CleanupSummary(deleted, gone, counts[0], counts[1], counts[2], tuple(failed))


def _posters(study: Study, senders: set[str]) -> dict[str, Persona]:
    """The accounts that posted the probes to delete, by persona (a channel's name for its
    one account): each post is deleted by the account that made it."""
    everyone = {p.name: p for p in personas_of(study)}
    unknown = sorted(senders - set(everyone))
    if unknown:
        raise StudyError(
            f"the journal has posts of persona {unknown[0]}, which study.toml no longer has; "
            f"put its [personas.{unknown[0]}] table back to delete them"
        )
    return {name: everyone[name] for name in sorted(senders)}


def _whose(persona: Persona) -> str:
    return f"{persona.channel} {persona.describe()}" if persona.declared else persona.channel


def _check(
    personas: Iterable[Persona], *, env: Mapping[str, str], api_base: str | None, live: bool
) -> None:
    """Refuse, before anything is deleted, a real platform without `live` and a credential
    that is not in the environment (each persona's own)."""
    for persona in personas:
        settings = persona.settings
        if not live and not on_loopback(settings, api_base):
            raise StudyError(
                f"refusing to delete posts at {where(settings, api_base)} without --live: "
                f"[channels.{settings.name}] is a real platform. Add --live to delete the "
                "study's probe posts there, or point --api-base at the simulator"
            )
        loopback = on_loopback(settings, api_base)
        credential(settings, env, loopback=loopback, table=persona.table)


def _platforms(study: Study) -> list[ChannelSettings]:
    """The settings of the channels whose probes leave posts on a platform."""
    used = {t.channel for t in study.probed_targets}
    return [study.channel(name) for name in HTTP_KINDS if name in used]


def _sort(journal: Journal, cut: datetime) -> tuple[list[_Post], tuple[int, int, int]]:
    """The posts to delete now, and how many probes were deleted earlier, are still open,
    and left nothing to delete."""
    done = journal.probes_with_event(DELETED)
    todo: list[_Post] = []
    earlier = still_open = nothing = 0
    for r in journal.records(sent=True):
        if r.channel not in HTTP_KINDS or r.message_id is None:
            nothing += 1
        elif r.probe_id in done:
            earlier += 1
        elif r.state != ProbeState.CLOSED.value or r.closes_at is None or r.closes_at > cut:
            still_open += 1
        else:
            todo.append(_Post(r.probe_id, r.channel, r.message_id, r.sender or r.channel))
    return todo, (earlier, still_open, nothing)


async def _clock(study: Study, api_base: str | None) -> Clock:
    """The simulator's clock when the first platform is on this machine, else real time."""
    from probes.campaign import discover_clock

    platforms = _platforms(study)
    base = api_base_of(platforms[0], api_base) if platforms else ""
    return await discover_clock(base) if base else SystemClock()


def _deleters(
    personas: Iterable[Persona],
    env: Mapping[str, str],
    api_base: str | None,
    clock: Clock,
) -> tuple[dict[str, Deleter], list[Closer]]:
    """A deleter for each persona's account, by persona, and how to close them. `live` was
    checked before: every platform here may be asked."""
    deleters: dict[str, Deleter] = {}
    closers: list[Closer] = []
    for persona in personas:
        settings = persona.settings
        if settings.name == "mastodon":
            posts = MastodonPosts.build(settings, env=env, api_base=api_base, clock=clock)
            deleters[persona.name], close = posts, posts.client.aclose
        else:
            wiring = Wiring(env, clock, api_base, True)
            deleters[persona.name], close = module_of(settings.name).build(settings, wiring)
        closers.append(close)
    return deleters, closers


async def _delete(deleter: Deleter, message_id: str, clock: Clock) -> bool:
    """Delete one post, trying again after a rate limit's reset or a failure on the way."""
    failures = waits = 0
    rng = random.Random(message_id)
    while True:
        try:
            return await deleter.delete(message_id)
        except Transient as e:
            now = clock.now()
            if e.retry_at is not None and e.retry_at > now:
                wait = (e.retry_at - now).total_seconds() + 1
                waits += 1
                if wait > MAX_RATE_WAIT_S or waits > MAX_RATE_WAITS:
                    raise
            else:
                failures += 1
                if failures >= MAX_FAILURES:
                    raise
                wait = rng.uniform(0.5, 1.0) * 2.0**failures
            await clock.sleep(wait)


class MastodonPosts:
    """DELETE /api/v1/statuses/:id for the probe account (`MastodonChannel` has no delete)."""

    ENDPOINT = "DELETE /api/v1/statuses/:id"

    def __init__(self, client: httpx.AsyncClient, channel: MastodonChannel, clock: Clock) -> None:
        self.client = client
        self.channel = channel  # a MastodonChannel on the same client: checks the token
        self.clock = clock
        self.reset_at: datetime | None = None  # when a spent budget comes back

    @classmethod
    def build(
        cls,
        settings: ChannelSettings,
        *,
        env: Mapping[str, str],
        api_base: str | None,
        clock: Clock,
    ) -> MastodonPosts:
        from probes.channels.common import make_client
        from probes.channels.mastodon import adapter as md
        from probes.channels.mastodon import parse as mp

        base = api_base_of(settings, api_base)
        client = make_client(base, credential(settings, env, loopback=is_loopback(base)))
        instance = mp.instance_of(settings.api_base or base)
        channel = md.MastodonChannel(
            client, account=settings.account, instance=instance, clock=clock
        )
        return cls(client, channel, clock)

    async def delete(self, message_id: str) -> bool:
        """True when Mastodon deleted the status now, False when it was already gone."""
        from probes.channels.mastodon.adapter import MASTODON_RATE_LIMIT

        await self.channel.me()  # never delete with a token of another account
        if not message_id.isdigit():
            raise Rejected(f"{message_id!r} is not a Mastodon status id; it cannot be deleted")
        path = f"/api/v1/statuses/{message_id}"
        what = f"Mastodon API DELETE {path}"
        if self.reset_at is not None and self.reset_at > self.clock.now():
            raise Transient(f"{what}: rate limit spent until {iso(self.reset_at)}; not sent",
                            retry_at=self.reset_at)  # fmt: skip
        try:
            response = await self.client.delete(path)
        except httpx.TransportError as exc:
            raise Transient(f"{what}: {type(exc).__name__}; try again later") from exc
        limit = read_rate_limit(
            self.ENDPOINT, response.headers, MASTODON_RATE_LIMIT, self.clock.now()
        )
        spent = limit is not None and limit.remaining == 0
        self.reset_at = limit.reset_at if limit is not None and spent else None
        status = response.status_code
        if status == 429 or status >= 500:
            retry = limit.reset_at if status == 429 and limit is not None else None
            raise Transient(f"{what}: {status_text(response)}", retry_at=retry)
        if status == 404:
            return False
        if status in (401, 403):
            raise AuthError(
                f"{what}: {status_text(response)}: the access token is missing, expired or "
                "lacks the write:statuses scope"
            )
        if response.is_error:
            raise Rejected(f"{what}: {status_text(response)}")
        return True
