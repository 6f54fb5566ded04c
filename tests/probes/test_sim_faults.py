"""Injected failures: at the asked rate, of every kind, reproducible, and honest about drops."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from probes.sim.faults import HOSTILE, Decision, Fault, Faults, answer, faulty
from probes.sim.x.face import XPlatform
from study.clock import ManualClock
from tests.probes.test_sim_platform import START, client_for, me_id, small_study


def decisions(rate: float, seed: int, n: int, method: str = "GET") -> list[Decision]:
    faults = Faults(rate, seed)
    return [faults.next(method) for _ in range(n)]


def test_faults_come_at_the_rate_and_of_every_kind() -> None:
    for rate in (0.0, 0.1, 0.5):
        got = decisions(rate, 3, 4000, "POST")
        share = sum(d.fault is not Fault.NONE for d in got) / len(got)
        assert abs(share - rate) < 0.03
    kinds = Counter(d.fault for d in decisions(0.5, 3, 4000, "POST"))
    assert set(kinds) == set(Fault) - set(HOSTILE)
    hostile = Faults(0.5, 3, weights=HOSTILE)
    assert {hostile.next("GET").fault for _ in range(4000)} == {Fault.NONE, *HOSTILE}
    assert all(1 <= d.delay <= 3 for d in decisions(1.0, 3, 500) if d.fault is Fault.SLOW)


def test_faults_are_reproducible_from_the_seed() -> None:
    assert decisions(0.3, 9, 300) == decisions(0.3, 9, 300)
    assert decisions(0.3, 9, 300) != decisions(0.3, 10, 300)
    assert Fault.DROP_AFTER not in {d.fault for d in decisions(1.0, 9, 1000, "GET")}


def test_a_drop_after_a_post_applies_it_and_the_client_cannot_know() -> None:
    clock = ManualClock(START)
    platform = XPlatform(small_study(), clock, bots=False)
    request = httpx.Request(
        "POST", "https://api.x.test/2/tweets", json={"text": "@Acme_DE did this go out?"},
        headers={"Authorization": "Bearer t"},
    )  # fmt: skip
    with pytest.raises(httpx.RemoteProtocolError):
        answer(platform, request, Decision(Fault.DROP_AFTER), sleep=None)
    with client_for(platform) as c:
        posts = c.get(f"/2/users/{me_id(c)}/tweets").json()
        assert [p["text"] for p in posts["data"]] == ["@Acme_DE did this go out?"]
        again = c.post("/2/tweets", json={"text": "@Acme_DE did this go out?"})
        assert again.status_code == 403  # a blind retry is refused as a duplicate


def test_a_plain_drop_applies_nothing() -> None:
    platform = XPlatform(small_study(), ManualClock(START), bots=False)
    request = httpx.Request("POST", "https://api.x.test/2/tweets", json={"text": "hello"},
                            headers={"Authorization": "Bearer t"})  # fmt: skip
    with pytest.raises(httpx.RemoteProtocolError):
        answer(platform, request, Decision(Fault.DROP), sleep=None)
    assert platform.world.posts == {}


def test_injected_429_says_when_to_come_back() -> None:
    clock = ManualClock(START)
    platform = XPlatform(small_study(), clock, bots=False)
    request = httpx.Request("GET", "https://api.x.test/2/users/me",
                            headers={"Authorization": "Bearer t"})  # fmt: skip
    response = answer(platform, request, Decision(Fault.RATE_LIMITED), sleep=None)
    assert response.status_code == 429 and response.headers["x-rate-limit-remaining"] == "0"
    reset = datetime.fromtimestamp(int(response.headers["x-rate-limit-reset"]), UTC)
    assert reset > clock.now()
    for fault, status in ((Fault.SERVER_ERROR, 500), (Fault.UNAVAILABLE, 503)):
        assert answer(platform, request, Decision(fault), sleep=None).status_code == status


def test_the_mock_transport_wrapper_fails_at_the_rate() -> None:
    clock = ManualClock(START)
    platform = XPlatform(small_study(), clock, bots=False)
    transport = httpx.MockTransport(faulty(platform, Faults(0.3, 1)))
    outcomes: Counter[str] = Counter()
    with httpx.Client(transport=transport, base_url="https://api.x.test",
                      headers={"Authorization": "Bearer t"}) as c:  # fmt: skip
        for _ in range(600):
            clock.advance(5)  # 12 a minute: well inside X's 900 lookups per 15 minutes
            try:
                outcomes[str(c.get("/2/users/by/username/someone").status_code)] += 1
            except httpx.RemoteProtocolError:
                outcomes["dropped"] += 1
    failed = 600 - outcomes["200"] - outcomes["404"]
    assert 0.2 < failed / 600 < 0.4
    assert {"429", "500", "503", "dropped"} <= set(outcomes)
