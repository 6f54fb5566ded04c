"""One simulator, several platforms: requests are routed to a face by their path.

X API v2 lives under `/2/`, Mastodon under `/api/`, Bluesky (AT Protocol XRPC) under `/xrpc/`:
the prefixes never collide, so one server on one port serves a study that mixes channels.
Each face is a stateful fake platform with `handle`, `refuse` and `close`, built by a
`for_study(study, clock, *, ledger)` class method, and shares the study's clock and ledger.
"""

from __future__ import annotations

import importlib
from typing import Protocol

import httpx

from probes.sim.ledger import Ledger
from study.clock import Clock
from study.model import Study


class Face(Protocol):
    def handle(self, request: httpx.Request) -> httpx.Response: ...

    def refuse(self, request: httpx.Request, status: int) -> httpx.Response: ...

    def close(self) -> None: ...


# channel -> (path prefix, "module:Class"). The X face is the fallback for any other path.
FACES: dict[str, tuple[str, str]] = {
    "mastodon": ("/api/", "probes.sim.mastodon.face:MastodonPlatform"),
    "bluesky": ("/xrpc/", "probes.sim.bluesky.face:BlueskyPlatform"),
}


class Dispatch:
    """Routes each request to the face that owns its path; X takes everything else."""

    def __init__(self, fallback: Face, faces: dict[str, Face] | None = None) -> None:
        self.fallback = fallback
        self.faces = faces or {}

    def face(self, request: httpx.Request) -> Face:
        for prefix, face in self.faces.items():
            if request.url.path.startswith(prefix):
                return face
        return self.fallback

    def handle(self, request: httpx.Request) -> httpx.Response:
        return self.face(request).handle(request)

    def refuse(self, request: httpx.Request, status: int) -> httpx.Response:
        return self.face(request).refuse(request, status)

    def close(self) -> None:
        for face in (*self.faces.values(), self.fallback):
            face.close()


def faces_for(study: Study, clock: Clock, ledger: Ledger) -> dict[str, Face]:
    """The extra faces a study needs: one per channel its targets use that has one."""
    used = {t.channel for t in study.probed_targets}
    built: dict[str, Face] = {}
    for channel, (prefix, where) in FACES.items():
        if channel in used:
            module, name = where.split(":")
            cls = getattr(importlib.import_module(module), name)
            built[prefix] = cls.for_study(study, clock, ledger=ledger)
    return built
