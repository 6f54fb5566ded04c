"""Posts: create, look up, delete, and the two timelines a runner reads (mentions, own posts).

Each endpoint is a function of the world, the authenticated user, the request, the path's
arguments and the virtual now; a refusal is raised as `xjson.Refusal` with X's response.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from probes.sim.x import views as xj
from probes.sim.x.pages import id_param, narrowed, page
from probes.sim.x.world import Post, User, World, mentioned_handles

MAX_TEXT = 280
MENTIONS_CAP = 800  # X serves only the most recent 800 mentions of a user
USER_POSTS_CAP = 3200  # ... and the most recent 3200 posts of a user
TIMELINE_PARAMS = xj.names_of(
    "since_id,until_id,max_results,pagination_token,start_time,end_time,tweet.fields,"
    "post.fields,expansions,user.fields,media.fields,poll.fields,place.fields"
)
LOOKUP_PARAMS = xj.names_of(
    "tweet.fields,post.fields,expansions,user.fields,media.fields,poll.fields,place.fields"
)
_DELETED_PARENT = "You attempted to reply to a Tweet that is deleted or not visible to you."
_DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
_TOO_LONG = (
    "Your Tweet text is too long. For more information on how X determines text length see "
    "https://github.com/twitter/twitter-text."
)
_NOT_YOURS = "You are not allowed to delete a Tweet you did not create."


def create_post(
    world: World, me: User, request: httpx.Request, now: datetime, *, refuse_duplicates: bool = True
) -> tuple[httpx.Response, Post]:
    """POST /2/tweets: 201 and the new post, or a refusal (duplicate, too long, ...).

    A text the account already posted (and did not delete) is refused with X's 403, as X
    answered it in 2026 (akrherz/iembot#163, a logged production response)."""
    body = xj.json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text:
        message = "The `text` field is required unless media or a poll is attached"
        raise xj.invalid_request("text", str(text), message)
    if weighted_length(text) > MAX_TEXT:
        raise xj.Refusal(xj.forbidden(_TOO_LONG))
    parent: Post | None = None
    reply = body.get("reply")
    if isinstance(reply, dict) and "in_reply_to_tweet_id" in reply:
        raw = str(reply["in_reply_to_tweet_id"])
        parent = world.posts.get(int(raw)) if raw.isdigit() else None
        if parent is None or parent.deleted:
            raise xj.Refusal(xj.forbidden(_DELETED_PARENT))
    mine = (p for p in world.posts.values() if p.author is me and not p.deleted)
    if refuse_duplicates and any(p.text == text for p in mine):
        raise xj.Refusal(xj.forbidden(_DUPLICATE))
    post = world.post(me, text, now, in_reply_to=parent, extra={"role": me.role})
    data = {"edit_history_tweet_ids": [str(post.id)], "id": str(post.id), "text": xj.escaped(text)}
    location = f"{xj.origin(request)}/2/tweets/{post.id}"
    return xj.respond(201, {"data": data}, {"location": location}), post


def get_post(world: World, request: httpx.Request, raw_id: str) -> httpx.Response:
    params = request.url.params
    xj.check_params(params, LOOKUP_PARAMS)
    fields = tweet_fields(params)
    expansions = xj.names(params, "expansions", xj.TWEET_EXPANSIONS)
    xj.names(params, "user.fields", xj.USER_FIELDS)
    post = visible_post(world, raw_id)
    body: dict[str, Any] = {"data": xj.render_post(post, fields)}
    body.update(includes(world, [post], expansions, fields))
    return xj.respond(200, body)


def delete_post(world: World, me: User, raw_id: str, now: datetime) -> httpx.Response:
    post = visible_post(world, raw_id)
    if post.author is not me:
        raise xj.Refusal(xj.forbidden(_NOT_YOURS))
    world.delete(post, now)
    return xj.respond(200, {"data": {"deleted": True}})


def mentions(world: World, request: httpx.Request, raw_id: str) -> httpx.Response:
    user = user_by_id(world, raw_id)
    xj.check_params(request.url.params, TIMELINE_PARAMS)
    items = [p for p in world.posts.values() if user.id in p.mentions and not p.deleted]
    return timeline(world, request, items[-MENTIONS_CAP:])


def user_posts(world: World, request: httpx.Request, raw_id: str) -> httpx.Response:
    user = user_by_id(world, raw_id)
    params = request.url.params
    xj.check_params(params, [*TIMELINE_PARAMS, "exclude"])
    exclude = xj.names(params, "exclude", ("replies", "retweets"))
    items = [p for p in world.posts.values() if p.author is user and not p.deleted]
    items = items[-USER_POSTS_CAP:]
    if "replies" in exclude:
        items = [p for p in items if p.in_reply_to is None]
    return timeline(world, request, items)


def timeline(world: World, request: httpx.Request, items: list[Post]) -> httpx.Response:
    """One newest-first page of `items` (oldest first), with X's data/includes/meta."""
    params = request.url.params
    fields = tweet_fields(params)
    expansions = xj.names(params, "expansions", xj.TWEET_EXPANSIONS)
    xj.names(params, "user.fields", xj.USER_FIELDS)
    chosen, meta = page(narrowed(items, params), params, default_size=10, low=5, id_meta=True)
    body: dict[str, Any] = {}
    if chosen:
        body["data"] = [xj.render_post(p, fields) for p in chosen]
        body.update(includes(world, chosen, expansions, fields))
    body["meta"] = meta
    return xj.respond(200, body)


def tweet_fields(params: httpx.QueryParams) -> list[str]:
    # The spec now says post.fields; the API (and every client) says tweet.fields.
    return xj.names(params, "tweet.fields", xj.TWEET_FIELDS) + xj.names(
        params, "post.fields", xj.TWEET_FIELDS
    )


def includes(
    world: World, posts: list[Post], expansions: list[str], fields: list[str]
) -> dict[str, Any]:
    """`includes` for the expansions asked: users (authors, mentioned) and replied-to posts."""
    users: dict[str, User] = {}
    tweets: dict[int, Post] = {}
    for p in posts:
        if "author_id" in expansions:
            users.setdefault(p.author.id, p.author)
        if "in_reply_to_user_id" in expansions and p.in_reply_to_user_id in world.by_id:
            users.setdefault(p.in_reply_to_user_id, world.by_id[p.in_reply_to_user_id])
        if "entities.mentions.username" in expansions:
            for handle in mentioned_handles(p.text):
                if handle.lower() in world.users:
                    u = world.users[handle.lower()]
                    users.setdefault(u.id, u)
        parent = world.posts.get(p.in_reply_to) if p.in_reply_to else None
        if parent is not None and not parent.deleted and "referenced_tweets.id" in expansions:
            tweets.setdefault(parent.id, parent)
            if "referenced_tweets.id.author_id" in expansions:
                users.setdefault(parent.author.id, parent.author)
    out: dict[str, Any] = {}
    if users:
        out["users"] = [xj.render_user(u) for u in users.values()]
    if tweets:
        out["tweets"] = [xj.render_post(t, fields) for t in tweets.values()]
    return {"includes": out} if out else {}


def visible_post(world: World, raw_id: str) -> Post:
    post_id = id_param(httpx.QueryParams({"id": raw_id}), "id")
    post = world.posts.get(post_id or -1)
    if post is None or post.deleted:
        detail = f"Could not find tweet with id: [{raw_id}]."
        raise xj.Refusal(xj.not_found("tweet", "id", raw_id, detail))
    return post


def user_by_id(world: World, raw_id: str) -> User:
    id_param(httpx.QueryParams({"id": raw_id}), "id")
    user = world.by_id.get(raw_id)
    if user is None:
        detail = f"Could not find user with id: [{raw_id}]."
        raise xj.Refusal(xj.not_found("user", "id", raw_id, detail))
    return user


def weighted_length(text: str) -> int:
    """Length as X counts it: most CJK characters and emoji weigh 2 (twitter-text v3)."""
    light = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
    return sum(1 if any(a <= ord(ch) <= b for a, b in light) else 2 for ch in text)
