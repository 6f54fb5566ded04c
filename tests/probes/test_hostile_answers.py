"""Odd and hostile answers, one at a time, against the adapters and their shared layer
(probes.channels.http, probes.answers): each is clamped or refused with a clear error, never a
crash, and an unreadable read is a failed read, never an empty inbox."""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import pytest

from probes.channels.base import Transient, Unreadable
from probes.channels.bluesky import inbox as bsky
from probes.channels.bluesky.session import LOGIN
from probes.channels.x.adapter import CREATE_POST, MENTIONS, XChannel
from probes.sim.faults import HTML_PAGE, HUGE_BYTES, HugeStream
from study.clock import ManualClock
from tests.probes import test_bluesky as tb
from tests.probes import test_mastodon as tm
from tests.probes.cassette import client_for
from tests.probes.x_fakes import START, TWITTER, Fake, json_response, probe

pytestmark = pytest.mark.anyio

MENTIONS_PATH = f"/2/users/{TWITTER}/mentions"
NO_DMS = {"/2/dm_events": [{"meta": {}}]}
CAP = 4 * 1024 * 1024  # probes.answers.MAX_BODY_BYTES, restated: the test pins the value


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def x_for(fake: Any, clock: ManualClock, **kw: Any) -> tuple[httpx.AsyncClient, XChannel]:
    client = client_for(fake)
    return client, XChannel(client, account="Twitter", clock=clock, **kw)


def mention(post_id: object, text: str = "@Twitter hello") -> dict[str, Any]:
    return {"id": post_id, "text": text, "author_id": "42", "created_at": "2022-10-08T09:00:00Z"}


# -- item 4: odd values ---------------------------------------------------------------------


async def test_a_40_digit_post_id_is_recorded_with_our_clock(clock: ManualClock) -> None:
    long_id = "1" * 40  # not a snowflake: its "time" would be past the year 9999
    fake = Fake(clock, {"/2/tweets": [json_response(201, {"data": {"id": long_id}})]})
    client, x = x_for(fake, clock)
    async with client:
        sent = await x.send(probe())
    assert (sent.message_id, sent.sent_at) == (long_id, START)


@pytest.mark.parametrize("reset", ["1e20", "inf", "253402300799", "99999999999"])
async def test_an_absurd_429_reset_on_a_read_is_clamped_to_a_day_and_says_so(
    clock: ManualClock, reset: str
) -> None:
    spent = httpx.Response(
        429, json={"title": "Too Many Requests"},
        headers={"x-rate-limit-limit": "75", "x-rate-limit-remaining": "0",
                 "x-rate-limit-reset": reset},
    )  # fmt: skip
    fake = Fake(clock, {MENTIONS_PATH: [spent], **NO_DMS})
    client, x = x_for(fake, clock)
    async with client:
        with pytest.raises(Transient) as failed:
            await x.inbox(None)
    assert failed.value.retry_at == START + timedelta(hours=24)
    assert x.rate_limits[MENTIONS].reset_clamped_from == reset


async def test_an_absurd_429_reset_on_a_post_is_clamped_too(clock: ManualClock) -> None:
    spent = httpx.Response(429, headers={"x-rate-limit-remaining": "0",
                                         "x-rate-limit-reset": "1e20"})  # fmt: skip
    fake = Fake(clock, {"/2/tweets": [spent]})
    client, x = x_for(fake, clock)
    async with client:
        with pytest.raises(Transient) as failed:
            await x.send(probe())
    assert failed.value.retry_at == START + timedelta(hours=24)
    assert x.rate_limits[CREATE_POST].reset_clamped_from == "1e20"


async def test_an_absurd_mastodon_reset_is_clamped(clock: ManualClock) -> None:
    far = "9999-12-31T23:59:59.999999Z"
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": far}
    spent = httpx.Response(429, json={"error": "Too many requests"}, headers=headers)
    fake = tm.Fake(clock, {tm.NOTES: [spent]})
    async with client_for(fake, tm.BASE) as client:
        with pytest.raises(Transient) as failed:
            await tm.channel(client, clock).inbox(None)
    assert failed.value.retry_at == START + timedelta(hours=24)


async def test_an_integer_mention_id_is_read_as_text(clock: ManualClock) -> None:
    fake = Fake(clock, {MENTIONS_PATH: [{"data": [mention(1579213112000000000)]}], **NO_DMS})
    client, x = x_for(fake, clock)
    async with client:
        [reply], cursor = await x.inbox(None)
    assert reply.reply_id == cursor["mentions_since_id"] == "1579213112000000000"


