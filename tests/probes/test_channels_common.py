"""What the HTTP adapters share (probes.channels.common): ids, inbox order, the client."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from probes.channels.base import AuthError, Reply
from probes.channels.common import first_line, make_client, newer, newest_id, oldest_first
from study.model import ReplyKind

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def reply(reply_id: str, minute: int = 0) -> Reply:
    when = AT.replace(minute=minute)
    return Reply(reply_id, "x", "kaito", "1", "hi", when, ReplyKind.PUBLIC_REPLY, None)


def test_ids_compare_as_numbers_when_they_are_numbers() -> None:
    assert newest_id(["9", "10", "not-a-number"], None) == "10"
    assert newest_id(["9"], "10") == "10"
    assert newest_id([], None) is None
    assert newer("10", "9") and not newer("9", "10") and not newer("9", "9")
    assert newer("abc", "abd") and not newer("abc", "abc")  # not numbers: only "different"


def test_oldest_first_orders_by_time_then_id_and_drops_repeats() -> None:
    items = [reply("10"), reply("9"), reply("8", minute=1), reply("9")]
    assert [r.reply_id for r in oldest_first(items)] == ["9", "10", "8"]
    uris = [reply("at://did:plc:b/post/2"), reply("at://did:plc:a/post/1")]
    assert [r.reply_id for r in oldest_first(uris)] == [
        "at://did:plc:a/post/1",
        "at://did:plc:b/post/2",
    ]


@pytest.mark.anyio
async def test_make_client_carries_base_and_token_only_when_given() -> None:
    async with make_client("https://api.x.test", " tok-123456 ", timeout=5) as client:
        assert client.headers["authorization"] == "Bearer tok-123456"
        assert client.base_url == httpx.URL("https://api.x.test") and client.timeout.read == 5
    async with make_client("https://bsky.test") as bare:
        assert "authorization" not in bare.headers
        assert bare.headers["user-agent"] == "replybench"
    with pytest.raises(AuthError, match="no bearer token"):
        make_client("https://api.x.test", "  ")


def test_first_line_is_the_body_s_first_line_cut_short() -> None:
    assert first_line(httpx.Response(502, text="\n  Bad gateway\nmore")) == "Bad gateway"
    assert first_line(httpx.Response(500, text="x" * 300)) == "x" * 200
    assert first_line(httpx.Response(500)) == ""
