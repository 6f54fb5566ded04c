"""The X channel against recorded X API v2 responses (tests/fixtures/x) and small fakes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from probes.channels.base import AuthError, RateLimit
from probes.channels.x import parse as xp
from probes.channels.x.adapter import CREATE_POST, ME, XChannel
from study.clock import ManualClock
from study.model import ReplyKind
from study.timeutil import from_epoch, parse_iso
from tests.probes.cassette import SECRET_TOKEN, Replay, client_for, load_cassette
from tests.probes.x_fakes import (
    START,
    TWEEPY_DEV,
    TWITTER,
    Fake,
    X,
    cassette,
    json_response,
    probe,
    twarc_page,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# Tweepy recorded @Twitter's mentions and posts but /users/me as @TweepyDev: @Twitter's own
# recorded user object (GET /2/users/by/username/Twitter) stands in for its /users/me.
AS_TWITTER = {"/2/users/me": "/2/users/by/username/Twitter"}
TWITTER_ME = ("test_client_get_user.yaml",)
NO_DMS = ("test_manage_and_lookup_direct_messages.yaml",)  # its GET /2/dm_events is empty


# -- replaying the recordings -----------------------------------------------------------


async def test_me_reads_recorded_user_and_is_cached(clock: ManualClock) -> None:
    replay = Replay(cassette("test_client_get_me.yaml"))
    async with replay.client() as client:
        x = XChannel(client, account="@TweepyDev", clock=clock)
        assert await x.me() == TWEEPY_DEV
        assert await x.me() == TWEEPY_DEV
    assert len(replay.requests) == 1
    assert replay.requests[0].headers["authorization"] == f"Bearer {SECRET_TOKEN}"
    assert x.rate_limits[ME] == RateLimit(ME, 75, 74, from_epoch(1641543656))
    assert clock.now() == START  # budget left: no waiting


async def test_me_refuses_a_token_of_another_account(clock: ManualClock) -> None:
    async with Replay(cassette("test_client_get_me.yaml")).client() as client:
        with pytest.raises(AuthError, match="belongs to @TweepyDev, not to .* @probe_de"):
            await XChannel(client, account="probe_de", clock=clock).me()


async def test_lookup_recorded_user(clock: ManualClock) -> None:
    replay = Replay(cassette("test_client_get_user.yaml"))
    async with replay.client() as client:
        user = await XChannel(client, account="x", clock=clock).lookup("@Twitter")
    assert user == {"id": TWITTER, "name": "Twitter", "username": "Twitter"}
    assert replay.requests[0].url.path == "/2/users/by/username/Twitter"


# X reports a missing user as 200 with only errors[]: the documented shape, and the real
# problem recorded (in noflat.jsonl's errors[]) for a suspended user.
NOT_FOUND = {
    "value": "nosuchuser",
    "detail": "Could not find user with username: [nosuchuser].",
    "title": "Not Found Error",
    "resource_type": "user",
    "parameter": "username",
    "resource_id": "nosuchuser",
    "type": "https://api.twitter.com/2/problems/resource-not-found",
}


@pytest.mark.parametrize("problem", [NOT_FOUND, twarc_page("noflat.jsonl")["errors"][0]])
async def test_lookup_not_found_is_none(clock: ManualClock, problem: dict[str, Any]) -> None:
    fake = Fake(clock, {"/2/users/by/username/nosuchuser": [{"errors": [problem]}]})
    async with client_for(fake) as client:
        assert await XChannel(client, account="x", clock=clock).lookup("nosuchuser") is None


async def test_send_replays_recorded_create(clock: ManualClock) -> None:
    replay = Replay(cassette("test_client_get_me.yaml", "test_client_create_and_delete_tweet.yaml"))
    async with replay.client() as client:
        x = XChannel(client, account="TweepyDev", clock=clock)
        sent = await x.send(probe("Test Tweet"))
    # sent_at is the platform's own time: the recorded post id's snowflake, to the ms.
    assert (sent.probe_id, sent.message_id, sent.sent_at) == (
        "brand-NO-x-r1", "1456012973835788293",
        datetime(2021, 11, 3, 21, 38, 39, 32000, tzinfo=UTC),
    )  # fmt: skip
    post = replay.requests[-1]
    assert (post.method, post.url.path) == ("POST", "/2/tweets")
    assert json.loads(post.content) == {"text": "Test Tweet"}
    assert x.rate_limits[CREATE_POST].remaining == 199


async def test_inbox_parses_recorded_mentions(clock: ManualClock) -> None:
    recs = cassette(*TWITTER_ME, "test_client_get_users_mentions.yaml", *NO_DMS)
    replay = Replay(recs, alias=AS_TWITTER)

    def handler(request: httpx.Request) -> httpx.Response:
        if "pagination_token" in request.url.params:  # tweepy did not record page 2
            replay.requests.append(request)
            return json_response(200, {"meta": {"result_count": 0}})
        return replay(request)

    async with client_for(handler) as client:
        replies, cursor = await XChannel(client, account="Twitter", clock=clock).inbox(None)
    # tweepy asked for no fields: no created_at, so the time comes from the snowflake id,
    # which must lie just before the moment X answered.
    answered = parsedate_to_datetime(next(r for r in recs if "mentions" in r.path).header("date"))
    assert len(replies) == 10
    assert all(answered - timedelta(minutes=5) < r.created_at <= answered for r in replies)
    assert [r.created_at for r in replies] == sorted(r.created_at for r in replies)
    assert {r.kind for r in replies} == {ReplyKind.OTHER}  # no referenced_tweets: no replies
    assert cursor == {"mentions_since_id": "1578516295611748353"}
    mention_reads = [r for r in replay.requests if r.url.path == "/2/users/783214/mentions"]
    assert len(mention_reads) == 2
    assert mention_reads[1].url.params["pagination_token"] == recs[1].json()["meta"]["next_token"]
    assert mention_reads[0].url.params["max_results"] == "100"
    assert mention_reads[0].url.params["expansions"] == "author_id"
    assert "referenced_tweets" in mention_reads[0].url.params["tweet.fields"]


async def test_twarc_pages_read_as_mentions(clock: ManualClock) -> None:
    first, second = twarc_page("noflat.jsonl"), twarc_page("mentions_tweet.jsonl")
    fake = Fake(
        clock, {f"/2/users/{TWITTER}/mentions": [first, second], "/2/dm_events": [{"meta": {}}]}
    )
    async with client_for(fake) as client:
        replies, cursor = await XChannel(client, account="Twitter", clock=clock).inbox(None)
    reads = fake.params(f"/2/users/{TWITTER}/mentions")
    assert len(reads) == 2 and "since_id" not in reads[0]
    assert reads[1]["pagination_token"] == first["meta"]["next_token"]
    posts = {p["id"]: p for p in first["data"] + second["data"]}
    assert sorted(r.reply_id for r in replies) == sorted(posts)  # errors[] did not stop it
    assert [r.created_at for r in replies] == sorted(r.created_at for r in replies)
    for r in replies:
        post = posts[r.reply_id]
        assert r.created_at == parse_iso(post["created_at"])
        assert r.author_id == post["author_id"] and r.author  # username from includes
        assert r.conversation_id == post["conversation_id"]
        assert "&amp;" not in r.text
        parents = [t["id"] for t in post.get("referenced_tweets", []) if t["type"] == "replied_to"]
        assert r.in_reply_to == (parents[0] if parents else None)
        assert (r.kind is ReplyKind.OTHER) == (not parents)
    assert sum(r.in_reply_to is not None for r in replies) == 31
    retweet = next(r for r in replies if r.reply_id == second["data"][0]["id"])
    assert (retweet.author, retweet.kind) == ("BaldManGamer", ReplyKind.OTHER)
    assert cursor == {"mentions_since_id": max(posts, key=int)}


async def test_reply_that_also_quotes_answers_the_post_it_replies_to(clock: ManualClock) -> None:
    page = twarc_page("quoted_edit.jsonl")
    fake = Fake(clock, {f"/2/users/{TWITTER}/mentions": [page], "/2/dm_events": [{"meta": {}}]})
    async with client_for(fake) as client:
        [reply], _ = await XChannel(client, account="Twitter", clock=clock).inbox(None)
    assert reply.in_reply_to == "1576994789110992896"  # not the quoted 1576994746135764992
    assert reply.kind is ReplyKind.PUBLIC_REPLY
    assert reply.created_at == datetime(2022, 10, 3, 18, 0, 23, tzinfo=UTC)


def dm(event_id: str, sender: str, text: str, **more: Any) -> dict[str, Any]:
    """A DM event as recorded, with the fields inbox() asks X for."""
    when = xp.snowflake_time(event_id)
    assert when is not None
    created = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    conversation = "750362064426721281-1072250532645998596"
    return {"event_type": "MessageCreate", "id": event_id, "text": text, "sender_id": sender,
            "created_at": created, "dm_conversation_id": conversation, **more}  # fmt: skip


BRAND_ID = "750362064426721281"


async def test_dm_events_newest_first_until_the_cursor(clock: ManualClock) -> None:
    recorded = load_cassette(X / NO_DMS[0])
    [conversation] = [r for r in recorded if r.path.endswith("/with/750362064426721281/dm_events")]
    texts = {e["id"]: e["text"] for e in conversation.json()["data"]}  # "Testing 2", "Testing 1"
    users = {"users": [{"id": BRAND_ID, "username": "brandhelp", "name": "Brand"}]}
    page1 = {
        "data": [
            dm("1585800614365339652", TWITTER, "our own message"),
            dm(
                "1585800613752881156",
                BRAND_ID,
                texts["1585800613752881156"],
                referenced_tweets=[{"id": "1578516295611748353"}],
            ),  # fmt: skip
        ],
        "includes": users,
        "meta": {"result_count": 2, "next_token": "18LAA5G1SL0NR5OG0G00ZZZZ"},
    }
    page2 = {
        "data": [
            dm("1585800613253812228", BRAND_ID, "We have received your message."),
            dm("1585800613000000000", BRAND_ID, "seen in an earlier poll"),
        ],
        "includes": users,
        "meta": {"result_count": 2, "next_token": "NEVER_REQUESTED_0000"},
    }
    fake = Fake(clock, {f"/2/users/{TWITTER}/mentions": [{"meta": {}}],
                        "/2/dm_events": [page1, page2]})  # fmt: skip
    since = {"mentions_since_id": "1", "dm_since_id": "1585800613000000000", "other": "kept"}
    async with client_for(fake) as client:
        replies, cursor = await XChannel(client, account="Twitter", clock=clock).inbox(since)
    assert [(r.reply_id, r.author, r.kind, r.in_reply_to) for r in replies] == [
        ("1585800613253812228", "brandhelp", ReplyKind.AUTO_ACK, None),
        ("1585800613752881156", "brandhelp", ReplyKind.DIRECT_MESSAGE, "1578516295611748353"),
    ]
    assert replies[0].conversation_id == "750362064426721281-1072250532645998596"
    assert cursor == {"mentions_since_id": "1", "dm_since_id": "1585800614365339652",
                      "other": "kept"}  # fmt: skip
    dm_reads = fake.params("/2/dm_events")
    assert len(dm_reads) == 2 and dm_reads[1]["pagination_token"] == "18LAA5G1SL0NR5OG0G00ZZZZ"
    assert dm_reads[0]["event_types"] == "MessageCreate"
    assert dm_reads[0]["expansions"] == "sender_id"
    assert fake.params(f"/2/users/{TWITTER}/mentions")[0]["since_id"] == "1"


async def test_inbox_costs_one_read_each_and_carries_the_cursor(clock: ManualClock) -> None:
    page = {"data": [{"id": "20", "text": "@Twitter hi", "author_id": "5",
                      "created_at": "2022-10-08T08:00:00.000Z"}],
            "meta": {"newest_id": "20"}}  # fmt: skip
    fake = Fake(clock, {f"/2/users/{TWITTER}/mentions": [page, {"meta": {"result_count": 0}}],
                        "/2/dm_events": [{"meta": {"result_count": 0}}]})  # fmt: skip
    async with client_for(fake) as client:
        x = XChannel(client, account="Twitter", clock=clock)
        [reply], cursor = await x.inbox(None)
        again, cursor2 = await x.inbox(cursor)
    assert (reply.author, reply.kind) == ("", ReplyKind.OTHER)  # no includes: no username
    assert again == [] and cursor2 == cursor == {"mentions_since_id": "20"}
    assert fake.params(f"/2/users/{TWITTER}/mentions")[1]["since_id"] == "20"
    assert fake.paths() == ["/2/users/me"] + [f"/2/users/{TWITTER}/mentions", "/2/dm_events"] * 2


# -- find_sent ----------------------------------------------------------------------------


async def test_find_sent_in_recorded_posts(clock: ManualClock) -> None:
    replay = Replay(cassette(*TWITTER_ME, "test_client_get_users_tweets.yaml"), alias=AS_TWITTER)
    text = "if you see an edited Tweet it's because we're testing the edit button this is happening and you'll be okay"  # noqa: E501
    async with replay.client() as client:
        sent = await XChannel(client, account="Twitter", clock=clock).find_sent(probe(text), START)
    assert sent is not None and sent.message_id == "1565318587736285184"
    assert sent.sent_at == xp.snowflake_time("1565318587736285184")  # tweepy asked no fields


async def test_find_sent_matches_escaped_text_across_pages(clock: ManualClock) -> None:
    sent_text = "Hi @brand & team,\nwhere is my order?  https://example.org/o/1"
    page1 = {"data": [{"id": "30", "text": "something else", "created_at": "2022-10-08T09:01:00Z"}],
             "meta": {"next_token": "page2token"}}  # fmt: skip
    page2 = {"data": [{"id": "29", "text": "Hi @brand &amp; team, where is my order? https://t.co/Ab",
                       "created_at": "2022-10-08T09:00:01.000Z"}], "meta": {}}  # fmt: skip
    fake = Fake(clock, {f"/2/users/{TWITTER}/tweets": [page1, page2]})
    since = START - timedelta(microseconds=1)
    async with client_for(fake) as client:
        x = XChannel(client, account="Twitter", clock=clock)
        sent = await x.find_sent(probe(sent_text), since)
        missing = await x.find_sent(probe("never posted"), START)
    assert sent is not None
    assert (sent.message_id, sent.sent_at) == ("29", datetime(2022, 10, 8, 9, 0, 1, tzinfo=UTC))
    reads = fake.params(f"/2/users/{TWITTER}/tweets")
    assert reads[0]["start_time"] == "2022-10-08T08:59:59Z"
    assert reads[0]["tweet.fields"] == "created_at"
    assert reads[1]["pagination_token"] == "page2token"
    assert missing is None


def test_problem_text_of_recorded_error() -> None:
    body = json.loads((X / "problem_error_example.json").read_text())
    assert xp.problem_text(body) == (
        "Invalid Request: One or more parameters to your request was invalid; "
        "JSON doesn't match expected schema"
    )
    assert xp.problem_text({"errors": [{"code": 88, "message": "Rate limit exceeded"}]}) == (
        "Rate limit exceeded"
    )


def test_comparable_text() -> None:
    assert xp.comparable("a &amp; b &lt;3\n\n c") == xp.comparable("a & b <3 c")
    assert xp.comparable("see https://t.co/x") == xp.comparable("see https://example.org/long")
    assert xp.comparable("Cafe\u0301") == xp.comparable("Café")
    assert xp.comparable("order 1") != xp.comparable("order 2")
