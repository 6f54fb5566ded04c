"""The simulator's Bluesky face: its shapes against the recordings (tests/fixtures/bluesky),
its sessions, records, notifications, chat and bots, and a whole campaign run through it."""

from __future__ import annotations

import json
import random
import tomllib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from probes.channels.bluesky.adapter import BlueskyChannel
from probes.runner import Runner, RunnerConfig
from probes.sim import Faults
from probes.sim.bluesky.auth import CHAT_PROXY
from probes.sim.bluesky.bots import probe_index
from probes.sim.bluesky.face import BlueskyPlatform
from probes.sim.bluesky.records import graphemes
from probes.sim.bluesky.world import tid_text, tid_value
from probes.sim.dispatch import Dispatch, faces_for
from probes.sim.faults import Decision, Fault, answer
from probes.sim.ledger import Ledger, read_ledger
from probes.sim.profiles import SimSettings, parse_settings
from study.clock import ManualClock
from study.journal.campaign import Journal
from study.model import (
    ChannelSettings,
    Country,
    Ethics,
    Scope,
    Script,
    Slot,
    Study,
    Target,
)
from study.paths import ledger_path
from study.plan import make_plan
from study.timeutil import from_epoch, iso, parse_iso
from tests.probes.test_bluesky import ACCOUNT, BSKY, bluesky_cassette, recorded_json

pytestmark = pytest.mark.anyio

START = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
PASSWORD = "abcd-efgh-ijkl-mnop"
BRANDS = ("acorn", "birch", "cedar", "dune")


def bluesky_study(path: Path, *, brands: int = 4, window_hours: float = 6) -> Study:
    """A small study on Bluesky only: `brands` brands in DE and US, one round on one day.

    Built from the dataclasses: study.toml's loader may not know `[channels.bluesky]` yet.
    """
    targets = tuple(
        Target(
            b,
            b.capitalize() + " Co",
            "retail",
            cc,
            "bluesky",
            f"{b}-{cc.lower()}.bsky.social",
            Scope.LOCAL,
            line=i,
        )
        for i, (b, cc) in enumerate(((b, cc) for b in BRANDS[:brands] for cc in ("DE", "US")), 2)
    )
    texts = (
        # The mention after an emoji and accents: its facet's UTF-8 byte offsets differ from
        # its character offsets, and the face ignores a facet that misses the handle.
        ("de", "Grüße aus {country} 🎉 {handle}: wo sehe ich den Stand meiner Bestellung?"),
        ("en", "Hi from {country} 👋 {handle}: where can I see the status of my order?"),
    )
    return Study(
        name="bluesky e2e",
        seed=7,
        window_hours=window_hours,
        start=date(2026, 3, 3),
        end=date(2026, 3, 3),
        probes_per_target=1,
        min_spacing_hours=0,
        ethics=Ethics(max_probes_per_account=5, max_probes_per_account_per_day=2),
        slots=(Slot("business", frozenset(range(5)), time(9), time(17)),),
        channels=(ChannelSettings("bluesky", "http://127.0.0.1:8765", ACCOUNT, "BSKY_PASSWORD"),),
        countries=(
            Country("DE", "Germany", "Europe/Berlin", "de", "Deutschland"),
            Country("US", "United States", "America/New_York", "en", "the US"),
        ),
        targets=targets,
        scripts=(Script("order", "status", texts),),
        path=path,
    )


TALKATIVE = """
[defaults]
answer_rate = 0.8
median_minutes = 40
sigma = 0.8
days = "all"
opens = "00:00"
closes = "24:00"
auto_ack_share = 0.3
redirect_share = 0.25
redirect_dm_rate = 1.0
dm_share = 0.2

[simulator]
stranger_rate = 0.3
"""


def talkative(study: Study, extra: str = "") -> SimSettings:
    doc = tomllib.loads(TALKATIVE + extra)
    return parse_settings(doc, seed=study.seed, brands={t.brand for t in study.targets})


