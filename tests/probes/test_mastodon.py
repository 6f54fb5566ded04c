"""The Mastodon channel against recorded Mastodon 4.x responses (tests/fixtures/mastodon,
halcy/Mastodon.py's cassettes) and small stateful fakes on a manual clock."""

from __future__ import annotations

import base64
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from probes.channels.base import (
    AuthError,
    OutcomeUnknown,
    RateLimit,
    Rejected,
    Reply,
    Transient,
    Wiring,
)
from probes.channels.mastodon import parse as mp
from probes.channels.mastodon.adapter import (
    ACCOUNT_STATUSES,
    CREATE_STATUS,
    NOTIFICATIONS,
    VERIFY,
    MastodonChannel,
    build,
    preflight,
)
from study.clock import ManualClock
from study.errors import StudyError
from study.model import ChannelSettings, PlannedProbe, ReplyKind, Scope
from study.timeutil import parse_iso
from tests.probes.cassette import (
    FIXTURES,
    SECRET_TOKEN,
    Recorded,
    Replay,
    client_for,
    load_cassette,
)

pytestmark = pytest.mark.anyio

BASE = "http://localhost:3000"  # where Mastodon.py recorded
INSTANCE = "localhost:3000"
START = datetime(2026, 8, 1, 13, 45, tzinfo=UTC)  # before the recordings' first request
TEST_ID = "117020565966271181"  # @mastodonpy_test, the recording account
ADMIN_ID = "117020565693913441"  # @admin
TEST_2_ID = "117020566092212359"  # @mastodonpy_test_2


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def cassette(*names: str) -> list[Recorded]:
    return [r for n in names for r in load_cassette(FIXTURES / "mastodon" / n)]


def recording(name: str, method: str, path: str, index: int = 0) -> Recorded:
    found = [r for r in cassette(name) if r.method == method and r.path == path]
    return found[index]


def probe(text: str = "Toot!", probe_id: str = "acme-DE-mastodon-r1") -> PlannedProbe:
    return PlannedProbe(
        probe_id, "acme", "DE", "mastodon", "acme@social.example", Scope.LOCAL, "s1",
        "business", 1, text, START, START, START + timedelta(hours=8),
    )  # fmt: skip


def channel(client: httpx.AsyncClient, clock: ManualClock, account: str = "mastodonpy_test",
            **kw: Any) -> MastodonChannel:  # fmt: skip
    return MastodonChannel(client, account=account, instance=INSTANCE, clock=clock, **kw)


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> Recorded:
    """A made-up exchange, for what no cassette recorded (the path is set where it is used)."""
    return Recorded(
        "GET", "/", "", status, tuple((headers or {}).items()), json.dumps(body).encode()
    )


def at(recorded: Recorded, method: str, path: str) -> Recorded:
    return replace(recorded, method=method, path=path)


VERIFY_PATH = "/api/v1/accounts/verify_credentials"
STATUSES = "/api/v1/statuses"
NOTES = "/api/v1/notifications"
EMPTY_PAGE = answer(200, [])


# -- replaying the recordings -----------------------------------------------------------


async def test_me_reads_the_recorded_account_once(clock: ManualClock) -> None:
    replay = Replay(cassette("test_account_lookup.yaml"))
    async with replay.client(BASE) as client:
        m = channel(client, clock)
        assert await m.me() == TEST_ID
        assert await m.me() == TEST_ID
    assert [r.url.path for r in replay.requests] == [VERIFY_PATH]
    assert replay.requests[0].headers["authorization"] == f"Bearer {SECRET_TOKEN}"
    # The reset is ISO 8601 with microseconds ("13:50:00.809356Z"): kept rounded up.
    reset = datetime(2026, 8, 1, 13, 50, 1, tzinfo=UTC)
    assert m.rate_limits[VERIFY] == RateLimit(VERIFY, 300, 299, reset)


