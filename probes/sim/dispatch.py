"""One simulator, several platforms: requests are routed to a face by their path.

X API v2 lives under `/2/`, Mastodon under `/api/`, Bluesky (AT Protocol XRPC) under `/xrpc/`:
the prefixes never collide, so one server on one port serves a study that mixes channels.
Every face (`probes.sim.face.Face`) is built by its `for_study(study, clock, *, ledger)` and
shares the study's clock and ledger.
"""

from __future__ import annotations

import importlib
from typing import Any

import httpx

from probes.sim.face import Face
from probes.sim.ledger import Ledger
from probes.sim.x.face import XPlatform
from study.clock import Clock
from study.model import Study

# channel -> (path prefix, "module:Class"). The X face is the fallback for any other path.
FACES: dict[str, tuple[str, str]] = {
    "mastodon": ("/api/", "probes.sim.mastodon.face:MastodonPlatform"),
    "bluesky": ("/xrpc/", "probes.sim.bluesky.face:BlueskyPlatform"),
}


class Dispatch:
    """Routes each request to the face that owns its path; X (`fallback`) takes everything
    else. Without an X face, a path no face owns is a 404 that says why (a runner pointed at
    the wrong place sees it in the error)."""

    def __init__(
        self, fallback: Face[Any] | None, faces: dict[str, Face[Any]] | None = None
    ) -> None:
        self.fallback = fallback
        self.faces = faces or {}

    def face(self, request: httpx.Request) -> Face[Any] | None:
        for prefix, face in self.faces.items():
            if request.url.path.startswith(prefix):
                return face
        return self.fallback

    def handle(self, request: httpx.Request) -> httpx.Response:
        face = self.face(request)
        if face is None:
            served = " and ".join(f"{name} under {prefix}" for name, (prefix, _) in FACES.items())
            error = (
                f"Not Found: {request.url.path}; the study has no [channels.x], so this "
                f"simulator serves no X API (it serves {served} when targets use them)"
            )
            return httpx.Response(404, json={"error": error})
        return face.handle(request)

    def refuse(self, request: httpx.Request, status: int) -> httpx.Response:
        face = self.face(request)
        if face is None:
            return httpx.Response(status, json={"error": f"injected fault ({status})"})
        return face.refuse(request, status)

    def close(self) -> None:
        for face in (*self.faces.values(), self.fallback):
            if face is not None:
                face.close()


def faces_for(
    study: Study, clock: Clock, ledger: Ledger, *, lenient: bool = False
) -> dict[str, Face[Any]]:
    """The extra faces a study needs: one per channel its targets use that has one
    (`lenient`: without the platforms' rules)."""
    used = {t.channel for t in study.probed_targets}
    built: dict[str, Face[Any]] = {}
    for channel, (prefix, where) in FACES.items():
        if channel in used:
            module, name = where.split(":")
            cls = getattr(importlib.import_module(module), name)
            built[prefix] = cls.for_study(study, clock, ledger=ledger, lenient=lenient)
    return built


def dispatch_for(study: Study, clock: Clock, ledger: Ledger, *, lenient: bool = False) -> Dispatch:
    """Every face the study needs, as `replybench sim` builds them: an X face if the study has
    `[channels.x]`, one per other simulated channel its targets use, one ledger."""
    x = None
    if any(c.name == "x" for c in study.channels):
        x = XPlatform.for_study(study, clock, ledger=ledger, lenient=lenient)
    return Dispatch(x, faces_for(study, clock, ledger, lenient=lenient))
