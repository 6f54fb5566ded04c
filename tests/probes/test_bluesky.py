"""The Bluesky channel against recorded bsky.social responses (tests/fixtures/bluesky) and a
small scripted PDS, on a manual clock."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from probes.channels.base import AuthError, OutcomeUnknown, RateLimit, Rejected, Transient, Wiring
from probes.channels.bluesky import parse as bp
from probes.channels.bluesky.adapter import BlueskyChannel, build, preflight
from probes.channels.bluesky.session import CHAT_PROXY, EXPIRED_RENEWALS
from probes.channels.registry import SIM_TOKEN
from study.clock import ManualClock
from study.errors import StudyError
from study.model import ChannelSettings, PlannedProbe, ReplyKind, Scope
from study.timeutil import from_epoch, parse_iso
from tests.probes.cassette import Recorded, Replay

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bluesky"
BSKY = "https://bsky.social"
ACCOUNT = "replybench.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"  # an app password's shape
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# The accounts that recorded the cassettes (christopherkenny/bskyr): the package's own
# account, and its author's.
BSKYR, BSKYR_HANDLE = "did:plc:5c2r73erhng4bszmxlfdtscf", "bskyr.bsky.social"
CHRIS, CHRIS_HANDLE = "did:plc:wpe35pganb6d4pg4ekmfy6u5", "chriskenny.bsky.social"
LOGIN, REFRESH = "com.atproto.server.createSession", "com.atproto.server.refreshSession"
NOTIFICATIONS = "app.bsky.notification.listNotifications"
CREATE = "com.atproto.repo.createRecord"


def bluesky_cassette(name: str) -> list[Recorded]:
    """The exchanges of one of bskyr's cassettes (R vcr: `http_interactions`, plain bodies).

    Bodies were stored decoded, so the recorded Content-Encoding (and length) is dropped.
    """
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    out = []
    for interaction in data["http_interactions"]:
        request, response = interaction["request"], interaction["response"]
        url = httpx.URL(request["uri"])
        headers = tuple(
            (k, str(v))
            for k, v in response["headers"].items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        )
        body = str(response["body"]["string"]).encode("utf-8")
        out.append(
            Recorded(
                request["method"].upper(),
                url.path,
                url.query.decode(),
                int(response["status"]),
                headers,
                body,
            )
        )
    return out


def recorded(name: str, method: str) -> Recorded:
    return next(r for r in bluesky_cassette(name) if r.path.endswith("/" + method))


def recorded_json(name: str) -> Any:
    """A raw response recorded by MarshalX/atproto (tests/fixtures/bluesky/atproto)."""
    return json.loads((FIXTURES / "atproto" / name).read_text(encoding="utf-8"))


# -- a scripted PDS -------------------------------------------------------------------------

Answer = Callable[[httpx.Request], httpx.Response]


def ok(body: dict[str, Any], **headers: str) -> Answer:
    return lambda request: httpx.Response(200, json=body, headers=_names(headers))


def err(status: int, name: str, message: str, **headers: str) -> Answer:
    body = {"error": name, "message": message}
    return lambda request: httpx.Response(status, json=body, headers=_names(headers))


def _names(headers: dict[str, str]) -> dict[str, str]:
    return {k.replace("_", "-"): v for k, v in headers.items()}


def raises(exc: type[httpx.TransportError]) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc("scripted", request=request)

    return answer


def session_body(did: str, handle: str, n: int) -> dict[str, Any]:
    """A createSession/refreshSession answer (the lexicon's fields; none was recorded)."""
    return {
        "did": did,
        "handle": handle,
        "accessJwt": f"eyJ0eXAiOiJhdCtqd3Qi.access-{n}.sig",
        "refreshJwt": f"eyJ0eXAiOiJyZWZyZXNoK2p3dCJ9.refresh-{n}.sig",
        "active": True,
    }


class Fake:
    """A PDS that answers each XRPC method from its script (the last answer repeats, a
    Recorded is replayed); sessions succeed with fresh tokens unless scripted."""

    def __init__(
        self,
        clock: ManualClock,
        script: dict[str, list[Answer | Recorded]] | None = None,
        *,
        did: str = BSKYR,
        handle: str = ACCOUNT,
    ) -> None:
        self.clock, self.did, self.handle = clock, did, handle
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.requests: list[tuple[datetime, httpx.Request]] = []
        self.sessions = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((self.clock.now(), request))
        method = request.url.path.rsplit("/", 1)[-1]
        queue = self.script.get(method)
        if queue:
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
            return answer.response(request) if isinstance(answer, Recorded) else answer(request)
        if method in (LOGIN, REFRESH):
            self.sessions += 1
            return ok(session_body(self.did, self.handle, self.sessions))(request)
        raise AssertionError(f"no answer scripted for {method}")

    def calls(self, method: str) -> list[httpx.Request]:
        return [r for _, r in self.requests if r.url.path.endswith("/" + method)]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self), base_url=BSKY)