async def test_me_refuses_a_token_of_another_account(clock: ManualClock) -> None:
    async with Replay(cassette("test_account_lookup.yaml")).client(BASE) as client:
        with pytest.raises(AuthError, match="belongs to @mastodonpy_test@localhost:3000, not"):
            await preflight(channel(client, clock, account="replybench"))


async def test_lookup_finds_an_account_and_says_none_for_a_404(clock: ManualClock) -> None:
    replay = Replay(cassette("test_account_lookup.yaml"))
    async with replay.client(BASE) as client:
        m = channel(client, clock)
        assert await m.lookup("kljadklajsdkljlkjlkjlkjasdasd") is None  # recorded 404 first
        found = await m.lookup("@mastodonpy_test@localhost:3000")
    assert found is not None and found["id"] == TEST_ID and found["acct"] == "mastodonpy_test"
    assert replay.requests[-1].url.params["acct"] == "mastodonpy_test@localhost:3000"


async def test_send_posts_a_status_with_an_idempotency_key(clock: ManualClock) -> None:
    replay = Replay(cassette("test_account_lookup.yaml", "test_status_post[None-public].yaml"))
    async with replay.client(BASE) as client:
        m = channel(client, clock)
        sent = await m.send(probe("Toot!"))
    assert sent.message_id == "117020585924712638"
    assert sent.sent_at == parse_iso("2026-08-01T13:53:56.596Z")  # the status's created_at
    assert sent.followers == 0  # the recorded account's followers_count
    post = replay.requests[-1]
    assert (post.method, post.url.path) == ("POST", STATUSES)
    assert json.loads(post.content) == {"status": "Toot!", "visibility": "public"}
    assert post.headers["idempotency-key"] == "acme-DE-mastodon-r1"
    reset = datetime(2026, 8, 1, 15, 0, 1, tzinfo=UTC)  # 300 statuses per 3 hours
    assert m.rate_limits[CREATE_STATUS] == RateLimit(CREATE_STATUS, 300, 216, reset)


async def test_send_uses_the_configured_visibility(clock: ManualClock) -> None:
    replay = Replay(cassette("test_account_lookup.yaml", "test_status_post[None-direct].yaml"))
    async with replay.client(BASE) as client:
        sent = await channel(client, clock, visibility="direct").send(probe())
    assert sent.message_id == "117020585877056474"
    assert json.loads(replay.requests[-1].content)["visibility"] == "direct"


async def test_a_422_is_rejected_with_the_servers_words(clock: ManualClock) -> None:
    replay = Replay(cassette("test_account_lookup.yaml", "test_status_empty.yaml"))
    async with replay.client(BASE) as client:
        with pytest.raises(Rejected) as e:
            await channel(client, clock).send(probe(""))
    assert "422" in str(e.value) and "Textを入力してください" in str(e.value)
    assert "acme-DE-mastodon-r1" in str(e.value)


async def test_a_404_on_post_is_rejected(clock: ManualClock) -> None:
    missing = at(
        recording("test_status_missing.yaml", "GET", "/api/v1/statuses/0"), "POST", STATUSES
    )
    replay = Replay([*cassette("test_account_lookup.yaml"), missing])
    async with replay.client(BASE) as client:
        with pytest.raises(Rejected, match="404 Not Found"):
            await channel(client, clock).send(probe())


async def test_a_401_is_an_auth_error_without_the_token(clock: ManualClock) -> None:
    refused = recording("test_home_tl_anonymous_throws.yaml", "GET", "/api/v1/timelines/home")
    replay = Replay([at(refused, "GET", VERIFY_PATH)])
    async with replay.client(BASE) as client:
        with pytest.raises(AuthError) as e:
            await channel(client, clock).me()
    assert "401" in str(e.value) and "The access token is invalid" in str(e.value)
    assert SECRET_TOKEN not in str(e.value)
    assert len(replay.requests) == 1  # an auth error is not retried


async def test_a_401_on_post_is_an_auth_error(clock: ManualClock) -> None:
    refused = recording("test_home_tl_anonymous_throws.yaml", "GET", "/api/v1/timelines/home")
    replay = Replay([*cassette("test_account_lookup.yaml"), at(refused, "POST", STATUSES)])
    async with replay.client(BASE) as client:
        with pytest.raises(AuthError, match="401"):
            await channel(client, clock).send(probe())