def platform_for(study: Study, clock: ManualClock, **kw: Any) -> BlueskyPlatform:
    kw.setdefault("settings", talkative(study))
    return BlueskyPlatform(
        study, clock, probe_index=probe_index(make_plan(study)), password=PASSWORD, **kw
    )


def call(
    platform: BlueskyPlatform,
    method: str,
    *,
    params: dict[str, Any] | None = None,
    body: Any = None,
    token: str | None = None,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method.startswith("chat.bsky."):  # as clients do: the PDS forwards it to the chat service
        headers["atproto-proxy"] = CHAT_PROXY
    verb = "GET" if body is None else "POST"
    request = httpx.Request(
        verb, f"{BSKY}/xrpc/{method}", params=params, json=body, headers=headers
    )
    response = platform.handle(request)
    response.read()
    return response


def login(platform: BlueskyPlatform) -> dict[str, Any]:
    body = {"identifier": ACCOUNT, "password": PASSWORD}
    response = call(platform, "com.atproto.server.createSession", body=body)
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


def post(platform: BlueskyPlatform, token: str, text: str, **record: Any) -> httpx.Response:
    did = platform.me.did
    record = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": iso(platform.clock.now()),
        **record,
    }
    body = {"repo": did, "collection": "app.bsky.feed.post", "record": record}
    return call(platform, "com.atproto.repo.createRecord", body=body, token=token)


def mention(text: str, handle: str, did: str) -> list[dict[str, Any]]:
    start = text.index("@" + handle)
    a, b = len(text[:start].encode()), len(text[: start + len(handle) + 1].encode())
    return [
        {
            "index": {"byteStart": a, "byteEnd": b},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
        }
    ]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def study(tmp_path: Path) -> Study:
    return bluesky_study(tmp_path / "study")


# -- shapes against the recordings --------------------------------------------------------


def keys(obj: Any) -> set[str]:
    assert isinstance(obj, dict)
    return set(obj)


def test_session_and_record_shapes_match_the_recordings(study: Study, clock: ManualClock) -> None:
    platform = platform_for(study, clock)
    session = login(platform)
    # No successful login was recorded: the lexicon's required fields, and a DID document
    # shaped like the recorded one (MarshalX/atproto's did_doc.json).
    assert {"accessJwt", "refreshJwt", "handle", "did"} <= keys(session)
    assert keys(session["didDoc"]) == keys(recorded_json("did_doc.json")["didDoc"])
    assert session["handle"] == ACCOUNT and session["did"] == platform.me.did
    text = "@acorn-de.bsky.social Hallo"
    response = post(platform, session["accessJwt"], text)
    created = bluesky_cassette("r_post_text.yml")[-1]
    assert response.status_code == created.status == 200
    assert keys(response.json()) == keys(created.json())
    assert keys(response.json()["commit"]) == keys(created.json()["commit"])
    uri, cid = response.json()["uri"], response.json()["cid"]
    recorded_uri = created.json()["uri"]
    assert uri.rsplit("/", 1)[0] == f"at://{platform.me.did}/app.bsky.feed.post"
    assert len(uri.rsplit("/", 1)[1]) == len(recorded_uri.rsplit("/", 1)[1]) == 13
    assert len(platform.me.did) == len("did:plc:5c2r73erhng4bszmxlfdtscf")
    assert cid.startswith("bafyrei") and len(cid) == len(created.json()["cid"])
    for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"):
        assert response.headers[name] and created.header(name)
    assert response.headers["RateLimit-Policy"] == created.header("RateLimit-Policy")
    assert response.headers["content-type"] == created.header("Content-Type")
    assert from_epoch(int(response.headers["RateLimit-Reset"])) == START + timedelta(minutes=5)
    rkey = uri.rsplit("/", 1)[1]
    delete = call(
        platform,
        "com.atproto.repo.deleteRecord",
        token=session["accessJwt"],
        body={"repo": ACCOUNT, "collection": "app.bsky.feed.post", "rkey": rkey},
    )
    assert keys(delete.json()) == keys(bluesky_cassette("r_post_delete_post.yml")[-1].json())