async def test_ids_that_are_not_ids_are_left_out(clock: ManualClock) -> None:
    odd = [mention({"a": 1}), mention(1.5), mention(True), mention("9" * 600), mention("7")]
    fake = Fake(clock, {MENTIONS_PATH: [{"data": odd}], **NO_DMS})
    client, x = x_for(fake, clock)
    async with client:
        replies, _ = await x.inbox(None)
    assert [r.reply_id for r in replies] == ["7"]


async def test_a_reply_time_out_of_range_is_not_read(clock: ManualClock) -> None:
    far = {**mention("8"), "created_at": "9999-12-31T23:59:59Z"}
    fake = Fake(clock, {MENTIONS_PATH: [{"data": [far, mention("7")]}], **NO_DMS})
    client, x = x_for(fake, clock)
    async with client:
        replies, _ = await x.inbox(None)
    assert [r.reply_id for r in replies] == ["7"]


async def test_endless_pagination_is_a_failed_read(clock: ManualClock) -> None:
    pages = iter(range(10**6))

    def page(request: httpx.Request) -> httpx.Response:
        return json_response(
            200, {"data": [mention("7")], "meta": {"next_token": f"t{next(pages)}"}}
        )

    fake = Fake(clock, {MENTIONS_PATH: [page], **NO_DMS})
    client, x = x_for(fake, clock)
    async with client:
        with pytest.raises(Unreadable, match="kept paginating"):
            await x.inbox(None)


# -- item 5: an unreadable inbox is not an empty one ----------------------------------------


HTML = httpx.Response(200, headers={"content-type": "text/html"}, content=HTML_PAGE)
BROKEN = httpx.Response(200, headers={"content-type": "application/json"},
                        content=b'{"data": [{"id": "7", "text": "@Twitter hel')  # fmt: skip


@pytest.mark.parametrize("answer", [HTML, BROKEN], ids=["html", "broken-json"])
async def test_a_200_that_is_not_json_fails_the_x_inbox_read(
    clock: ManualClock, answer: httpx.Response
) -> None:
    fake = Fake(clock, {MENTIONS_PATH: [answer], **NO_DMS})
    client, x = x_for(fake, clock)
    async with client:
        with pytest.raises(Unreadable, match="not JSON"):
            await x.inbox(None)


@pytest.mark.parametrize("answer", [HTML, BROKEN, httpx.Response(200, json={"a": 1})],
                         ids=["html", "broken-json", "not-a-list"])  # fmt: skip
async def test_a_200_that_is_not_a_page_fails_the_mastodon_inbox_read(
    clock: ManualClock, answer: httpx.Response
) -> None:
    fake = tm.Fake(clock, {tm.NOTES: [answer]})
    async with client_for(fake, tm.BASE) as client:
        with pytest.raises(Unreadable):
            await tm.channel(client, clock).inbox(None)


# -- item 10: bounded memory and time -------------------------------------------------------