async def test_find_sent_follows_link_pagination_and_reads_html(clock: ManualClock) -> None:
    replay = Replay(cassette("test_fetch_next_previous.yaml"))
    async with replay.client(BASE) as client:
        m = channel(client, clock)
        since = parse_iso("2026-08-01T13:52:33.300Z")
        found = await m.find_sent(probe("Toot number 2!"), since)
    assert found is not None
    assert found.message_id == "117020580467310235"
    assert found.sent_at == parse_iso("2026-08-01T13:52:33.322Z")
    pages = [r for r in replay.requests if r.url.path.endswith("/statuses")]
    assert pages[0].url.path == f"/api/v1/accounts/{TEST_ID}/statuses"
    # The second page is the recorded `next` link's; the older page ends before `since`.
    assert pages[1].url.params["max_id"] == "117020580489281910"
    assert len(pages) == 2
    assert ACCOUNT_STATUSES in m.rate_limits


async def test_find_sent_returns_none_when_the_status_is_older(clock: ManualClock) -> None:
    replay = Replay(cassette("test_fetch_next_previous.yaml"))
    async with replay.client(BASE) as client:
        since = parse_iso("2026-08-01T13:52:33.300Z")
        assert await channel(client, clock).find_sent(probe("Toot number 0!"), since) is None


async def test_inbox_reads_a_recorded_mention_and_follows_next(clock: ManualClock) -> None:
    page = recording("test_notifications_mentions_only.yaml", "GET", NOTES)
    replay = Replay([*cassette("test_account_lookup.yaml"), page, at(EMPTY_PAGE, "GET", NOTES)])
    async with replay.client(BASE) as client:
        replies, cursor = await channel(client, clock).inbox(None)
    assert replies == [
        Reply(
            reply_id="117020577157693549",
            channel="mastodon",
            author="admin@localhost:3000",  # a local account: the instance's domain added
            author_id=ADMIN_ID,
            text="@mastodonpy_test hello!",
            created_at=parse_iso("2026-08-01T13:51:42.823Z"),
            kind=ReplyKind.OTHER,  # a mention that answers nothing
            in_reply_to=None,
        )
    ]
    assert cursor == {"notifications_since_id": "21"}
    first, second = (r for r in replay.requests if r.url.path == NOTES)
    assert first.url.params.get_list("types[]") == ["mention"]
    assert second.url.params["max_id"] == "21"
    assert second.url.params.get_list("types[]") == ["mention"]


def notification(status: dict[str, Any], notification_id: str = "30") -> dict[str, Any]:
    """The recorded mention notification, carrying another recorded status."""
    page = recording("test_notifications_mentions_only.yaml", "GET", NOTES).json()
    return {**page[0], "id": notification_id, "account": status["account"], "status": status}


def verified(account_id: str, username: str) -> Recorded:
    return at(answer(200, {"id": account_id, "username": username}), "GET", VERIFY_PATH)


async def test_inbox_finds_a_recorded_reply_to_the_probe_and_its_time(clock: ManualClock) -> None:
    reply = recording("test_status_reply.yaml", "POST", STATUSES, index=1).json()
    page = at(answer(200, [notification(reply)]), "GET", NOTES)
    replay = Replay([verified(TEST_2_ID, "mastodonpy_test_2"), page, at(EMPTY_PAGE, "GET", NOTES)])
    async with replay.client(BASE) as client:
        [found], cursor = await channel(client, clock, account="mastodonpy_test_2").inbox(None)
    assert found.reply_id == "117020583258292382"
    assert found.in_reply_to == "117020583245459824"  # the probe account's status
    assert found.conversation_id == "117020583245459824"  # a probe starts its thread
    assert found.created_at == parse_iso("2026-08-01T13:53:15.910Z")
    assert found.kind is ReplyKind.PUBLIC_REPLY
    assert found.text == "@mastodonpy_test_2 same!"
    assert cursor == {"notifications_since_id": "30"}


