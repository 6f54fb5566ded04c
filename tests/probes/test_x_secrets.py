"""An X error that echoes the request's credential never carries it into a message: the
OAuth 2.0 access token (and refresh token) of the stored pair are scrubbed like a bearer
token in the client's headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from probes.channels.base import ChannelError
from probes.channels.tokens import TokenStore
from probes.channels.x.adapter import XChannel
from probes.channels.x.oauth2 import STORE_KIND, Client, TokenPair, XTokens, XTokensAuth
from study.clock import ManualClock
from study.model import PlannedProbe, Scope

pytestmark = pytest.mark.anyio
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ACCESS = "oauth2-access-token-that-must-never-show"
REFRESH = "oauth2-refresh-token-that-must-never-show"


def echoing(request: httpx.Request) -> httpx.Response:
    """A server that repeats the Authorization header it got in its error's detail."""
    said = request.headers.get("authorization", "")
    body = {
        "title": "Invalid Request",
        "detail": f"Bad credential {said} for {said[7:]}",
        "type": "https://api.twitter.com/2/problems/invalid-request",
        "status": 400,
    }
    return httpx.Response(400, json=body)


async def test_an_echoed_oauth2_token_is_scrubbed_from_the_message(tmp_path: Path) -> None:
    clock = ManualClock(START)
    store = TokenStore(tmp_path / "tokens", "study-1")
    store.save(
        STORE_KIND, "probe_acct", TokenPair(ACCESS, REFRESH, START + timedelta(hours=2)).to_json()
    )
    tokens = XTokens(store, "probe_acct", Client("client-id"), api_base="https://api.x.test",
                     clock=clock)  # fmt: skip
    probe = PlannedProbe(
        "p1", "acme", "DE", "x", "Acme_DE", Scope.LOCAL, "s1", "morning", 1, "@Acme_DE hi?",
        START, START, START + timedelta(hours=1),
    )  # fmt: skip
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(echoing), base_url="https://api.x.test",
        auth=XTokensAuth(tokens),
    ) as c:  # fmt: skip
        with pytest.raises(ChannelError) as e:
            await XChannel(c, account="probe_acct", clock=clock).send(probe)
    message = str(e.value)
    assert "Bad credential" in message  # the detail is shown ...
    assert ACCESS not in message and REFRESH not in message  # ... without the token