def channel(client: httpx.AsyncClient, clock: ManualClock, **kw: Any) -> BlueskyChannel:
    kw.setdefault("account", ACCOUNT)
    kw.setdefault("read_dms", False)
    return BlueskyChannel(client, password=PASSWORD, clock=clock, rng=random.Random(3), **kw)


def probe(
    text: str, handle: str = BSKYR_HANDLE, probe_id: str = "kaito-DE-bluesky-r1"
) -> PlannedProbe:
    return PlannedProbe(
        probe_id,
        "kaito",
        "DE",
        "bluesky",
        handle,
        Scope.LOCAL,
        "s1",
        "business",
        1,
        text,
        START,
        START,
        START + timedelta(hours=8),
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# -- replaying the recordings ---------------------------------------------------------------


async def test_a_refused_login_as_recorded_is_an_auth_error(clock: ManualClock) -> None:
    replay = Replay(bluesky_cassette("repo_auth_cache.yml"))
    async with replay.client(BSKY) as client:
        bsky = channel(client, clock)
        with pytest.raises(AuthError, match="Invalid identifier or password") as refused:
            await bsky.login()
    assert PASSWORD not in str(refused.value)
    assert json.loads(replay.requests[0].content) == {"identifier": ACCOUNT, "password": PASSWORD}
    key = f"POST {LOGIN}"
    assert bsky.rate_limits[key] == RateLimit(key, 10, 7, from_epoch(1748016454))


TEXT = "Grüße aus Köln 🎉 @bskyr.bsky.social: wo bleibt meine Bestellung?"


async def test_send_replays_the_recorded_resolve_and_create(clock: ManualClock) -> None:
    fake = Fake(
        clock,
        {
            m: [recorded("r_post_text.yml", m)]
            for m in ("com.atproto.identity.resolveHandle", CREATE)
        },
    )
    async with fake.client() as client:
        bsky = channel(client, clock, languages={"DE": "de"})
        sent = await bsky.send(probe(TEXT))
        clock.advance(60)
        again = await bsky.send(probe(TEXT + "!", probe_id="kaito-DE-bluesky-r2"))
    created = recorded("r_post_text.yml", CREATE).json()
    assert (sent.message_id, sent.sent_at) == (created["uri"], START)
    assert again.sent_at == START + timedelta(seconds=60)
    [resolve] = fake.calls("com.atproto.identity.resolveHandle")  # the DID is cached
    assert resolve.url.params["handle"] == BSKYR_HANDLE
    post = fake.calls(CREATE)[0]
    body = json.loads(post.content)
    assert (body["repo"], body["collection"]) == (BSKYR, "app.bsky.feed.post")
    record = body["record"]
    assert record["text"] == TEXT and record["langs"] == ["de"]
    assert record["createdAt"] == "2026-03-02T09:00:00.000Z"
    [facet] = record["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    # UTF-8 bytes, not characters: ü, ß and ö take two bytes, the emoji four (+1+1+1+3).
    assert (start, end) == (TEXT.index("@") + 6, TEXT.index("@") + 6 + 18)
    assert TEXT.encode()[start:end] == b"@bskyr.bsky.social"
    assert facet["features"] == [{"$type": bp.MENTION, "did": BSKYR}]
    assert post.headers["authorization"] == f"Bearer {session_body(BSKYR, ACCOUNT, 1)['accessJwt']}"
    assert "authorization" not in fake.calls(LOGIN)[0].headers
    assert bsky.rate_limits[f"POST {CREATE}"].remaining == 2997
    assert bsky.rate_limits["GET com.atproto.identity.resolveHandle"].remaining == 2999


def recorded_mentions() -> list[tuple[str, int, int, str]]:
    """(text, byteStart, byteEnd, handle) of every recorded mention facet whose handle is known."""
    handles = {BSKYR: BSKYR_HANDLE, CHRIS: CHRIS_HANDLE}
    records = [
        n["record"] for n in bluesky_cassette("n_notifications.yml")[0].json()["notifications"]
    ]
    records.append(recorded("r_post_reply.yml", "com.atproto.repo.getRecord").json()["value"])
    out = []
    for record in records:
        for facet in record.get("facets", []):
            for feature in facet["features"]:
                if feature["$type"] == bp.MENTION and feature["did"] in handles:
                    index = facet["index"]
                    out.append(
                        (
                            record["text"],
                            index["byteStart"],
                            index["byteEnd"],
                            handles[feature["did"]],
                        )
                    )
    return out


def test_mention_offsets_agree_with_the_recorded_facets() -> None:
    mentions = recorded_mentions()
    assert len(mentions) >= 12
    assert any(len(t[: t.index("@")].encode()) > t.index("@") for t, *_ in mentions)  # non-ASCII
    for text, start, end, handle in mentions:
        assert (start, end) in bp.mention_spans(text, handle), text
    assert bp.mention_spans("write to x@kaito.bsky.social", "kaito.bsky.social") == []
    assert bp.mention_spans("@kaito.bsky.social.uk hi", "kaito.bsky.social") == []
    assert bp.mention_spans("(@Kaito.Bsky.Social).", "kaito.bsky.social") == [(1, 19)]


def test_a_reply_without_a_readable_createdat_takes_its_indexedat() -> None:
    page = bluesky_cassette("n_notifications.yml")[0].json()["notifications"]
    item = next(n for n in page if n["reason"] == "mention" and "reply" in n["record"])
    indexed = parse_iso(item["indexedAt"])
    assert bp.notification_reply(item, BSKYR) is not None
    for created in ("0000-00-00T00:00:00Z", "2025-02-23T19:42:49", None):
        record = {k: v for k, v in item["record"].items() if k != "createdAt"}
        if created is not None:
            record["createdAt"] = created
        reply = bp.notification_reply({**item, "record": record}, BSKYR)
        assert reply is not None and reply.created_at == indexed, created
    own = {**item, "author": {"did": BSKYR, "handle": BSKYR_HANDLE}}
    assert bp.notification_reply(own, BSKYR) is None  # the account's own posts are not replies
    assert bp.notification_reply({**item, "reason": "like"}, BSKYR) is None


def notification_script(clock: ManualClock) -> Fake:
    """bskyr's recorded notifications and chat, each with an empty page after it."""

    def paged(name: str, key: str) -> Answer:
        page = bluesky_cassette(name)[0]

        def answer(request: httpx.Request) -> httpx.Response:
            if "cursor" in request.url.params:
                return httpx.Response(200, json={key: []})
            return page.response(request)

        return answer

    return Fake(
        clock,
        {
            NOTIFICATIONS: [paged("n_notifications.yml", "notifications")],
            "chat.bsky.convo.listConvos": [paged("c_list.yml", "convos")],
            "chat.bsky.convo.getMessages": [paged("c_messages.yml", "messages")],
        },
        did=BSKYR,
        handle=BSKYR_HANDLE,
    )


async def test_inbox_reads_recorded_notifications_and_messages(clock: ManualClock) -> None:
    fake = notification_script(clock)
    async with fake.client() as client:
        bsky = channel(client, clock, account=BSKYR_HANDLE, read_dms=True)
        replies, cursor = await bsky.inbox(None)
        again, after = await bsky.inbox(cursor)
    page = bluesky_cassette("n_notifications.yml")[0].json()["notifications"]
    answering = {n["uri"]: n for n in page if n["reason"] in ("reply", "mention", "quote")}
    posts = [r for r in replies if r.reply_id.startswith("at://")]
    assert {r.reply_id for r in posts} == set(answering) and len(posts) == 18  # no likes
    assert [r.created_at for r in replies] == sorted(r.created_at for r in replies)
    for r in posts:
        record = answering[r.reply_id]["record"]
        assert r.created_at == parse_iso(record["createdAt"])
        assert (r.author, r.author_id) == (
            answering[r.reply_id]["author"]["handle"],
            answering[r.reply_id]["author"]["did"],
        )
        parent = record.get("reply", {}).get("parent", {}).get("uri")
        assert r.in_reply_to == parent
        assert r.conversation_id == record.get("reply", {}).get("root", {}).get("uri")
        assert (r.kind is ReplyKind.OTHER) == (parent is None)
    microseconds = next(r for r in posts if r.created_at.microsecond == 710330)
    assert microseconds.created_at == datetime(2025, 2, 24, 4, 27, 20, 710330, tzinfo=UTC)
    assert {r.kind for r in posts if r.in_reply_to} == {ReplyKind.PUBLIC_REPLY}
    dms = [r for r in replies if not r.reply_id.startswith("at://")]
    assert [(r.text, r.author, r.kind) for r in dms] == [
        ("Test test test", CHRIS_HANDLE, ReplyKind.DIRECT_MESSAGE),
        ("Can you hear me?", CHRIS_HANDLE, ReplyKind.DIRECT_MESSAGE),
    ]  # bskyr's own "Hello"s are not inbox items
    assert dms[1].created_at == parse_iso("2025-05-18T14:33:51.935Z")
    assert {r.conversation_id for r in dms} == {"3ku7w6h4vog2d"}
    # A reaction gave "Can you hear me?" a later revision than the conversation's own: the
    # cursor keeps the latest revision seen anywhere.
    assert cursor == {
        "seen_indexed_at": page[0]["indexedAt"],
        "seen_uris": page[0]["uri"],
        "dm_rev": "2222223ej42tu",
    }
    assert (again, after) == ([], cursor)
    reads = fake.calls(NOTIFICATIONS)
    assert reads[0].url.params.get_list("reasons") == ["reply", "mention", "quote"]
    assert reads[0].url.params["limit"] == "100" and "cursor" not in reads[0].url.params
    assert reads[1].url.params["cursor"] == "2024-12-19T06:43:45.863Z"
    assert len(reads) == 3  # two pages on the first poll, one on the second
    assert len(fake.calls("chat.bsky.convo.getMessages")) == 2  # not opened again
    for r in fake.calls("chat.bsky.convo.listConvos"):
        assert r.headers["atproto-proxy"] == CHAT_PROXY
    assert "atproto-proxy" not in reads[0].headers


class NotificationPages:
    """listNotifications over a list of notifications (newest first), `size` a page, with
    the AppView's cursor: the last item's indexedAt, and the next page strictly older."""

    def __init__(self, items: list[dict[str, Any]], size: int) -> None:
        self.items, self.size = items, size

    def __call__(self, request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        items = [n for n in self.items if cursor is None or n["indexedAt"] < cursor]
        page = items[: self.size]
        body: dict[str, Any] = {"notifications": page}
        if page:
            body["cursor"] = page[-1]["indexedAt"]
        return httpx.Response(200, json=body)


def reply_notification(uri: str, indexed_at: str, text: str, parent: str) -> dict[str, Any]:
    ref = {"uri": parent, "cid": "bafyreid4i763c2iyr6adhmgriiisz2p7gleztu7tn66pfrl3qhe4hgoyny"}
    return {
        "uri": uri,
        "cid": "bafyrei",
        "author": {"did": CHRIS, "handle": CHRIS_HANDLE},
        "reason": "reply",
        "reasonSubject": parent,
        "isRead": False,
        "indexedAt": indexed_at,
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": indexed_at,
            "text": text,
            "reply": {"parent": ref, "root": ref},
        },
    }


async def test_inbox_pages_back_only_to_the_last_seen_notification(clock: ManualClock) -> None:
    recorded_page = bluesky_cassette("n_notifications.yml")[0].json()["notifications"]
    pages = NotificationPages(list(recorded_page), size=20)
    fake = Fake(clock, {NOTIFICATIONS: [pages]}, did=BSKYR, handle=BSKYR_HANDLE)
    probe_uri = f"at://{BSKYR}/app.bsky.feed.post/3lpdf2hyvhd2m"
    async with fake.client() as client:
        bsky = channel(client, clock, account=BSKYR_HANDLE)
        first, cursor = await bsky.inbox(None)
        assert len(fake.calls(NOTIFICATIONS)) == 4  # 20 + 20 + 10, then an empty page
        newer = reply_notification(
            f"at://{CHRIS}/app.bsky.feed.post/3lpnew2aaaa2a",
            "2025-05-18T10:00:00.000Z",
            "Happy to help!",
            probe_uri,
        )
        pages.items.insert(0, newer)
        second, cursor = await bsky.inbox(cursor)
        assert len(fake.calls(NOTIFICATIONS)) == 5  # page one held the last item seen
        # Another item indexed in the very same millisecond: new, though not newer.
        twin = reply_notification(
            f"at://{CHRIS}/app.bsky.feed.post/3lpnew3aaaa2a",
            "2025-05-18T10:00:00.000Z",
            "Please DM us",
            probe_uri,
        )
        pages.items.insert(0, twin)
        third, cursor = await bsky.inbox(cursor)
    assert len(first) == 18
    assert [(r.text, r.kind, r.in_reply_to) for r in second] == [
        ("Happy to help!", ReplyKind.PUBLIC_REPLY, probe_uri)
    ]
    assert [(r.text, r.kind) for r in third] == [("Please DM us", ReplyKind.REDIRECT)]
    assert cursor["seen_uris"].split() == sorted([newer["uri"], twin["uri"]])


async def test_find_sent_reads_the_recorded_records(clock: ManualClock) -> None:
    page = recorded("r_listrcd.yml", "com.atproto.repo.listRecords")
    records = page.json()["records"]

    def answer(request: httpx.Request) -> httpx.Response:
        if "cursor" in request.url.params:
            return httpx.Response(200, json={"records": []})
        return page.response(request)

    fake = Fake(clock, {"com.atproto.repo.listRecords": [answer]}, did=CHRIS, handle=CHRIS_HANDLE)
    target = records[5]
    posted = parse_iso(target["value"]["createdAt"])
    async with fake.client() as client:
        bsky = channel(client, clock, account=CHRIS_HANDLE)
        found = await bsky.find_sent(probe(target["value"]["text"]), posted - timedelta(minutes=1))
        assert len(fake.calls("com.atproto.repo.listRecords")) == 1  # stopped at older posts
        missing = await bsky.find_sent(probe("never posted"), datetime(2020, 1, 1, tzinfo=UTC))
        newest = parse_iso(records[0]["value"]["createdAt"])
        late = await bsky.find_sent(probe(target["value"]["text"]), newest + timedelta(days=1))
    assert found is not None and (found.message_id, found.sent_at) == (target["uri"], posted)
    assert missing is None and late is None
    reads = fake.calls("com.atproto.repo.listRecords")
    assert len(reads) == 4  # page one, page two (empty), then one page
    assert reads[0].url.params["repo"] == CHRIS and reads[0].url.params["limit"] == "100"
    assert reads[2].url.params["cursor"] == page.json()["cursor"]


async def test_a_refused_post_as_recorded_is_rejected_after_one_post(clock: ManualClock) -> None:
    fake = Fake(
        clock,
        {
            "com.atproto.identity.resolveHandle": [ok({"did": BSKYR})],
            CREATE: [recorded("r_post_errors.yml", CREATE)],
        },
    )
    async with fake.client() as client:
        with pytest.raises(Rejected, match="must not be longer than 300 graphemes"):
            await channel(client, clock).send(probe("@bskyr.bsky.social " + "x" * 300))
    assert len(fake.calls(CREATE)) == 1


async def test_targets_that_cannot_be_reached_are_rejected_with_the_fix(clock: ManualClock) -> None:
    unknown = err(400, "InvalidRequest", "Unable to resolve handle")
    fake = Fake(clock, {"com.atproto.identity.resolveHandle": [unknown]})
    async with fake.client() as client:
        bsky = channel(client, clock)
        with pytest.raises(
            Rejected,
            match=r"@nosuch\.bsky\.social \(brand kaito, DE, probe "
            r"kaito-DE-bluesky-r1\) does not resolve .*targets\.csv",
        ):
            await bsky.send(probe("@nosuch.bsky.social hi", handle="nosuch.bsky.social"))
        with pytest.raises(Rejected, match="'Kaito_DE'.* is not a Bluesky handle"):
            await bsky.send(probe("@Kaito_DE hi", handle="Kaito_DE"))
        with pytest.raises(Rejected, match=r"does not mention @bskyr\.bsky\.social"):
            await bsky.send(probe("hello, nobody in particular"))
    assert len(fake.calls("com.atproto.identity.resolveHandle")) == 1
    assert fake.calls(CREATE) == []


# -- sessions -------------------------------------------------------------------------------

CREATED = {"uri": f"at://{BSKYR}/app.bsky.feed.post/3lprdud4gi72i", "cid": "bafyrei"}
RESOLVED = {"com.atproto.identity.resolveHandle": [ok({"did": BSKYR})]}


async def test_an_expired_session_is_refreshed_and_the_post_made_once_more(
    clock: ManualClock,
) -> None:
    expired = err(400, "ExpiredToken", "Token has expired")
    fake = Fake(clock, {**RESOLVED, CREATE: [expired, ok(CREATED)]})
    async with fake.client() as client:
        sent = await channel(client, clock).send(probe("@bskyr.bsky.social hi"))
    assert sent.message_id == CREATED["uri"]
    order = [r.url.path.rsplit("/", 1)[1] for _, r in fake.requests]
    assert order == [LOGIN, "com.atproto.identity.resolveHandle", CREATE, REFRESH, CREATE]
    first, second = session_body(BSKYR, ACCOUNT, 1), session_body(BSKYR, ACCOUNT, 2)
    assert fake.calls(REFRESH)[0].headers["authorization"] == f"Bearer {first['refreshJwt']}"
    assert fake.calls(CREATE)[1].headers["authorization"] == f"Bearer {second['accessJwt']}"


async def test_a_refused_refresh_logs_in_again(clock: ManualClock) -> None:
    fake = Fake(
        clock,
        {
            NOTIFICATIONS: [
                err(401, "AuthenticationRequired", "Authentication Required"),
                ok({"notifications": []}),
            ],
            REFRESH: [err(400, "ExpiredToken", "Token has expired")],
        },
    )
    async with fake.client() as client:
        replies, _ = await channel(client, clock).inbox(None)
    assert replies == [] and len(fake.calls(LOGIN)) == 2 and len(fake.calls(NOTIFICATIONS)) == 2


async def test_a_session_refused_even_when_fresh_is_an_auth_error(clock: ManualClock) -> None:
    refused = err(401, "AuthenticationRequired", "Authentication Required")
    fake = Fake(clock, {**RESOLVED, CREATE: [refused]})
    async with fake.client() as client:
        with pytest.raises(AuthError, match="even with a fresh session") as e:
            await channel(client, clock).send(probe("@bskyr.bsky.social hi"))
    assert len(fake.calls(CREATE)) == 2 and len(fake.calls(REFRESH)) == 1
    assert "refresh-" not in str(e.value) and "access-" not in str(e.value)
    # ... and when the password no longer logs in, the post is not tried again.
    gone = err(401, "AuthenticationRequired", f"Invalid identifier or password {PASSWORD}")
    fake = Fake(
        clock,
        {
            **RESOLVED,
            CREATE: [refused],
            REFRESH: [refused],
            LOGIN: [ok(session_body(BSKYR, ACCOUNT, 1)), gone],
        },
    )
    async with fake.client() as client:
        with pytest.raises(AuthError, match="refused to log in") as e:
            await channel(client, clock).send(probe("@bskyr.bsky.social hi"))
    assert len(fake.calls(CREATE)) == 1
    assert PASSWORD not in str(e.value) and "[redacted]" in str(e.value)


async def test_a_fresh_session_refused_as_expired_is_renewed_a_few_times(
    clock: ManualClock,
) -> None:
    """A simulator at high speed on a busy machine: the fresh token's two hours pass while
    the call travels. The credentials are fine, so the session is renewed again."""
    expired = err(400, "ExpiredToken", "Token has expired")
    fake = Fake(clock, {**RESOLVED, CREATE: [expired, expired, expired, ok(CREATED)]})
    async with fake.client() as client:
        sent = await channel(client, clock).send(probe("@bskyr.bsky.social hi"))
    assert sent.message_id == CREATED["uri"]
    assert len(fake.calls(CREATE)) == 4 and len(fake.calls(REFRESH)) == 3
    # ... but not forever.
    fake = Fake(clock, {**RESOLVED, CREATE: [expired]})
    async with fake.client() as client:
        with pytest.raises(AuthError, match="ExpiredToken.*even with a fresh session"):
            await channel(client, clock).send(probe("@bskyr.bsky.social hi"))
    assert len(fake.calls(CREATE)) == 1 + EXPIRED_RENEWALS


def jwt(claims: dict[str, Any]) -> str:
    def b64(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{b64({'typ': 'at+jwt', 'alg': 'ES256K'})}.{b64(claims)}.c2ln"


async def test_a_session_about_to_expire_is_refreshed_before_the_call(
    clock: ManualClock,
) -> None:
    body = session_body(BSKYR, ACCOUNT, 1)
    body["accessJwt"] = jwt({"sub": BSKYR, "exp": int((START + timedelta(hours=2)).timestamp())})
    fake = Fake(clock, {**RESOLVED, LOGIN: [ok(body)], CREATE: [ok(CREATED)]})
    async with fake.client() as client:
        bsky = channel(client, clock)
        await bsky.send(probe("@bskyr.bsky.social hi"))
        assert fake.calls(REFRESH) == []  # two hours ahead: nothing to do
        clock.advance(timedelta(hours=1, minutes=57).total_seconds())
        await bsky.send(probe("@bskyr.bsky.social hi again", probe_id="kaito-DE-bluesky-r2"))
    # refreshed before the call (which was never refused), its new token used
    assert len(fake.calls(REFRESH)) == 1 and len(fake.calls(CREATE)) == 2
    assert fake.calls(CREATE)[-1].headers["authorization"] == (
        f"Bearer {session_body(BSKYR, ACCOUNT, 1)['accessJwt']}"  # the refresh's (login: jwt)
    )
    assert bp.token_expiry("not-a-jwt") is None and bp.token_expiry("a.b.c") is None


# -- rate limits, retries and unknown outcomes ---------------------------------------------


def epoch(when: datetime) -> str:
    return str(int(when.timestamp()))


async def test_a_429_on_a_read_waits_for_the_reset(clock: ManualClock) -> None:
    reset = START + timedelta(minutes=2)
    limited = err(
        429,
        "RateLimitExceeded",
        "Rate Limit Exceeded",
        RateLimit_Limit="3000",
        RateLimit_Remaining="0",
        RateLimit_Reset=epoch(reset),
    )
    fake = Fake(clock, {NOTIFICATIONS: [limited, ok({"notifications": []})]})
    async with fake.client() as client:
        await channel(client, clock).inbox(None)
    times = [t for t, r in fake.requests if r.url.path.endswith(NOTIFICATIONS)]
    assert times == [START, reset + timedelta(seconds=1)]


async def test_a_spent_budget_is_waited_for_before_the_next_read(clock: ManualClock) -> None:
    reset = START + timedelta(seconds=90)
    spent = ok(
        {"notifications": []},
        RateLimit_Limit="3000",
        RateLimit_Remaining="0",
        RateLimit_Reset=epoch(reset),
        RateLimit_Policy="3000;w=300",
    )
    fake = Fake(clock, {NOTIFICATIONS: [spent, ok({"notifications": []})]})
    async with fake.client() as client:
        bsky = channel(client, clock)
        await bsky.inbox(None)
        await bsky.inbox(None)
    key = f"GET {NOTIFICATIONS}"
    assert bsky.rate_limits[key] == RateLimit(key, 3000, 0, reset)  # the answer without any
    times = [t for t, r in fake.requests if r.url.path.endswith(NOTIFICATIONS)]
    assert times == [START, reset + timedelta(seconds=1)]


async def test_a_429_on_a_post_is_transient_until_the_reset(clock: ManualClock) -> None:
    reset = START + timedelta(hours=1)
    limited = err(
        429,
        "RateLimitExceeded",
        "Rate Limit Exceeded",
        RateLimit_Limit="5000",
        RateLimit_Remaining="0",
        RateLimit_Reset=epoch(reset),
        RateLimit_Policy="5000;w=3600",
    )
    fake = Fake(clock, {**RESOLVED, CREATE: [limited]})
    async with fake.client() as client:
        bsky = channel(client, clock)
        with pytest.raises(Transient) as e:
            await bsky.send(probe("@bskyr.bsky.social hi"))
        assert e.value.retry_at == reset
        with pytest.raises(Transient, match="not sent"):  # known spent: not even asked
            await bsky.send(probe("@bskyr.bsky.social hi"))
    assert len(fake.calls(CREATE)) == 1 and clock.now() == START


async def test_server_errors_on_reads_are_retried_with_backoff(clock: ManualClock) -> None:
    fake = Fake(
        clock,
        {
            NOTIFICATIONS: [
                err(502, "UpstreamFailure", "Upstream Failure"),
                err(503, "NotEnoughResources", "Not Enough Resources"),
                ok({"notifications": []}),
            ]
        },
    )
    async with fake.client() as client:
        replies, _ = await channel(client, clock).inbox(None)
    times = [t for t, r in fake.requests if r.url.path.endswith(NOTIFICATIONS)]
    assert replies == [] and len(times) == 3
    assert times[0] == START <= times[1] <= times[2] and times[2] > START
    assert times[2] - START <= timedelta(seconds=3)  # full jitter: at most 1 s, then 2 s
    fake = Fake(clock, {NOTIFICATIONS: [err(500, "InternalServerError", "Internal Server Error")]})
    async with fake.client() as client:
        with pytest.raises(Transient, match="after 3 attempts"):
            await channel(client, clock, max_retries=2).inbox(None)
    assert len(fake.calls(NOTIFICATIONS)) == 3


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (err(503, "NotEnoughResources", "Not Enough Resources"), OutcomeUnknown),
        (raises(httpx.RemoteProtocolError), OutcomeUnknown),
        (raises(httpx.ReadTimeout), OutcomeUnknown),
        (raises(httpx.ConnectError), Transient),
    ],
)
async def test_a_post_is_sent_once_whatever_happens(
    clock: ManualClock, answer: Answer, error: type[Exception]
) -> None:
    fake = Fake(clock, {**RESOLVED, CREATE: [answer]})
    async with fake.client() as client:
        with pytest.raises(error) as e:
            await channel(client, clock).send(probe("@bskyr.bsky.social hi"))
    assert type(e.value) is error
    assert len(fake.calls(CREATE)) == 1 and clock.now() == START


async def test_a_login_that_fails_on_the_way_is_transient(clock: ManualClock) -> None:
    fake = Fake(clock, {LOGIN: [err(502, "UpstreamFailure", "Upstream Failure")]})
    async with fake.client() as client:
        with pytest.raises(Transient):
            await channel(client, clock).login()


async def test_no_secret_reaches_a_message(clock: ManualClock) -> None:
    token = session_body(BSKYR, ACCOUNT, 1)["accessJwt"]
    echo = err(400, "InvalidRequest", f"bad record from {token} ({PASSWORD})")
    fake = Fake(clock, {**RESOLVED, CREATE: [echo]})
    async with fake.client() as client:
        bsky = channel(client, clock)
        with pytest.raises(Rejected) as e:
            await bsky.send(probe("@bskyr.bsky.social hi"))
    assert token not in str(e.value) and PASSWORD not in str(e.value)
    assert str(e.value).count("[redacted]") == 2
    assert PASSWORD not in repr(bsky.xrpc.session) and token not in repr(bsky.xrpc.session)


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ConnectError])
async def test_a_network_error_quoting_the_session_is_scrubbed(
    clock: ManualClock, failure: type[httpx.TransportError]
) -> None:
    """The session's JWTs ride on the request (httpx.Auth), not in the client's headers."""
    token = session_body(BSKYR, ACCOUNT, 1)["accessJwt"]

    def cut(request: httpx.Request) -> httpx.Response:
        raise failure(f"lost while sending {request.headers['authorization']}")

    fake = Fake(clock, {**RESOLVED, CREATE: [cut]})
    async with fake.client() as client:
        with pytest.raises((OutcomeUnknown, Transient)) as e:
            await channel(client, clock).send(probe("@bskyr.bsky.social hi"))
    assert token not in str(e.value) and "Bearer [redacted]" in str(e.value)