async def test_a_direct_status_is_a_direct_message(clock: ManualClock) -> None:
    dm = recording("test_conversations.yaml", "POST", STATUSES).json()
    page = at(answer(200, [notification(dm)]), "GET", NOTES)
    replay = Replay([verified(ADMIN_ID, "admin"), page, at(EMPTY_PAGE, "GET", NOTES)])
    async with replay.client(BASE) as client:
        [found], _ = await channel(client, clock, account="admin").inbox(None)
    assert found.kind is ReplyKind.DIRECT_MESSAGE
    assert found.author == "mastodonpy_test_2@localhost:3000"
    assert found.text == "@admin ilu bby ;3" and found.in_reply_to is None


# -- a small stateful fake ----------------------------------------------------------------


class Fake:
    """Per path, answers served in order (the last repeating): responses, bodies or
    exceptions; remembers each request and the clock at it."""

    def __init__(self, clock: ManualClock, routes: dict[str, list[Any]]) -> None:
        self.clock, self.routes = clock, routes
        self.routes.setdefault(VERIFY_PATH, [{"id": TEST_ID, "username": "mastodonpy_test"}])
        self.calls: list[tuple[httpx.Request, datetime]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request, self.clock.now()))
        answers = self.routes[request.url.path]
        item = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return item
        return httpx.Response(200, json=item)

    def times(self, path: str, method: str = "GET") -> list[datetime]:
        return [t for r, t in self.calls if r.url.path == path and r.method == method]


def limited(status: int, body: object, remaining: int, reset: datetime) -> httpx.Response:
    """A response with Mastodon's headers; the reset as Mastodon writes it (ISO 8601)."""
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(remaining),
               "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}  # fmt: skip
    return httpx.Response(status, json=body, headers=headers)


def mention(n: int, status_id: int, when: datetime) -> dict[str, Any]:
    account = {"id": "9", "username": "acme", "acct": "acme@social.example"}
    status = {"id": str(status_id), "created_at": when.isoformat(), "in_reply_to_id": None,
              "visibility": "public", "content": f"<p>hi {n}</p>", "account": account}  # fmt: skip
    return {"id": str(n), "type": "mention", "created_at": when.isoformat(), "status": status}


def paged(items: list[dict[str, Any]], next_max: str | None) -> httpx.Response:
    link = f'<{BASE}{NOTES}?limit=80&max_id={next_max}&types%5B%5D=mention>; rel="next"'
    return httpx.Response(200, json=items, headers={"Link": link} if next_max else {})


async def test_inbox_pages_back_to_the_cursor_and_returns_oldest_first(
    clock: ManualClock,
) -> None:
    t = START
    fake = Fake(clock, {NOTES: [
        paged([mention(13, 103, t + timedelta(minutes=3)), mention(12, 102, t)], "12"),
        paged([mention(11, 101, t + timedelta(minutes=1))], "11"),
        paged([], None),
    ]})  # fmt: skip
    async with client_for(fake, BASE) as client:
        replies, cursor = await channel(client, clock).inbox({"notifications_since_id": "10"})
    assert [r.reply_id for r in replies] == ["102", "101", "103"]  # by the statuses' times
    assert cursor == {"notifications_since_id": "13"}
    reads = [r for r, _ in fake.calls if r.url.path == NOTES]
    # Mastodon's `next` links drop since_id: it is carried over, so paging stops at the cursor.
    assert [r.url.params.get("since_id") for r in reads] == ["10", "10", "10"]
    assert [r.url.params.get("max_id") for r in reads] == [None, "12", "11"]


async def test_a_quiet_inbox_keeps_its_cursor(clock: ManualClock) -> None:
    fake = Fake(clock, {NOTES: [paged([], None)]})
    async with client_for(fake, BASE) as client:
        replies, cursor = await channel(client, clock).inbox({"notifications_since_id": "10"})
    assert (replies, cursor) == ([], {"notifications_since_id": "10"})


