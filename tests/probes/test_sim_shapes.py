"""The simulator answers in the shapes the real X API v2 was recorded answering.

The recordings are tweepy's VCR cassettes and twarc's pages (see tests/fixtures/NOTICE.md, or
../shared/fixtures): the key sets of `data`, `includes` and `meta`, and the rate-limit header
names, must match.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # reads the VCR cassettes

from probes.sim.x.face import XPlatform
from study.clock import ManualClock
from tests.probes.test_sim_platform import (
    MENTION_FIELDS,
    START,
    client_for,
    me_id,
    post,
    small_study,
)

ROOT = Path(__file__).resolve().parents[2]
PLACES = [ROOT / "tests" / "fixtures" / "x", ROOT.parent / "shared" / "fixtures" / "x"]
RATE_HEADERS = {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"}


def fixture(name: str) -> Path:
    for place in PLACES:
        if (place / name).exists():
            return place / name
    pytest.skip(f"recorded X fixture {name} is absent (looked in tests/fixtures/x, ../shared)")


def recorded(name: str) -> list[tuple[str, str, int, dict[str, str], Any]]:
    """(method, path, status, headers, JSON body) of each exchange of a cassette."""
    data = yaml.safe_load(fixture(name).read_text(encoding="utf-8"))
    out = []
    for item in data["interactions"]:
        response = item["response"]
        headers = {k.lower(): v[0] for k, v in response["headers"].items()}
        raw = response["body"]["string"]
        if isinstance(raw, bytes) and "gzip" in headers.get("content-encoding", ""):
            raw = gzip.decompress(raw)
        body = json.loads(raw) if raw else None
        path = httpx.URL(item["request"]["uri"]).path
        out.append((item["request"]["method"], path, response["status"]["code"], headers, body))
    return out


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


def same_headers(ours: httpx.Response, theirs: dict[str, str]) -> None:
    assert set(theirs) >= RATE_HEADERS
    assert set(ours.headers) >= RATE_HEADERS
    assert ours.headers["x-rate-limit-reset"].isdigit()


def test_users_me_and_lookup(client: httpx.Client) -> None:
    [(_, _, status, headers, body)] = recorded("test_client_get_me.yaml")
    ours = client.get("/2/users/me")
    assert ours.status_code == status
    assert set(ours.json()) == set(body) and set(ours.json()["data"]) == set(body["data"])
    same_headers(ours, headers)
    [(_, _, status, headers, body)] = recorded("test_client_get_user.yaml")
    ours = client.get("/2/users/by/username/Acme_DE")
    assert set(ours.json()["data"]) == set(body["data"])
    same_headers(ours, headers)


def test_create_and_delete(client: httpx.Client) -> None:
    (_, _, c_status, c_headers, created), (_, _, d_status, d_headers, deleted) = recorded(
        "test_client_create_and_delete_tweet.yaml"
    )
    ours = client.post("/2/tweets", json={"text": "Test post"})
    assert ours.status_code == c_status == 201
    # Posts made since X's edit feature (late 2022) also carry their edit history.
    assert set(ours.json()["data"]) - set(created["data"]) == {"edit_history_tweet_ids"}
    assert re.fullmatch(r"https?://[^/]+/2/tweets/\d+", ours.headers["location"])
    assert re.fullmatch(r"https?://[^/]+/2/tweets/\d+", c_headers["location"])
    same_headers(ours, c_headers)
    gone = client.delete(f"/2/tweets/{ours.json()['data']['id']}")
    assert gone.status_code == d_status and gone.json() == deleted
    same_headers(gone, d_headers)


def test_mentions_and_own_posts(
    platform: XPlatform, client: httpx.Client, clock: ManualClock
) -> None:
    for i in range(12):  # more than a default page, so next_token shows
        platform.reply(post(client, f"@Acme_DE number {i}"), f"reply {i}")
        clock.advance(60)
    me = me_id(client)
    for cassette, path in (
        ("test_client_get_users_mentions.yaml", f"/2/users/{me}/mentions"),
        ("test_client_get_users_tweets.yaml", f"/2/users/{me}/tweets"),
    ):
        [(_, _, status, headers, body)] = recorded(cassette)
        ours = client.get(path)
        assert ours.status_code == status
        assert set(ours.json()) == set(body)
        assert set(ours.json()["meta"]) == set(body["meta"])
        assert {frozenset(d) for d in ours.json()["data"]} == {frozenset(d) for d in body["data"]}
        same_headers(ours, headers)


def test_direct_messages(platform: XPlatform, client: httpx.Client, clock: ManualClock) -> None:
    exchanges = recorded("test_manage_and_lookup_direct_messages.yaml")
    created = next(e for e in exchanges if e[0] == "POST" and "/with/" in e[1])
    empty = next(e for e in exchanges if e[0] == "GET" and e[1] == "/2/dm_events")
    listed = next(
        e for e in exchanges if e[0] == "GET" and e[1].endswith("/dm_events") and e[4].get("data")
    )
    ours_empty = client.get("/2/dm_events")
    assert ours_empty.json() == empty[4] == {"meta": {"result_count": 0}}
    same_headers(ours_empty, empty[3])
    brand = client.get("/2/users/by/username/Globex").json()["data"]["id"]
    sent = client.post(f"/2/dm_conversations/with/{brand}/messages", json={"text": "Testing"})
    assert sent.status_code == created[2] == 201
    assert set(sent.json()["data"]) == set(created[4]["data"])
    assert re.fullmatch(r'.*/2/dm_events/"\d+"', sent.headers["location"])
    assert re.fullmatch(r'.*/2/dm_events/"\d+"', created[3]["location"])
    conversation = sent.json()["data"]["dm_conversation_id"]
    theirs = created[4]["data"]["dm_conversation_id"]
    assert re.fullmatch(r"\d+-\d+", conversation) and re.fullmatch(r"\d+-\d+", theirs)
    platform.send_dm("Globex", "Testing back")
    ours = client.get("/2/dm_events").json()
    assert {frozenset(d) for d in ours["data"]} == {frozenset(d) for d in listed[4]["data"]}


def twarc_posts(name: str) -> list[dict[str, Any]]:
    path = fixture(f"twarc/{name}")
    posts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            page = json.loads(line)
        except json.JSONDecodeError:
            continue
        data = page.get("data", [])
        posts += data if isinstance(data, list) else [data]
    return posts


def test_fields_look_like_twarcs_replies(
    platform: XPlatform, client: httpx.Client, clock: ManualClock
) -> None:
    replies = [p for p in twarc_posts("quoted_edit.jsonl") if "in_reply_to_user_id" in p]
    assert replies, "the twarc page has a reply to compare with"
    theirs = replies[0]
    platform.reply(post(client, "@Acme_DE a question"), "an answer", after=timedelta(seconds=30))
    clock.advance(60)
    params = {"tweet.fields": MENTION_FIELDS, "expansions": "author_id"}
    body = client.get(f"/2/users/{me_id(client)}/mentions", params=params).json()
    ours = body["data"][0]
    assert set(ours) <= set(theirs)
    assert {"created_at", "conversation_id", "in_reply_to_user_id", "referenced_tweets"} <= set(
        ours
    )
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z"
    assert re.fullmatch(stamp, ours["created_at"]) and re.fullmatch(stamp, theirs["created_at"])
    assert {frozenset(r) for r in ours["referenced_tweets"]} <= {
        frozenset(r) for r in theirs["referenced_tweets"]
    }
    assert "replied_to" in {r["type"] for r in theirs["referenced_tweets"]}
    for key in ("id", "author_id", "conversation_id", "in_reply_to_user_id"):
        assert ours[key].isdigit() and theirs[key].isdigit()
    assert {"id", "name", "username"} <= set(body["includes"]["users"][0])


def test_invalid_request_is_the_problem_shape(client: httpx.Client) -> None:
    theirs = json.loads(fixture("problem_error_example.json").read_text(encoding="utf-8"))
    ours = client.get(f"/2/users/{me_id(client)}/mentions", params={"max_results": "1"})
    assert ours.status_code == 400
    assert set(ours.json()) == set(theirs)
    assert set(ours.json()["errors"][0]) == set(theirs["errors"][0])
    assert ours.json()["type"] == theirs["type"]
