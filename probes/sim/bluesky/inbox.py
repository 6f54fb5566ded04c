"""The Bluesky face's inbox reads: a probe account's notifications, chats and messages, newest
first, in pages with cursors as the recordings show them (probes.sim.bluesky.face routes
`app.bsky.notification.listNotifications`, `chat.bsky.convo.listConvos` and
`chat.bsky.convo.getMessages` here)."""

from __future__ import annotations

from typing import Any

import httpx

from probes.sim.bluesky import records as rec
from probes.sim.bluesky import views
from probes.sim.bluesky.views import XrpcError, respond
from probes.sim.bluesky.world import BlueskyWorld


def notifications(world: BlueskyWorld, request: httpx.Request, did: str | None) -> httpx.Response:
    params = request.url.params
    size, before = rec.limit(params), rec.time_cursor(params)
    reasons = set(params.get_list("reasons"))
    chosen = [
        n
        for n in reversed(world.notifications)
        if n.recipient == did
        and not n.post.deleted
        and (not reasons or n.reason in reasons)
        and (before is None or n.indexed_at < before)
    ][:size]
    body: dict[str, Any] = {"notifications": [views.notification(n) for n in chosen]}
    if chosen:
        body["cursor"] = body["notifications"][-1]["indexedAt"]
    body["priority"] = False
    return respond(200, body)


def list_convos(world: BlueskyWorld, request: httpx.Request, did: str | None) -> httpx.Response:
    params = request.url.params
    size, before = rec.limit(params), params.get("cursor")
    mine = [c for c in world.convos.values() if did in {m.did for m in c.members}]
    mine.sort(key=lambda c: (len(c.rev), c.rev), reverse=True)
    if before:
        mine = [c for c in mine if (len(c.rev), c.rev) < (len(before), before)]
    page = mine[:size]
    me = world.by_did[did or ""]
    body: dict[str, Any] = {"convos": [views.convo_view(c, me) for c in page]}
    if len(page) == size:  # as recorded: a short page of convos has no cursor
        body["cursor"] = page[-1].rev
    return respond(200, body)


def get_messages(world: BlueskyWorld, request: httpx.Request, did: str | None) -> httpx.Response:
    params = request.url.params
    convo = world.convos.get(rec.required(params, "convoId"))
    if convo is None or did not in {m.did for m in convo.members}:
        raise XrpcError(400, "InvalidConvo", "Convo not found")
    size, before = rec.limit(params), params.get("cursor")
    messages = convo.messages[::-1]
    if before:
        messages = [m for m in messages if (len(m.rev), m.rev) < (len(before), before)]
    page = messages[:size]
    body: dict[str, Any] = {"messages": [views.message_view(m) for m in page]}
    if page:  # as recorded: any page of messages has a cursor
        body["cursor"] = page[-1].rev
    return respond(200, body)