async def test_a_429_waits_until_the_iso_reset(clock: ManualClock) -> None:
    reset = START + timedelta(minutes=4, seconds=30)
    fake = Fake(clock, {NOTES: [limited(429, {"error": "Too many requests"}, 0, reset),
                                paged([], None)]})  # fmt: skip
    async with client_for(fake, BASE) as client:
        m = channel(client, clock)
        await m.inbox(None)
    assert fake.times(NOTES) == [START, reset + timedelta(seconds=1)]
    assert m.rate_limits[NOTIFICATIONS].reset_at == reset


async def test_a_spent_budget_waits_without_asking(clock: ManualClock) -> None:
    reset = START + timedelta(minutes=2)
    fake = Fake(clock, {NOTES: [limited(200, [], 0, reset)]})
    async with client_for(fake, BASE) as client:
        m = channel(client, clock)
        await m.inbox(None)
        await m.inbox(None)
    assert fake.times(NOTES) == [START, reset + timedelta(seconds=1)]


async def test_5xx_on_get_backs_off_on_the_clock(clock: ManualClock) -> None:
    fake = Fake(clock, {NOTES: [httpx.Response(503, json={"error": "busy"}), paged([], None)]})
    async with client_for(fake, BASE) as client:
        await channel(client, clock, rng=random.Random(3)).inbox(None)
    first, second = fake.times(NOTES)
    assert timedelta(0) < second - first <= timedelta(seconds=1)  # attempt 0: up to 1 s


async def test_5xx_on_get_gives_up_as_transient(clock: ManualClock) -> None:
    fake = Fake(clock, {NOTES: [httpx.Response(500, json={"error": "boom"})]})
    async with client_for(fake, BASE) as client:
        with pytest.raises(Transient, match="after 3 attempts"):
            await channel(client, clock, max_retries=2).inbox(None)
    assert len(fake.times(NOTES)) == 3


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.Response(503, json={"error": "unavailable"}), OutcomeUnknown),
        (httpx.ReadTimeout("slow"), OutcomeUnknown),
        (httpx.RemoteProtocolError("Server disconnected"), OutcomeUnknown),
        (httpx.ConnectError("refused"), Transient),
    ],
)
async def test_a_failed_post_is_sent_once(
    clock: ManualClock, failure: Any, error: type[Exception]
) -> None:
    fake = Fake(clock, {STATUSES: [failure]})
    async with client_for(fake, BASE) as client:
        with pytest.raises(error) as e:
            await channel(client, clock).send(probe())
    assert len(fake.times(STATUSES, "POST")) == 1  # never retried here: the runner reconciles
    assert SECRET_TOKEN not in str(e.value)


async def test_a_429_on_post_says_when_to_come_back(clock: ManualClock) -> None:
    reset = START + timedelta(hours=2, microseconds=250_000)  # Mastodon keeps now's fraction
    fake = Fake(clock, {STATUSES: [limited(429, {"error": "Too many requests"}, 0, reset)]})
    async with client_for(fake, BASE) as client:
        m = channel(client, clock)
        with pytest.raises(Transient) as e:
            await m.send(probe())
        # Rounded up: a retry at this instant, stored to the millisecond, is never early.
        assert e.value.retry_at == START + timedelta(hours=2, seconds=1)
        with pytest.raises(Transient, match="not sent"):  # the spent budget is remembered
            await m.send(probe())
    assert len(fake.times(STATUSES, "POST")) == 1


async def test_an_error_body_echoing_the_token_is_redacted(clock: ManualClock) -> None:
    fake = Fake(clock, {VERIFY_PATH: [
        httpx.Response(403, json={"error": f"token {SECRET_TOKEN} is suspended"})
    ]})  # fmt: skip
    async with client_for(fake, BASE) as client:
        with pytest.raises(AuthError) as e:
            await channel(client, clock).me()
    assert SECRET_TOKEN not in str(e.value) and "[redacted]" in str(e.value)