# -- the registry's entry points ------------------------------------------------------------

SETTINGS = ChannelSettings("bluesky", "https://bsky.social", ACCOUNT, "BSKY_PASSWORD")


async def test_build_refuses_a_real_pds_without_live(clock: ManualClock) -> None:
    with pytest.raises(StudyError, match="refusing to send to https://bsky.social without --live"):
        build(SETTINGS, Wiring({"BSKY_PASSWORD": PASSWORD}, clock, None, False))
    with pytest.raises(StudyError, match="environment variable BSKY_PASSWORD is not set"):
        build(SETTINGS, Wiring({}, clock, None, True))
    with pytest.raises(StudyError, match="is not an http"):
        build(SETTINGS, Wiring({}, clock, "bsky.social", True))
    bsky, close = build(
        SETTINGS, Wiring({}, clock, "http://127.0.0.1:8765/", False), languages={"DE": "de"}
    )
    assert bsky.xrpc._password == f"{SIM_TOKEN}.{ACCOUNT}" and bsky.languages == {"DE": "de"}
    assert bsky.xrpc.http.client.base_url == httpx.URL("http://127.0.0.1:8765")
    await close()
    live, close = build(SETTINGS, Wiring({"BSKY_PASSWORD": PASSWORD}, clock, None, True))
    assert live.xrpc._password == PASSWORD and live.name == "bluesky"
    await close()


async def test_preflight_checks_login_and_access_to_messages(clock: ManualClock) -> None:
    fake = Fake(clock, {"chat.bsky.convo.listConvos": [ok({"convos": []})]})
    async with fake.client() as client:
        await preflight(channel(client, clock, read_dms=True))
    scope = err(400, "InvalidToken", "Bad token scope")
    fake = Fake(clock, {"chat.bsky.convo.listConvos": [scope]})
    async with fake.client() as client:
        with pytest.raises(AuthError, match="access to direct messages"):
            await preflight(channel(client, clock, read_dms=True))
    other = Fake(clock, handle="someone-else.bsky.social")
    async with other.client() as client:
        with pytest.raises(AuthError, match="logs in @someone-else.bsky.social, not .*@" + ACCOUNT):
            await preflight(channel(client, clock))