def test_refusals_match_the_recorded_error_bodies(study: Study, clock: ManualClock) -> None:
    platform = platform_for(study, clock)
    wrong = call(
        platform,
        "com.atproto.server.createSession",
        body={"identifier": ACCOUNT, "password": "nope"},
    )
    refused = bluesky_cassette("repo_auth_cache.yml")[0]
    assert (wrong.status_code, wrong.json()) == (refused.status, refused.json())
    token = login(platform)["accessJwt"]
    too_long = post(platform, token, "@acorn-de.bsky.social " + "é" * 290)
    invalid = bluesky_cassette("r_post_errors.yml")[0]
    assert (too_long.status_code, too_long.json()) == (invalid.status, invalid.json())
    # 290 + 22 = 312 characters, but "e" + a combining accent is one grapheme: accepted.
    combined = post(platform, token, "@acorn-de.bsky.social " + "e\u0301" * 278)
    assert combined.status_code == 200, combined.text
    assert graphemes("🇩🇪👍🏽👩‍👩‍👧e\u0301") == 4


def test_notifications_match_the_recorded_shape(study: Study, clock: ManualClock) -> None:
    platform = platform_for(study, clock)
    token = login(platform)["accessJwt"]
    text = "@acorn-de.bsky.social Hallo"
    probe = post(
        platform,
        token,
        text,
        facets=mention(text, "acorn-de.bsky.social", platform.account("acorn-de.bsky.social").did),
    )
    platform.reply(probe.json()["uri"], "Thanks, we are on it.", after=timedelta(minutes=3))
    platform.reply(probe.json()["uri"], f"same here @{ACCOUNT}", author="tomgrows")
    clock.advance(600)
    page = call(platform, "app.bsky.notification.listNotifications", token=token).json()
    recorded = bluesky_cassette("n_notifications.yml")[0].json()
    assert keys(page) <= keys(recorded) and "cursor" in page
    by_reason = {n["reason"]: n for n in page["notifications"]}
    assert set(by_reason) == {"reply", "mention"}  # the stranger's @mention outranks its reply
    real = {n["reason"]: n for n in recorded["notifications"]}
    assert keys(by_reason["mention"]) == keys(real["mention"])
    assert keys(by_reason["reply"]) == keys(real["mention"]) | {"reasonSubject"}
    assert keys(by_reason["reply"]["author"]) <= keys(real["mention"]["author"])
    reply = by_reason["reply"]["record"]
    assert keys(reply) <= keys(real["mention"]["record"]) | {"reply"}
    assert reply["reply"]["parent"]["uri"] == reply["reply"]["root"]["uri"] == probe.json()["uri"]
    assert keys(reply["reply"]["parent"]) == {"uri", "cid"}
    assert by_reason["reply"]["reasonSubject"] == probe.json()["uri"]
    assert page["cursor"] == page["notifications"][-1]["indexedAt"]