@pytest.mark.parametrize(
    "echo",
    [SECRET_TOKEN.lower(), SECRET_TOKEN.upper(),
     base64.b64encode(f"Bearer {SECRET_TOKEN}".encode()).decode(),
     base64.urlsafe_b64encode(SECRET_TOKEN.encode()).decode().rstrip("="),
     quote(f"token={SECRET_TOKEN}", safe="").lower()],
    ids=["lower", "upper", "base64-of-header", "base64-urlsafe-unpadded", "percent-encoded"],
)  # fmt: skip
async def test_a_token_echoed_in_another_form_is_redacted(clock: ManualClock, echo: str) -> None:
    fake = Fake(clock, {VERIFY_PATH: [httpx.Response(403, json={"error": f"bad: {echo}"})]})
    async with client_for(fake, BASE) as client:
        with pytest.raises(AuthError) as e:
            await channel(client, clock).me()
    message = str(e.value)
    assert message.endswith("[redacted])") and SECRET_TOKEN.lower() not in message.lower()


# -- text ---------------------------------------------------------------------------------


def test_plain_text_strips_mastodons_html() -> None:
    content = (
        '<p><span class="h-card" translate="no"><a href="https://social.example/@acme" '
        'class="u-url mention">@<span>acme</span></a></span> Tom &amp; Jerry&#39;s &lt;3<br />'
        'line two</p><p>next <a href="https://x.example/a" rel="nofollow noopener">'
        '<span class="invisible">https://</span><span class="">x.example/a</span></a></p>'
    )
    text = mp.plain_text(content)
    assert text == "@acme Tom & Jerry's <3\nline two\n\nnext https://x.example/a"
    sent = "@Acme@social.example  Tom & Jerry's <3 line two next https://x.example/a"
    assert mp.comparable(text) == mp.comparable(sent)
    assert mp.comparable("@acme hi") != mp.comparable("@acme hello")


def test_qualified_adds_the_instance_to_local_accounts() -> None:
    assert mp.qualified("admin", "mastodon.social") == "admin@mastodon.social"
    assert mp.qualified("kaito@social.example", "mastodon.social") == "kaito@social.example"
    assert mp.instance_of("https://Mastodon.Social/") == "mastodon.social"
    assert mp.instance_of("http://localhost:3000") == "localhost:3000"


# -- build and preflight ------------------------------------------------------------------

SETTINGS = ChannelSettings(
    "mastodon", "https://mastodon.social", "replybench", "MASTODON_TOKEN",
    (("visibility", "unlisted"),),
)  # fmt: skip


async def test_build_refuses_a_real_instance_without_live(clock: ManualClock) -> None:
    with pytest.raises(StudyError, match="without --live"):
        build(SETTINGS, Wiring({"MASTODON_TOKEN": "t0k3n"}, clock, None, False))


async def test_build_on_the_simulator_keeps_the_study_instance(clock: ManualClock) -> None:
    built, close = build(SETTINGS, Wiring({}, clock, "http://127.0.0.1:8765", False))
    try:
        assert isinstance(built, MastodonChannel)
        assert built.instance == "mastodon.social"  # local handles are still @mastodon.social
        assert built.visibility == "unlisted"
        assert str(built._http.client.base_url) == "http://127.0.0.1:8765"
    finally:
        await close()
    assert built._http.client.is_closed


async def test_build_live_needs_the_token_and_never_shows_it(clock: ManualClock) -> None:
    with pytest.raises(StudyError, match="MASTODON_TOKEN is not set"):
        build(SETTINGS, Wiring({}, clock, None, True))
    built, close = build(SETTINGS, Wiring({"MASTODON_TOKEN": SECRET_TOKEN}, clock, None, True))
    assert built._http.client.headers["authorization"] == f"Bearer {SECRET_TOKEN}"
    await close()


async def test_build_refuses_an_unknown_visibility(clock: ManualClock) -> None:
    bad = replace(SETTINGS, options=(("visibility", "followers"),))
    with pytest.raises(StudyError, match="visibility 'followers'"):
        build(bad, Wiring({}, clock, "http://127.0.0.1:1", False))
