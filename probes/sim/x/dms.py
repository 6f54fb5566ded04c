"""Direct messages: the authenticated user's DM events, and sending one to a user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from probes.sim.x import views as xj
from probes.sim.x.pages import page
from probes.sim.x.posts import user_by_id
from probes.sim.x.world import User, World

DM_PARAMS = xj.names_of(
    "dm_event.fields,event_types,expansions,max_results,pagination_token,user.fields,"
    "tweet.fields,media.fields"
)
_NO_DM = "You are not permitted to send Direct Messages to this user."


def dm_events(
    world: World, me: User, request: httpx.Request, participant_id: str | None = None
) -> httpx.Response:
    """GET /2/dm_events (or one conversation's): newest first, 100 a page by default."""
    params = request.url.params
    xj.check_params(params, DM_PARAMS)
    fields = xj.names(params, "dm_event.fields", xj.DM_EVENT_FIELDS)
    expansions = xj.names(params, "expansions", xj.DM_EXPANSIONS)
    types = xj.names(params, "event_types", xj.EVENT_TYPES) or list(xj.EVENT_TYPES)
    xj.names(params, "user.fields", xj.USER_FIELDS)
    events = [e for e in world.dms if me in (e.sender, e.recipient)]
    if participant_id is not None:
        other = user_by_id(world, participant_id)
        events = [e for e in events if other in (e.sender, e.recipient)]
    if "MessageCreate" not in types:
        events = []  # the simulator has only messages: no joins or leaves
    chosen, meta = page(events, params, default_size=100, low=1, id_meta=False)
    body: dict[str, Any] = {}
    if chosen:
        body["data"] = [xj.render_dm(e, fields) for e in chosen]
        users: dict[str, User] = {}
        for e in chosen:
            if "sender_id" in expansions:
                users.setdefault(e.sender.id, e.sender)
            if "participant_ids" in expansions:
                users.setdefault(e.sender.id, e.sender)
                users.setdefault(e.recipient.id, e.recipient)
        if users:
            body["includes"] = {"users": [xj.render_user(u) for u in users.values()]}
    body["meta"] = meta
    return xj.respond(200, body)


def send_dm(
    world: World, me: User, request: httpx.Request, participant_id: str, now: datetime
) -> httpx.Response:
    """POST /2/dm_conversations/with/:participant_id/messages: 201 and the event's ids."""
    other = world.by_id.get(participant_id)
    if other is None or other is me:
        raise xj.Refusal(xj.forbidden(_NO_DM))
    text = xj.json_body(request).get("text")
    if not isinstance(text, str) or not text:
        message = "The `text` field is required unless attachments are given"
        raise xj.invalid_request("text", str(text), message)
    event = world.dm(me, other, text, now, extra={"role": me.role})
    data = {"dm_conversation_id": event.conversation_id, "dm_event_id": str(event.id)}
    # The quotes are X's own: its Location header names the event in quotes.
    location = f'{xj.origin(request)}/2/dm_events/"{event.id}"'
    return xj.respond(201, {"data": data}, {"location": location})
