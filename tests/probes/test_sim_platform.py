"""The simulator's X face: auth, lookups, posting, timelines, pagination, rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from probes.sim.ids import snowflake_time
from probes.sim.x.face import XPlatform
from study.clock import ManualClock
from study.model import ChannelSettings, Country, Ethics, Scope, Slot, Study, Target
from study.timeutil import parse_iso

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
ACCOUNT = "probe_acct"
MENTION_FIELDS = "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,author_id"


def small_study(seed: int = 7) -> Study:
    """Two brands: acme with local accounts in DE, US and JP; globex's one global account."""
    countries = (
        Country("DE", "Germany", "Europe/Berlin", "de"),
        Country("JP", "Japan", "Asia/Tokyo", "ja"),
        Country("US", "United States", "America/New_York", "en"),
    )
    targets = tuple(
        Target("acme", "Acme Retail", "retail", c.code, "x", f"Acme_{c.code}", Scope.LOCAL)
        for c in countries
    ) + tuple(
        Target("globex", "Globex", "airline", c.code, "x", "Globex", Scope.GLOBAL)
        for c in countries
    )
    return Study(
        name="sim test",
        seed=seed,
        window_hours=72,
        start=date(2026, 3, 2),
        end=date(2026, 3, 13),
        probes_per_target=3,
        min_spacing_hours=2,
        ethics=Ethics(60, 4),
        slots=(Slot("business", frozenset(range(5)), time(9), time(17)),),
        channels=(ChannelSettings("x", "https://api.x.test", ACCOUNT, "X_TOKEN"),),
        countries=countries,
        targets=targets,
        scripts=(),
    )


def client_for(platform: XPlatform, token: str | None = "secret") -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    transport = httpx.MockTransport(platform.handle)
    return httpx.Client(transport=transport, base_url="https://api.x.test", headers=headers)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def platform(clock: ManualClock) -> XPlatform:
    return XPlatform(small_study(), clock, bots=False)


@pytest.fixture
def client(platform: XPlatform) -> Iterator[httpx.Client]:
    with client_for(platform) as c:
        yield c


def me_id(client: httpx.Client) -> str:
    return str(client.get("/2/users/me").json()["data"]["id"])