async def test_a_50_mb_body_is_refused_without_reading_it_all(clock: ManualClock) -> None:
    stream = HugeStream(HUGE_BYTES)
    fake = Fake(clock, {MENTIONS_PATH: [httpx.Response(200, stream=stream)], **NO_DMS})
    client, x = x_for(fake, clock)
    tracemalloc.start()
    try:
        async with client:
            with pytest.raises(Unreadable, match="more than 4194304 bytes"):
                await x.inbox(None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stream.served <= CAP + stream.CHUNK  # read up to the cap, not 50 MB
    assert peak < 4 * CAP, f"peak {peak / 2**20:.1f} MiB"


async def test_a_body_declared_too_large_is_not_read_at_all(clock: ManualClock) -> None:
    stream = HugeStream(HUGE_BYTES)
    huge = httpx.Response(200, headers={"content-length": str(HUGE_BYTES)}, stream=stream)
    fake = Fake(clock, {MENTIONS_PATH: [huge], **NO_DMS})
    client, x = x_for(fake, clock)
    async with client:
        with pytest.raises(Unreadable, match=f"a body of {HUGE_BYTES} bytes"):
            await x.inbox(None)
    assert stream.served == 0


class _Drip(BaseHTTPRequestHandler):
    """/2/users/me at once; anything else one byte every 0.2 s, for ever (until the client
    hangs up)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/2/users/me"):
            body = b'{"data": {"id": "783214", "username": "Twitter"}}'
        else:
            body = b'{"data": []}' + b" " * 10_000
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path.startswith("/2/users/me"):
            self.wfile.write(body)
            return
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def drip_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Drip)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_slow_drip_is_cut_off_at_the_deadline(clock: ManualClock, drip_server: str) -> None:
    """httpx's timeouts are per read: a byte every 0.2 s never trips a 5 s read timeout.
    The deadline covers the whole exchange; the outcome is a failed read, not a hang."""
    async with httpx.AsyncClient(base_url=drip_server, timeout=5) as client:
        x = XChannel(client, account="Twitter", clock=clock, deadline=1.0)
        with anyio.fail_after(60):  # the test's own bound, far above the deadline
            with pytest.raises(Transient, match="no whole answer within 1 s"):
                await x.inbox(None)


# -- item 3: the platform's clock ------------------------------------------------------------


async def test_find_sent_looks_from_the_platforms_clock(clock: ManualClock) -> None:
    """Our clock 10 minutes ahead of X's (its Date header): the look-up starts 10 minutes
    earlier on X's clock, where the post is."""
    behind = format_datetime(START - timedelta(minutes=10), usegmt=True)
    me = json_response(200, {"data": {"id": TWITTER, "username": "Twitter"}}, {"date": behind})
    fake = Fake(clock, {"/2/users/me": [me], f"/2/users/{TWITTER}/tweets": [{"meta": {}}]})
    client, x = x_for(fake, clock)
    async with client:
        await x.find_sent(probe(), START - timedelta(minutes=5))
    [params] = fake.params(f"/2/users/{TWITTER}/tweets")
    assert params["start_time"] == "2022-10-08T08:45:00Z"


async def test_a_date_header_a_year_off_is_not_believed(clock: ManualClock) -> None:
    wrong = format_datetime(START - timedelta(days=365), usegmt=True)
    me = json_response(200, {"data": {"id": TWITTER, "username": "Twitter"}}, {"date": wrong})
    fake = Fake(clock, {"/2/users/me": [me], f"/2/users/{TWITTER}/tweets": [{"meta": {}}]})
    client, x = x_for(fake, clock)
    async with client:
        await x.find_sent(probe(), START - timedelta(minutes=5))
    [params] = fake.params(f"/2/users/{TWITTER}/tweets")
    assert params["start_time"] == "2022-10-08T08:55:00Z"


async def test_mastodon_find_sent_looks_from_the_instances_clock(clock: ManualClock) -> None:
    """The status was made at 13:40 on the instance's clock, 10 minutes behind ours: a
    look-up from 13:45 on ours (13:35 on the instance's) finds it."""
    behind = format_datetime(START - timedelta(minutes=10), usegmt=True)
    me = httpx.Response(200, json={"id": tm.TEST_ID, "username": "mastodonpy_test"},
                        headers={"date": behind})  # fmt: skip
    made = START - timedelta(minutes=5)
    status = {"id": "5", "created_at": made.isoformat(), "content": "<p>Toot!</p>"}
    fake = tm.Fake(clock, {tm.VERIFY_PATH: [me],
                           f"/api/v1/accounts/{tm.TEST_ID}/statuses": [[status]]})  # fmt: skip
    async with client_for(fake, tm.BASE) as client:
        found = await tm.channel(client, clock).find_sent(tm.probe(), START)
    assert found is not None and found.message_id == "5"


@pytest.mark.parametrize("answer", [HTML, BROKEN], ids=["html", "broken-json"])
async def test_a_200_that_is_not_json_fails_the_bluesky_inbox_read(
    clock: ManualClock, answer: httpx.Response
) -> None:
    fake = tb.Fake(clock, {bsky.NOTIFICATIONS: [lambda request: answer]})
    async with fake.client() as client:
        with pytest.raises(Unreadable, match="not JSON"):
            await tb.channel(client, clock).inbox(None)


async def test_an_absurd_reset_on_a_bluesky_login_is_clamped(clock: ManualClock) -> None:
    spent = tb.err(429, "RateLimitExceeded", "Rate Limit Exceeded",
                   ratelimit_remaining="0", ratelimit_reset="1e20")  # fmt: skip
    fake = tb.Fake(clock, {LOGIN: [spent]})
    async with fake.client() as client:
        with pytest.raises(Transient) as failed:
            await tb.channel(client, clock).inbox(None)
    assert failed.value.retry_at == clock.now() + timedelta(hours=24)
