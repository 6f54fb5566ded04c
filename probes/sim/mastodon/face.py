"""The Mastodon face of the simulator: the part of the Mastodon API a probe runner uses.

`MastodonPlatform.handle` takes an `httpx.Request` and returns the `httpx.Response` a
Mastodon 4.x server would give (same JSON, status codes, `{"error": ...}` bodies and
`X-RateLimit-*` headers as the recordings in the shared fixtures), so tests use it as
`httpx.MockTransport(platform.handle)` and `probes.sim.dispatch` routes `/api/` to it. The
authenticated account is one of the study's probe accounts (`[channels.mastodon]`'s and each
persona's, told apart by their access tokens: probes.sim.accounts), each with its own
notifications, notification policy and rate limits; every Mastodon target handle
(`user@instance`) is an account whose brand bot answers the probe account that asked as
`simulator.toml` says, with the X face's decisions (see `probes.sim.mastodon.world`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Unpack
from urllib.parse import parse_qsl

import httpx

from probes.channels.common import SIM_TOKEN, sim_credential
from probes.channels.mastodon.parse import instance_of
from probes.sim.accounts import Accounts
from probes.sim.face import Face, FaceOptions, Routes, bearer_of, bearer_ok, limited
from probes.sim.mastodon import views as mj
from probes.sim.mastodon.brands import MastodonBrands
from probes.sim.mastodon.policy import DEFAULT as DEFAULT_POLICY
from probes.sim.mastodon.policy import render as render_policy
from probes.sim.mastodon.world import CHANNEL, Account, MastodonWorld, Notification, Status
from probes.sim.texts import STRANGER_HANDLES
from study.clock import Clock
from study.errors import StudyError
from study.model import ChannelSettings, Study


@dataclass
class MastodonAccount:
    """One probe account the face serves: its account, its rate limits (Mastodon counts per
    access token) and the brand bots that answer it."""

    me: Account
    limits: mj.RateLimiter
    brands: MastodonBrands


# (request, path arguments, now, the account asking) -> response
Endpoint = Callable[[httpx.Request, dict[str, str], datetime, MastodonAccount], httpx.Response]

VISIBILITIES = ("public", "unlisted", "private", "direct")
IDEMPOTENCY = timedelta(hours=1)  # how long Mastodon remembers an Idempotency-Key
UNAVAILABLE = "There was a temporary problem serving your request, please try again"
STATUSES_KEPT = ("exclude_replies", "limit", "only_media")  # kept in Link headers
NOTIFICATIONS_KEPT = ("account_id", "exclude_types[]", "include_filtered", "limit", "types[]")


class MastodonPlatform(Face[MastodonWorld]):
    """A stateful fake Mastodon instance for one study (see `Face`); `token`, when given, is
    the only bearer token accepted for the default account (else any non-empty one is),
    beside each probe account's own (`sim_credential(SIM_TOKEN, account)`); `budgets`
    overrides the instance's rate limits."""

    CHANNEL = CHANNEL

    def __init__(
        self,
        study: Study,
        clock: Clock,
        *,
        token: str | None = None,
        budgets: Mapping[str, mj.Budget] | None = None,
        **options: Unpack[FaceOptions],
    ) -> None:
        super().__init__(study, clock, **options)
        channel = _channel(study)
        self.token = token
        self._budgets = {} if self.lenient else budgets
        self.instance = instance_of(channel.api_base) or "mastodon.test"
        self.world = MastodonWorld(self.instance, ledger=self.ledger)
        self.world.languages = {c.code: c.language for c in study.countries}
        # Every probe account of the study on this instance: `[channels.mastodon]`'s, and
        # each persona's, each with its own token, notifications, policy and rate limits.
        self.accounts = Accounts(
            study,
            CHANNEL,
            self._new_account,
            lambda handle: sim_credential(SIM_TOKEN, handle),
            key=lambda handle: self.world.full(handle.lstrip("@").split("@")[0]),
        )
        self.default = self.accounts.default
        self.me, self.brands = self.default.me, self.default.brands
        for handle in STRANGER_HANDLES:
            self.world.account(handle)
        # (account id, Idempotency-Key) -> (status id, when): Mastodon keeps keys per account
        self._idempotent: dict[tuple[str, str], tuple[int, datetime]] = {}
        # endpoint -> (its rate-limit family, what answers it)
        self.routes = Routes[tuple[str, Endpoint]](
            {
                "GET /api/v1/accounts/verify_credentials": ("api", self._verify_credentials),
                "GET /api/v1/accounts/lookup": ("api", lambda r, a, now, acc: self._lookup(r)),
                "GET /api/v2/search": ("api", lambda r, a, now, acc: self._search(r)),
                "GET /api/v1/accounts/:id/statuses": (
                    "api",
                    lambda r, a, now, acc: self._account_statuses(r, a["id"], acc.me),
                ),
                "POST /api/v1/statuses": ("statuses", self._create),
                "GET /api/v1/statuses/:id": (
                    "api",
                    lambda r, a, now, acc: self._get_status(a["id"], acc.me),
                ),
                "DELETE /api/v1/statuses/:id": (
                    "delete_statuses",
                    lambda r, a, now, acc: self._delete(a["id"], now, acc.me),
                ),
                "GET /api/v1/notifications": (
                    "api",
                    lambda r, a, now, acc: self._notifications(r, acc.me),
                ),
                "GET /api/v2/notifications/policy": (
                    "api",
                    lambda r, a, now, acc: self._policy(acc.me),
                ),
            }
        )

    def _new_account(self, handle: str, followers: int) -> MastodonAccount:
        policy = self.settings.mastodon_policy or DEFAULT_POLICY
        me = self.world.probe_account(handle.split("@")[0], policy)
        brands = MastodonBrands(self.study, self.settings, self.probe_index, self.world, me.full)
        return MastodonAccount(me, mj.RateLimiter(self._budgets), brands)

    @property
    def limits(self) -> mj.RateLimiter:
        """The rate limits of the default account (`[channels.mastodon]`'s)."""
        return self.default.limits

    def account_of(self, request: httpx.Request) -> MastodonAccount:
        """Whose request this is: the account its token was issued to, else the default."""
        return self.accounts.of(bearer_of(request))

    def _answer(self, request: httpx.Request, now: datetime) -> httpx.Response:
        found = self.routes.find(request)
        if found is None:
            return mj.error(404, mj.NOT_FOUND)
        _, (family, fn), args = found
        if not (bearer_ok(request, self.token) or self.accounts.owning(bearer_of(request))):
            response = mj.error(401, mj.INVALID_TOKEN)
            response.headers.update(self.limits.headers("api", now))
            return response
        account = self.account_of(request)
        return limited(
            account.limits, family, now, lambda: fn(request, args, now, account),
            lambda: mj.error(429, mj.TOO_MANY),
        )  # fmt: skip

    def _refusal(self, request: httpx.Request, status: int, now: datetime) -> httpx.Response:
        """A 429 is Rack::Attack's per-token throttle, which answers before any controller:
        its 5-minute window, even for a POST (whose own budget spans 3 hours)."""
        if status == 429:
            response = mj.error(429, mj.TOO_MANY)
            limits = self.account_of(request).limits
            response.headers.update(limits.headers("api", now, spent=True))
            return response
        if status == 503:
            return mj.error(503, UNAVAILABLE)
        return mj.error(500, "Internal Server Error")

    def _reply_to(self, post_id: str | int, text: str) -> tuple[int, str, str]:
        """A public reply, mentioning the status's author."""
        status = self.world.statuses[int(post_id)]
        brands = self.brands.brands_in(status)
        who = brands[0].full if brands else STRANGER_HANDLES[0]
        return status.id, who, f"@{status.account.full} {text}"

    def probe_address(self) -> str:
        return self.me.full  # a direct status mentions the probe account as user@instance

    def account(self, handle: str) -> Account:
        """The account with this handle (made on first sight, as a stranger)."""
        with self._lock:
            return self.world.account(handle)

    # -- endpoints -----------------------------------------------------------------------------

    def _verify_credentials(
        self, request: httpx.Request, args: dict[str, str], now: datetime, acc: MastodonAccount
    ) -> httpx.Response:
        return mj.respond(200, mj.render_account(self.world, acc.me, credentials=True))

    def _lookup(self, request: httpx.Request) -> httpx.Response:
        acct = request.url.params.get("acct", "").strip()
        if not acct:
            raise mj.refusal(400, "param is missing or the value is empty: acct")
        account = self.world.accounts.get(self.world.full(acct))
        if account is None or not self.world.knows(account):
            raise mj.refusal(404, mj.RECORD_NOT_FOUND)
        return mj.respond(200, mj.render_account(self.world, account))

    def _search(self, request: httpx.Request) -> httpx.Response:
        """Accounts only: the one a `[@]user[@domain]` query names, if this instance knows it
        or, with resolve=true, if it exists anywhere (WebFinger); statuses and hashtags are
        never found."""
        params = request.url.params
        query = params.get("q", "").strip()
        if not query:
            raise mj.refusal(400, "param is missing or the value is empty: q")
        found = []
        account = self.world.accounts.get(self.world.full(query))
        resolve = params.get("resolve") in ("true", "1")
        wanted = params.get("type", "accounts") == "accounts"
        if wanted and account is not None and (resolve or self.world.knows(account)):
            self.world.known.add(account.full)
            found.append(mj.render_account(self.world, account))
        return mj.respond(200, {"accounts": found, "statuses": [], "hashtags": []})

    @staticmethod
    def _visible(status: Status, me: Account) -> bool:
        """Whether the probe account `me` may see the status."""
        return not status.deleted and (
            status.account is me
            or status.visibility in ("public", "unlisted")
            or me in status.mentions
        )

    def _account_statuses(self, request: httpx.Request, raw_id: str, me: Account) -> httpx.Response:
        account = self.world.by_id.get(raw_id)
        if account is None:
            raise mj.refusal(404, mj.RECORD_NOT_FOUND)
        params = request.url.params
        items = [s for s in self.world.statuses.values() if s.account is account]
        items = [s for s in items if self._visible(s, me)]
        if params.get("exclude_replies") in ("true", "1"):
            items = [s for s in items if s.in_reply_to is None]
        if params.get("pinned") in ("true", "1") or params.get("only_media") in ("true", "1"):
            items = []  # nothing is pinned, nothing has media
        chosen, headers = mj.page(items, request, default=20, kept=STATUSES_KEPT)
        body = [mj.render_status(self.world, s, me) for s in chosen]
        return mj.respond(200, body, headers)

    def _create(
        self, request: httpx.Request, args: dict[str, str], now: datetime, acc: MastodonAccount
    ) -> httpx.Response:
        me = acc.me
        key = request.headers.get("idempotency-key")
        if key:
            earlier = self._idempotent.get((me.id, key))
            if earlier is not None and now - earlier[1] < IDEMPOTENCY:
                status = self.world.statuses.get(earlier[0])
                if status is not None and not status.deleted:
                    # The status the first request made, not a second one (Mastodon's
                    # PostStatusService checks the key before anything else).
                    return mj.respond(200, mj.render_status(self.world, status, me))
        params = _form(request)
        text = str(params.get("status") or "")
        visibility = str(params.get("visibility") or "public")
        if not text.strip():
            raise mj.refusal(422, "Validation failed: Text can't be blank")
        if visibility not in VISIBILITIES:
            raise mj.refusal(422, f"Validation failed: Visibility '{visibility}' is not valid")
        if mj.length(text) > mj.MAX_CHARS:
            raise mj.refusal(
                422, f"Validation failed: Text character limit of {mj.MAX_CHARS} exceeded"
            )
        parent: Status | None = None
        raw_parent = params.get("in_reply_to_id")
        if raw_parent:
            parent = self.world.statuses.get(int(raw_parent)) if raw_parent.isdigit() else None
            if parent is None or not self._visible(parent, me):
                raise mj.refusal(404, mj.RECORD_NOT_FOUND)
        language = params.get("language") or None
        status = self.world.post(
            me,
            text,
            now,
            visibility=visibility,
            in_reply_to=parent,
            language=language,
            extra={"role": me.role},
        )
        if key:
            self._idempotent[(me.id, key)] = (status.id, now)
        if self.bots_enabled:
            acc.brands.probe_posted(status)  # the brands answer the account that asked
        return mj.respond(200, mj.render_status(self.world, status, me))

    def _status(self, raw_id: str, me: Account) -> Status | None:
        status = self.world.statuses.get(int(raw_id)) if raw_id.isdigit() else None
        return status if status is not None and self._visible(status, me) else None

    def _get_status(self, raw_id: str, me: Account) -> httpx.Response:
        status = self._status(raw_id, me)
        if status is None:
            raise mj.refusal(404, mj.NOT_FOUND)
        return mj.respond(200, mj.render_status(self.world, status, me))

    def _delete(self, raw_id: str, now: datetime, me: Account) -> httpx.Response:
        status = self._status(raw_id, me)
        if status is None or status.account is not me:
            raise mj.refusal(404, mj.RECORD_NOT_FOUND)
        self.world.delete(status, now)
        return mj.respond(200, mj.render_status(self.world, status, me, source=True))

    def _mine(self, me: Account) -> list[Notification]:
        """The account's notifications of statuses not deleted."""
        return [n for n in self.world.notifications if n.recipient is me and not n.status.deleted]

    def _notifications(self, request: httpx.Request, me: Account) -> httpx.Response:
        params = request.url.params
        types, excluded = params.get_list("types[]"), params.get_list("exclude_types[]")
        items = self._mine(me)
        if params.get("include_filtered") != "true":  # docs.joinmastodon.org/methods/notifications/
            items = [n for n in items if not n.filtered]
        if (types and "mention" not in types) or "mention" in excluded:
            items = []  # mentions are the only notifications this instance makes
        if params.get("account_id"):
            items = [n for n in items if n.status.account.id == params["account_id"]]
        chosen, headers = mj.page(items, request, default=40, kept=NOTIFICATIONS_KEPT)
        body = [mj.render_notification(self.world, n, me) for n in chosen]
        return mj.respond(200, body, headers)

    def _policy(self, me: Account) -> httpx.Response:
        pending = [n for n in self._mine(me) if n.filtered]
        senders = len({n.status.account.id for n in pending})
        return mj.respond(200, render_policy(self.world.policies[me.id], len(pending), senders))


def _channel(study: Study) -> ChannelSettings:
    try:
        return study.channel(CHANNEL)
    except KeyError:
        raise StudyError(
            "study.toml has no [channels.mastodon] table: the simulator's Mastodon face needs "
            "its api_base (the probe account's instance) and account"
        ) from None


def _form(request: httpx.Request) -> dict[str, str]:
    """The parameters of a POST: a JSON object or a form, as Mastodon accepts either."""
    content_type = request.headers.get("content-type", "")
    raw = request.content
    if "json" in content_type:
        try:
            body: Any = json.loads(raw)
        except ValueError:
            raise mj.refusal(400, "Error occurred while parsing request parameters") from None
        if not isinstance(body, dict):
            raise mj.refusal(400, "Error occurred while parsing request parameters")
        return {k: "" if v is None else str(v) for k, v in body.items()}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
