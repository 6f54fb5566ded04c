"""The simulator enforces the platforms' rules of study/platforms.toml by default (X's
posting and DM-read limits, its duplicate-content refusal, Mastodon's posting limit), and
`lenient` turns them off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from probes.sim.mastodon.face import MastodonPlatform
from probes.sim.x.face import XPlatform
from replybench.cli import app
from study.clock import ManualClock
from tests.probes.test_sim_mastodon import STATUSES
from tests.probes.test_sim_mastodon import client_for as mastodon_client
from tests.probes.test_sim_mastodon import small_study as mastodon_study
from tests.probes.test_sim_platform import START, client_for, small_study

# X's answer to a repeated text, as it sent it in 2026 (akrherz/iembot#163).
DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}


def x_platform(*, lenient: bool = False) -> tuple[XPlatform, ManualClock]:
    clock = ManualClock(START)
    return XPlatform(small_study(), clock, bots=False, lenient=lenient), clock


def test_x_refuses_a_repeated_text_with_its_403_unless_lenient() -> None:
    platform, _ = x_platform()
    with client_for(platform) as c:
        assert c.post("/2/tweets", json={"text": "@Acme_DE hello"}).status_code == 201
        again = c.post("/2/tweets", json={"text": "@Acme_DE hello"})
    assert again.status_code == 403 and again.json() == DUPLICATE
    platform, _ = x_platform(lenient=True)
    with client_for(platform) as c:
        codes = [c.post("/2/tweets", json={"text": "@Acme_DE hello"}).status_code for _ in "ab"]
    assert codes == [201, 201]


def test_x_allows_100_posts_per_15_minutes_and_says_when_the_window_resets() -> None:
    platform, clock = x_platform()
    with client_for(platform) as c:
        answers = [c.post("/2/tweets", json={"text": f"@Acme_DE q{i}"}) for i in range(101)]
        assert [a.status_code for a in answers].count(201) == 100
        last = answers[-1]
        assert last.status_code == 429 and last.headers["x-rate-limit-remaining"] == "0"
        assert answers[0].headers["x-rate-limit-limit"] == "100"
        # The app's 24-hour budget of 10,000 posts comes in X's own headers beside it.
        assert answers[0].headers["x-app-limit-24hour-limit"] == "10000"
        assert answers[99].headers["x-app-limit-24hour-remaining"] == str(10000 - 100)
        reset = datetime.fromtimestamp(int(last.headers["x-rate-limit-reset"]), UTC)
        assert reset == START + timedelta(minutes=15)
        clock.set(reset)
        assert c.post("/2/tweets", json={"text": "@Acme_DE later"}).status_code == 201


def test_x_allows_15_dm_event_reads_per_15_minutes() -> None:
    platform, _ = x_platform()
    with client_for(platform) as c:
        codes = [c.get("/2/dm_events").status_code for _ in range(16)]
    assert codes == [200] * 15 + [429]


def test_lenient_x_has_no_rate_limits() -> None:
    platform, _ = x_platform(lenient=True)
    with client_for(platform) as c:
        posts = [c.post("/2/tweets", json={"text": f"@Acme_DE q{i}"}) for i in range(150)]
        reads = [c.get("/2/dm_events") for _ in range(30)]
    assert {r.status_code for r in posts} == {201} and {r.status_code for r in reads} == {200}
    assert "x-rate-limit-limit" not in posts[0].headers


def test_mastodon_allows_300_posts_per_3_hours_unless_lenient() -> None:
    for lenient, refused in ((False, 1), (True, 0)):
        clock = ManualClock(START)
        platform = MastodonPlatform(mastodon_study(), clock, bots=False, lenient=lenient)
        codes = []
        with mastodon_client(platform) as c:
            for i in range(301):
                clock.advance(2)  # 150 requests per 5 minutes: inside the request budget
                codes.append(c.post(STATUSES, json={"status": f"q{i}"}).status_code)
        assert codes.count(429) == refused and codes.count(200) == 301 - refused


def test_replybench_sim_has_a_lenient_switch() -> None:
    result = CliRunner().invoke(app, ["sim", "--help"])
    assert result.exit_code == 0 and "--lenient" in result.stdout