def test_thread_profile_and_chat_match_the_recorded_shapes(
    study: Study, clock: ManualClock
) -> None:
    platform = platform_for(study, clock)
    token = login(platform)["accessJwt"]
    probe = post(platform, token, "@acorn-de.bsky.social Hallo").json()["uri"]
    platform.reply(probe, "Thanks!", author="acorn-de.bsky.social")
    platform.send_dm("acorn-de.bsky.social", "Hello by DM")
    clock.advance(1)
    thread = call(platform, "app.bsky.feed.getPostThread", params={"uri": probe}, token=token)
    real = bluesky_cassette("f_postthread.yml")[0].json()["thread"]
    view = thread.json()["thread"]
    assert keys(view) == keys(real)
    assert keys(view["post"]) == keys(real["post"]) - {"embed"}
    assert keys(view["post"]["author"]) == keys(real["post"]["author"])
    assert [r["post"]["record"]["text"] for r in view["replies"]] == ["Thanks!"]
    profile = call(platform, "app.bsky.actor.getProfile", params={"actor": "acorn-de.bsky.social"})
    real_profile = bluesky_cassette("a_profile.yml")[0].json()["profiles"][0]
    assert keys(profile.json()) <= keys(real_profile)
    assert {"did", "handle", "displayName", "postsCount"} <= keys(profile.json())
    convos = call(platform, "chat.bsky.convo.listConvos", token=token).json()
    real_convos = bluesky_cassette("c_list.yml")[0].json()
    assert keys(convos) == keys(real_convos)  # a short page: no cursor, as recorded
    [convo] = convos["convos"]
    assert keys(convo) == keys(real_convos["convos"][0]) - {"lastReaction"}  # no reactions here
    messages = call(
        platform, "chat.bsky.convo.getMessages", token=token, params={"convoId": convo["id"]}
    ).json()
    real_messages = bluesky_cassette("c_messages.yml")[0].json()
    assert keys(messages) == keys(real_messages)
    assert keys(messages["messages"][0]) == keys(real_messages["messages"][0])
    assert messages["messages"][0]["text"] == "Hello by DM"
    assert messages["messages"][0]["sender"] == {
        "did": platform.account("acorn-de.bsky.social").did
    }
    missing = call(platform, "app.bsky.feed.getPostThread", params={"uri": probe + "x"})
    assert (missing.status_code, missing.json()["error"]) == (400, "NotFound")


# -- sessions -----------------------------------------------------------------------------


def test_sessions_expire_and_refresh_tokens_are_spent(study: Study, clock: ManualClock) -> None:
    platform = platform_for(study, clock)
    session = login(platform)
    notifications = "app.bsky.notification.listNotifications"
    assert call(platform, notifications, token=session["accessJwt"]).status_code == 200
    missing = call(platform, notifications)
    assert (missing.status_code, missing.json()["error"]) == (401, "AuthMissing")
    clock.advance(2 * 3600)
    expired = call(platform, notifications, token=session["accessJwt"])
    assert (expired.status_code, expired.json()) == (
        400,
        {"error": "ExpiredToken", "message": "Token has expired"},
    )
    wrong_kind = call(
        platform, "com.atproto.server.refreshSession", body={}, token=session["accessJwt"]
    )
    assert (wrong_kind.status_code, wrong_kind.json()["error"]) == (400, "InvalidToken")
    refresh = "com.atproto.server.refreshSession"
    renewed = call(platform, refresh, body={}, token=session["refreshJwt"])
    assert renewed.status_code == 200
    assert renewed.json()["accessJwt"] != session["accessJwt"]
    assert call(platform, notifications, token=renewed.json()["accessJwt"]).status_code == 200
    spent = call(platform, refresh, body={}, token=session["refreshJwt"])
    assert (spent.status_code, spent.json()["error"]) == (400, "ExpiredToken")
    forged = call(platform, notifications, token=session["accessJwt"][:-4] + "AAAA")
    assert (forged.status_code, forged.json()["error"]) == (400, "InvalidToken")


