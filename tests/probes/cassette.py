"""Replaying VCR cassettes (recorded real HTTP exchanges) through `httpx.MockTransport`.

A cassette is YAML as vcrpy writes it: `interactions`, each a `request` (method, uri) and a
`response` (status, headers as lists, body string; gzip bodies as base64 `!!binary`).
Bodies are served exactly as recorded, `Content-Encoding: gzip` included, so httpx decodes
them the way it decodes the live service's.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True)
class Recorded:
    """One recorded exchange: the request's method and path, the response as sent."""

    method: str
    path: str
    query: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes  # as sent on the wire (possibly gzip-compressed)
    request_body: bytes | None = None

    def text(self) -> str:
        """The decoded response body."""
        encoding = dict((k.lower(), v) for k, v in self.headers).get("content-encoding", "")
        raw = gzip.decompress(self.body) if "gzip" in encoding else self.body
        return raw.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.text())

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def with_headers(self, **changes: str) -> Recorded:
        """A copy with some headers replaced (`x_rate_limit_remaining="0"`)."""
        names = {k.replace("_", "-").lower(): v for k, v in changes.items()}
        kept = tuple((k, v) for k, v in self.headers if k.lower() not in names)
        return replace(self, headers=kept + tuple(names.items()))

    def response(self, request: httpx.Request | None = None) -> httpx.Response:
        return httpx.Response(
            self.status,
            headers=list(self.headers),
            content=self.body,
            request=request,
        )


def _body(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("string")
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def load_cassette(path: Path | str) -> list[Recorded]:
    """The exchanges of one cassette file, in recorded order."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out: list[Recorded] = []
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        url = urlsplit(request["uri"])
        headers = tuple(
            (name, str(v))
            for name, values in response["headers"].items()
            # httpx computes the length of the body it is given
            if name.lower() != "content-length"
            for v in (values if isinstance(values, list) else [values])
        )
        out.append(
            Recorded(
                method=request["method"].upper(),
                path=url.path,
                query=url.query,
                status=int(response["status"]["code"]),
                headers=headers,
                body=_body(response["body"]) or b"",
                request_body=_body(request.get("body")),
            )
        )
    return out


def recorded(cassette: str, method: str, path: str) -> Recorded:
    """The first exchange for `method path` in `tests/fixtures/<cassette>`."""
    for r in load_cassette(FIXTURES / cassette):
        if r.method == method.upper() and r.path == path:
            return r
    raise LookupError(f"{cassette} has no {method} {path}")


class Replay:
    """A MockTransport handler that answers each request with a recorded response.

    A request matches a recording by method and path (host and query are ignored: the
    adapter asks for more fields than the recorder did). Several recordings for one path are
    served in order, the last one repeating. `alias` serves a recording under another path,
    e.g. a user lookup's user object as the answer to `/2/users/me`. Every request is kept
    in `requests` for assertions; an unmatched one fails the test.
    """

    def __init__(self, recordings: Iterable[Recorded], alias: dict[str, str] | None = None) -> None:
        self._queues: dict[tuple[str, str], deque[Recorded]] = defaultdict(deque)
        for r in recordings:
            self._queues[(r.method, r.path)].append(r)
        self.alias = alias or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = self.alias.get(request.url.path, request.url.path)
        queue = self._queues.get((request.method, path))
        if not queue:
            raise AssertionError(f"no recording for {request.method} {request.url.path}")
        r = queue.popleft() if len(queue) > 1 else queue[0]
        return r.response(request)

    def client(self, base_url: str = "https://api.twitter.com") -> httpx.AsyncClient:
        return client_for(self, base_url)


def client_for(handler: Any, base_url: str = "https://api.twitter.com") -> httpx.AsyncClient:
    """An AsyncClient over `handler` with a bearer token, as `make_client` builds one."""
    return httpx.AsyncClient(
        transport=httpx.MockTransport(handler),
        base_url=base_url,
        headers={"Authorization": f"Bearer {SECRET_TOKEN}"},
    )


# A token that must never appear in a message: tests assert it does not.
SECRET_TOKEN = "AAAAsecret-token-that-must-never-leak-0123456789"