def post(client: httpx.Client, text: str) -> str:
    response = client.post("/2/tweets", json={"text": text})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def all_pages(client: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query = dict(params)
    for _ in range(100):
        body = client.get(path, params=query).json()
        items += body.get("data", [])
        if "next_token" not in body["meta"]:
            return items
        query["pagination_token"] = body["meta"]["next_token"]
    raise AssertionError("pagination did not end")


def test_no_or_empty_token_gets_xs_401(platform: XPlatform) -> None:
    for token in (None, "", "  "):
        with client_for(platform, token) as anonymous:
            response = anonymous.get("/2/users/me")
        assert response.status_code == 401
        assert response.json() == {
            "title": "Unauthorized",
            "detail": "Unauthorized",
            "type": "about:blank",
            "status": 401,
        }


def test_a_set_token_must_match(clock: ManualClock) -> None:
    platform = XPlatform(small_study(), clock, token="right")
    with client_for(platform, "wrong") as c:
        assert c.get("/2/users/me").status_code == 401
    with client_for(platform, "right") as c:
        assert c.get("/2/users/me").status_code == 200


def test_unknown_path_is_xs_404(client: httpx.Client) -> None:
    response = client.get("/2/no/such/thing")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == 34


def test_me_and_user_lookup(client: httpx.Client) -> None:
    me = client.get("/2/users/me").json()["data"]
    assert me["username"] == ACCOUNT
    brand = client.get("/2/users/by/username/acme_de").json()["data"]
    assert brand == {
        "id": brand["id"],
        "name": "Acme Retail",
        "username": "Acme_DE",  # X answers with the account's own spelling
    }
    assert brand["id"] != me["id"]
    missing = client.get("/2/users/by/username/nobody_here")
    assert missing.status_code == 200  # X reports a missing user inside a 200
    [error] = missing.json()["errors"]
    assert error["resource_type"] == "user" and error["value"] == "nobody_here"
    assert client.get("/2/users/by/username/not-valid!").status_code == 400


def test_post_lookup_duplicate_and_delete(client: httpx.Client, clock: ManualClock) -> None:
    post_id = post(client, "@Acme_DE Hello & welcome <3")
    got = client.get(f"/2/tweets/{post_id}", params={"tweet.fields": "created_at,author_id"})
    data = got.json()["data"]
    assert data["text"] == "@Acme_DE Hello &amp; welcome &lt;3"  # X escapes &, <, >
    assert parse_iso(data["created_at"]) == START
    assert data["author_id"] == me_id(client)
    duplicate = client.post("/2/tweets", json={"text": "@Acme_DE Hello & welcome <3"})
    assert duplicate.status_code == 403
    assert "duplicate content" in duplicate.json()["detail"]
    clock.advance(60)
    assert client.delete(f"/2/tweets/{post_id}").json() == {"data": {"deleted": True}}
    gone = client.get(f"/2/tweets/{post_id}")
    assert gone.status_code == 200 and gone.json()["errors"][0]["resource_type"] == "tweet"
    assert client.post("/2/tweets", json={"text": "@Acme_DE Hello & welcome <3"}).status_code == 201


def test_replying_to_a_missing_post_is_refused(client: httpx.Client) -> None:
    body = {"text": "hi", "reply": {"in_reply_to_tweet_id": "12345"}}
    assert client.post("/2/tweets", json=body).status_code == 403


def test_too_long_text_is_refused_counting_cjk_double(client: httpx.Client) -> None:
    assert client.post("/2/tweets", json={"text": "あ" * 140}).status_code == 201
    assert client.post("/2/tweets", json={"text": "い" * 141}).status_code == 403
    assert client.post("/2/tweets", json={"text": "a" * 281}).status_code == 403


def test_ids_grow_with_virtual_time(client: httpx.Client, clock: ManualClock) -> None:
    ids = []
    for i in range(5):
        ids.append(int(post(client, f"post {i}")))
        clock.advance(0.0001 if i == 2 else 90)  # two posts in the same millisecond
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert abs(snowflake_time(ids[0]) - START) < timedelta(milliseconds=1)


@pytest.fixture
def replied(platform: XPlatform, client: httpx.Client, clock: ManualClock) -> list[str]:
    """37 probes, each answered by its brand a minute later: 37 mentions, oldest first."""
    answers = []
    for i in range(37):
        post_id = post(client, f"@Acme_US question number {i}")
        platform.reply(post_id, f"answer {i}", after=timedelta(minutes=1))
        clock.advance(120)
        answers.append(post_id)
    client.get("/2/users/me")  # materialise the last answer
    return answers


def test_mentions_pages_cover_everything_once(client: httpx.Client, replied: list[str]) -> None:
    me = me_id(client)
    items = all_pages(client, f"/2/users/{me}/mentions", {"max_results": 5})
    ids = [int(i["id"]) for i in items]
    assert len(ids) == 37 and len(set(ids)) == 37
    assert ids == sorted(ids, reverse=True)  # newest first, across pages
    assert items[-1]["text"] == "@probe_acct answer 0"


def test_since_id_returns_only_newer(client: httpx.Client, replied: list[str]) -> None:
    me = me_id(client)
    every = all_pages(client, f"/2/users/{me}/mentions", {"max_results": 100})
    cut = every[10]["id"]
    newer = all_pages(client, f"/2/users/{me}/mentions", {"since_id": cut, "max_results": 5})
    assert [i["id"] for i in newer] == [i["id"] for i in every[:10]]
    older = all_pages(client, f"/2/users/{me}/mentions", {"until_id": cut, "max_results": 100})
    assert [i["id"] for i in older] == [i["id"] for i in every[11:]]
    latest = client.get(f"/2/users/{me}/mentions", params={"since_id": every[0]["id"]}).json()
    assert latest == {"meta": {"result_count": 0}}


def test_mentions_fields_and_expansions(client: httpx.Client, replied: list[str]) -> None:
    me = me_id(client)
    params = {"tweet.fields": MENTION_FIELDS, "expansions": "author_id", "max_results": 5}
    body = client.get(f"/2/users/{me}/mentions", params=params).json()
    newest = body["data"][0]
    assert newest["referenced_tweets"] == [{"type": "replied_to", "id": replied[-1]}]
    assert newest["conversation_id"] == replied[-1]
    assert newest["in_reply_to_user_id"] == me
    assert body["includes"]["users"][0]["username"] == "Acme_US"
    assert set(body["meta"]) == {"result_count", "newest_id", "oldest_id", "next_token"}
    plain = client.get(f"/2/users/{me}/mentions").json()
    assert set(plain["data"][0]) == {"id", "text", "edit_history_tweet_ids"}
    assert "includes" not in plain and len(plain["data"]) == 10  # X's default page size


def test_previous_token_leads_back(client: httpx.Client, replied: list[str]) -> None:
    me = me_id(client)
    first = client.get(f"/2/users/{me}/mentions", params={"max_results": 5}).json()
    token = first["meta"]["next_token"]
    second = client.get(
        f"/2/users/{me}/mentions", params={"max_results": 5, "pagination_token": token}
    ).json()
    back_token = second["meta"]["previous_token"]
    back = client.get(
        f"/2/users/{me}/mentions", params={"max_results": 5, "pagination_token": back_token}
    ).json()
    assert [i["id"] for i in back["data"]] == [i["id"] for i in first["data"]]


def test_time_window_filters_own_posts(client: httpx.Client, replied: list[str]) -> None:
    me = me_id(client)
    start = (START + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (START + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = all_pages(client, f"/2/users/{me}/tweets", {"start_time": start, "end_time": end})
    # posts every 2 minutes from START: 20, 22, 24, 26, 28 (start inclusive, end exclusive)
    assert [i["id"] for i in items] == list(reversed(replied[10:15]))


def test_bad_parameters_are_400(client: httpx.Client) -> None:
    me = me_id(client)
    for params in (
        {"max_results": "3"},
        {"max_results": "101"},
        {"since_id": "abc"},
        {"pagination_token": "nonsense"},
        {"tweet.fields": "created_at,colour"},
        {"sinceid": "1"},
    ):
        response = client.get(f"/2/users/{me}/mentions", params=params)
        assert response.status_code == 400, params
        assert response.json()["title"] == "Invalid Request"


def test_dms_both_ways(platform: XPlatform, client: httpx.Client, clock: ManualClock) -> None:
    brand = client.get("/2/users/by/username/Globex").json()["data"]["id"]
    sent = client.post(f"/2/dm_conversations/with/{brand}/messages", json={"text": "hi there"})
    assert sent.status_code == 201
    platform.send_dm("Globex", "How can we help?", after=timedelta(minutes=5))
    clock.advance(300)
    params = {
        "dm_event.fields": "created_at,sender_id,dm_conversation_id",
        "expansions": "sender_id",
    }
    body = client.get("/2/dm_events", params=params).json()
    newest, oldest = body["data"]
    assert newest["text"] == "How can we help?" and newest["sender_id"] == brand
    assert oldest["id"] == sent.json()["data"]["dm_event_id"]
    assert newest["dm_conversation_id"] == sent.json()["data"]["dm_conversation_id"]
    assert parse_iso(newest["created_at"]) == START + timedelta(minutes=5)
    assert {u["username"] for u in body["includes"]["users"]} == {"Globex", ACCOUNT}
    only = client.get("/2/dm_events", params={"event_types": "ParticipantsJoin"}).json()
    assert only == {"meta": {"result_count": 0}}


def test_rate_limit_429_until_the_window_resets(clock: ManualClock) -> None:
    platform = XPlatform(small_study(), clock, rate_limits={"GET /2/users/me": 3})
    with client_for(platform) as c:
        answers = [c.get("/2/users/me") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["x-rate-limit-remaining"] for a in answers] == ["2", "1", "0", "0"]
        limited = answers[-1]
        assert limited.json()["title"] == "Too Many Requests"
        reset = datetime.fromtimestamp(int(limited.headers["x-rate-limit-reset"]), UTC)
        assert clock.now() < reset <= clock.now() + timedelta(minutes=15)
        clock.set(reset)
        assert c.get("/2/users/me").status_code == 200


def test_mentions_limit_is_xs_per_user_300(client: httpx.Client) -> None:
    # X's 2026 figure (study/platforms.toml); its older docs said 180.
    me = me_id(client)
    statuses = [client.get(f"/2/users/{me}/mentions").status_code for _ in range(301)]
    assert statuses.count(200) == 300 and statuses[-1] == 429