def test_budgets_run_out_and_reset_with_virtual_time(study: Study, clock: ManualClock) -> None:
    platform = platform_for(study, clock, rate_limits={"global": (3, 300)})
    token = login(platform)["accessJwt"]
    method = "app.bsky.notification.listNotifications"
    answers = [call(platform, method, token=token) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[3].json() == {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    assert answers[3].headers["RateLimit-Policy"] == "3;w=300"
    clock.set(from_epoch(int(answers[3].headers["RateLimit-Reset"])))
    assert call(platform, method, token=token).status_code == 200
    request = httpx.Request("GET", f"{BSKY}/xrpc/{method}")
    injected = platform.refuse(request, 429)
    assert injected.headers["RateLimit-Remaining"] == "0"
    for status, name in ((500, "InternalServerError"), (503, "NotEnoughResources")):
        assert json.loads(platform.refuse(request, status).content)["error"] == name


# -- records, identifiers and notifications -------------------------------------------------


def test_record_keys_are_tids_that_follow_virtual_time(study: Study, clock: ManualClock) -> None:
    platform = platform_for(study, clock, bots=False)
    token = login(platform)["accessJwt"]
    uris = []
    for i in range(3):
        uris.append(post(platform, token, f"post {i}").json()["uri"])
        clock.advance(0 if i == 0 else 3600)  # the first two in the same microsecond
    rkeys = [u.rsplit("/", 1)[1] for u in uris]
    assert rkeys == sorted(rkeys) and len(set(rkeys)) == 3
    micros = [(tid_value(r) or 0) >> 10 for r in rkeys]
    assert micros[0] == micros[1] and from_epoch(micros[2] / 1e6) == START + timedelta(hours=1)
    assert tid_text(tid_value(rkeys[0]) or 0) == rkeys[0]
    resolved = call(
        platform, "com.atproto.identity.resolveHandle", params={"handle": "ACORN-DE.bsky.social"}
    ).json()
    assert resolved == {"did": platform.account("acorn-de.bsky.social").did}
    assert resolved["did"] == BlueskyPlatform(study, clock).account("acorn-de.bsky.social").did
    unknown = call(
        platform, "com.atproto.identity.resolveHandle", params={"handle": "nobody.bsky.social"}
    )
    assert (unknown.status_code, unknown.json()["message"]) == (400, "Unable to resolve handle")
    listed = call(
        platform,
        "com.atproto.repo.listRecords",
        params={"repo": platform.me.did, "collection": "app.bsky.feed.post", "limit": "2"},
    ).json()
    assert [r["uri"] for r in listed["records"]] == uris[:0:-1]
    assert listed["cursor"] == rkeys[1]
    rest = call(
        platform,
        "com.atproto.repo.listRecords",
        params={"repo": ACCOUNT, "collection": "app.bsky.feed.post", "cursor": listed["cursor"]},
    ).json()
    assert [r["uri"] for r in rest["records"]] == uris[:1]
    too_many = call(
        platform,
        "com.atproto.repo.listRecords",
        params={"repo": ACCOUNT, "collection": "app.bsky.feed.post", "limit": "101"},
    )
    assert too_many.json()["message"] == "limit can not be greater than 100"


def test_a_facet_must_cover_the_handle_to_notify_the_brand(
    study: Study, clock: ManualClock
) -> None:
    platform = platform_for(
        study, clock, settings=talkative(study, "[brands.acorn]\nanswer_rate = 1\n")
    )
    token = login(platform)["accessJwt"]
    did = platform.account("acorn-de.bsky.social").did
    text = "Grüße 🎉 @acorn-de.bsky.social, wo ist meine Bestellung?"
    start = text.index("@")  # characters, not UTF-8 bytes: 4 bytes short
    chars = [
        {
            "index": {"byteStart": start, "byteEnd": start + 21},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
        }
    ]
    assert post(platform, token, text, facets=chars).status_code == 200
    assert platform.pending() == []
    right = mention(text, "acorn-de.bsky.social", did)
    assert post(platform, token, text + "!", facets=right).status_code == 200
    assert {a.author for a in platform.pending()} >= {"acorn-de.bsky.social"}


def test_notifications_page_back_by_cursor_and_filter_by_reason(
    study: Study, clock: ManualClock
) -> None:
    platform = platform_for(study, clock, bots=False)
    token = login(platform)["accessJwt"]
    probe = post(platform, token, "hello").json()["uri"]
    for i in range(5):
        platform.reply(
            probe, f"answer {i}", author="acorn-de.bsky.social", after=timedelta(seconds=i)
        )
    platform.reply(
        probe, f"look @{ACCOUNT}", author="birch-us.bsky.social", after=timedelta(seconds=2)
    )
    clock.advance(10)
    method = "app.bsky.notification.listNotifications"
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", "reasons": ["reply"], **({"cursor": cursor} if cursor else {})}
        page = call(platform, method, params=params, token=token).json()
        if not page["notifications"]:
            break
        seen += [n["record"]["text"] for n in page["notifications"]]
        cursor = page["cursor"]
    assert seen == [f"answer {i}" for i in reversed(range(5))]
    both = call(platform, method, params={"reasons": ["reply", "mention"]}, token=token).json()
    assert Counter(n["reason"] for n in both["notifications"]) == {"reply": 5, "mention": 1}
    stamps = [n["indexedAt"] for n in both["notifications"]]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == 6


# -- bots -----------------------------------------------------------------------------------


def test_bots_follow_simulator_toml_per_brand(tmp_path: Path, clock: ManualClock) -> None:
    study = bluesky_study(tmp_path / "s")
    extra = """
[brands.acorn]
answer_rate = 1
auto_ack_share = 0
dm_share = 0
redirect_share = 1
redirect_dm_rate = 1
[brands.birch]
answer_rate = 0
auto_ack_share = 0
"""
    platform = platform_for(
        study, clock, settings=talkative(study, extra), ledger=tmp_path / "ledger.jsonl"
    )
    token = login(platform)["accessJwt"]
    plan = {p.handle: p for p in make_plan(study)}
    for handle in ("acorn-de.bsky.social", "birch-de.bsky.social"):
        did = platform.account(handle).did
        text = plan[handle].text
        assert post(platform, token, text, facets=mention(text, handle, did)).status_code == 200
    clock.advance(3 * 24 * 3600)
    call(platform, "app.bsky.notification.listNotifications", token=token)  # applies what is due
    brand_items = [e for e in read_ledger(tmp_path / "ledger.jsonl") if e.get("role") == "brand"]
    assert {e["brand"] for e in brand_items} == {"acorn"}
    assert [e["reply_kind"] for e in brand_items] == ["redirect", "direct_message"]
    redirect, dm = brand_items
    assert redirect["country"] == "DE" and redirect["channel"] == dm["channel"] == "bluesky"
    assert redirect["in_reply_to_id"] == redirect["conversation_id"] == redirect["probe_post_id"]
    assert not redirect["text"].startswith("@")  # a Bluesky reply needs no @mention
    assert dm["kind"] == "dm" and dm["recipient"] == ACCOUNT
    assert parse_iso(dm["created_at"]) > parse_iso(redirect["created_at"])


def test_the_server_routes_xrpc_to_this_face(
    tmp_path: Path, study: Study, clock: ManualClock
) -> None:
    faces = faces_for(study, clock, Ledger(tmp_path / "ledger.jsonl"))
    [(prefix, face)] = faces.items()
    assert prefix == "/xrpc/" and isinstance(face, BlueskyPlatform)
    routes = Dispatch(fallback=face, faces=faces)
    request = httpx.Request(
        "GET",
        f"{BSKY}/xrpc/com.atproto.identity.resolveHandle",
        params={"handle": "dune-us.bsky.social"},
    )
    assert routes.handle(request).status_code == 200


# -- a whole campaign -----------------------------------------------------------------------


async def campaign(
    study: Study, *, fault_rate: float = 0.0
) -> tuple[Journal, BlueskyPlatform, list[httpx.Request]]:
    """Run the study's campaign against the face, on a manual clock, as the CLI would."""
    plan = make_plan(study)
    clock = ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    platform = platform_for(study, clock, ledger=ledger_path(study.path))
    faults = Faults(fault_rate, seed=5)
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        decision = faults.next(request.method)
        posts = [r for r in requests if r.url.path.endswith("createRecord")]
        if fault_rate and posts == [request]:
            # Whatever the draw, the first post is applied and its answer lost: the runner
            # must find it among the account's posts instead of posting it again.
            decision = Decision(Fault.DROP_AFTER)
        return answer(platform, request, decision, sleep=None)

    journal = Journal.create_or_open(
        study.path, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://127.0.0.1:8765"
    ) as client:
        languages = {c.code: c.language for c in study.countries}
        channel = BlueskyChannel(
            client,
            account=ACCOUNT,
            password=PASSWORD,
            clock=clock,
            languages=languages,
            rng=random.Random(1),
        )
        runner = Runner(
            study,
            journal,
            {"bluesky": channel},
            clock,
            config=RunnerConfig(reconcile_after_real_s=0),
            seed=study.seed,
        )
        await runner.run()
    platform.close()
    return journal, platform, requests


def check_against_ledger(study: Study, journal: Journal) -> None:
    """The journal agrees with the face's ground truth: each probe posted once, every
    brand reply and DM to the probe account up to the last inbox read seen and matched to
    the probe that caused it, with the platform's own timestamp."""
    ledger = read_ledger(ledger_path(study.path))
    assert {e["channel"] for e in ledger} == {"bluesky"}
    probes = {r["probe_id"]: r for r in journal.con.execute("SELECT * FROM probes")}
    own = [e for e in ledger if e["kind"] == "post" and e["author"] == ACCOUNT]
    assert len(own) == len({e["text"] for e in own}) == len(probes)  # nobody posted twice
    by_uri = {r["message_id"]: pid for pid, r in probes.items()}
    assert set(by_uri) == {e["id"] for e in own}
    for e in own:  # sent_at is the createdAt the channel set; the face took it at once
        assert probes[by_uri[e["id"]]]["sent_at"] == e["created_at"]
    last = parse_iso(str(journal.meta("last_observation")))
    replies = {r["reply_id"]: r for r in journal.con.execute("SELECT * FROM replies")}
    answers = [e for e in ledger if e.get("role") == "brand"]
    assert answers, "the bots never answered"
    for e in answers:
        if parse_iso(e["created_at"]) > last:
            continue
        seen = replies[e["id"]]
        assert seen["created_at"] == e["created_at"]
        assert seen["author"] == e["author"] and seen["kind"] == e["reply_kind"]
        assert seen["probe_id"] == by_uri[e["probe_post_id"]], e
    strangers = [e for e in ledger if e.get("role") == "stranger"]
    assert all(e["id"] in replies for e in strangers if parse_iso(e["created_at"]) <= last)
    assert {r["kind"] for r in replies.values()} >= {"public_reply", "direct_message", "auto_ack"}


async def test_a_bluesky_campaign_runs_to_the_end_and_matches_the_ledger(tmp_path: Path) -> None:
    study = bluesky_study(tmp_path / "study")
    journal, platform, requests = await campaign(study)
    assert journal.counts() == {"closed": 8}
    check_against_ledger(study, journal)
    methods = Counter(r.url.path.rsplit("/", 1)[1] for r in requests)
    assert methods["com.atproto.server.createSession"] == 1
    assert methods["com.atproto.server.refreshSession"] >= 2  # 6-hour windows, 2-hour tokens
    assert methods["com.atproto.repo.createRecord"] == 8
    posted = [json.loads(r.content) for r in requests if r.url.path.endswith("createRecord")]
    assert {p["record"]["langs"][0] for p in posted} == {"de", "en"}
    for sent_at, closed_at in journal.con.execute("SELECT sent_at, closed_at FROM probes"):
        assert parse_iso(closed_at) - parse_iso(sent_at) == timedelta(hours=6)
    journal.close()


async def test_a_campaign_survives_faults_without_double_posts(tmp_path: Path) -> None:
    study = bluesky_study(tmp_path / "study")
    journal, _, requests = await campaign(study, fault_rate=0.3)
    assert journal.counts() == {"closed": 8}
    check_against_ledger(study, journal)
    outcomes = {r[0] for r in journal.con.execute("SELECT DISTINCT outcome FROM attempts")}
    assert {"acknowledged", "reconciled"} <= outcomes
    journal.close()


def test_helpers_are_consistent(study: Study) -> None:
    """The study helper plans one probe per target, each text naming its target's handle."""
    plan = make_plan(study)
    assert len(plan) == 8 and {p.channel for p in plan} == {"bluesky"}
    assert all(f"@{p.handle}" in p.text for p in plan)
    assert {p.text.split(" @")[0] for p in plan} == {
        "Grüße aus Deutschland 🎉",
        "Hi from the US 👋",
    }
