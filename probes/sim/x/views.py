"""X API v2's JSON: how it renders posts, users and DM events, and how it says no.

Shapes follow the recorded real responses in the shared fixtures (tweepy's cassettes, twarc's
pages) and the X OpenAPI spec: `data` objects carry `id`, `text`, `edit_history_tweet_ids`
plus only the fields asked for; an empty page is `{"meta": {"result_count": 0}}`; a missing
user or post is a 200 with `errors`; auth, rate-limit and refusal errors are problem bodies
with `type: about:blank`; an unknown path is the old `{"errors": [{"code": 34, ...}]}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import httpx

from probes.sim.face import Refusal as Refusal  # raised by the handlers as xj.Refusal
from probes.sim.x.world import DmEvent, Post, User
from study.timeutil import utc

PROBLEMS = "https://api.twitter.com/2/problems/"


def names_of(text: str) -> tuple[str, ...]:
    """A comma-separated list of names, as X writes them in its docs."""
    return tuple(text.split(","))


# The names X accepts (tweet.fields and friends); the simulator renders the ones a probe
# runner needs and silently has nothing for the rest, as X does for absent values.
TWEET_FIELDS = names_of(
    "article,attachments,author_id,card_uri,community_id,context_annotations,conversation_id,"
    "created_at,display_text_range,edit_controls,edit_history_tweet_ids,entities,geo,id,"
    "in_reply_to_user_id,lang,media_metadata,non_public_metrics,note_tweet,organic_metrics,"
    "possibly_sensitive,promoted_metrics,public_metrics,referenced_tweets,reply_settings,"
    "scopes,source,text,withheld"
)
USER_FIELDS = names_of(
    "affiliation,connection_status,created_at,description,entities,id,location,"
    "most_recent_tweet_id,name,pinned_tweet_id,profile_banner_url,profile_image_url,"
    "protected,public_metrics,receives_your_dm,subscription_type,url,username,verified,"
    "verified_type,withheld"
)
DM_EVENT_FIELDS = names_of(
    "attachments,created_at,dm_conversation_id,entities,event_type,id,participant_ids,"
    "referenced_tweets,sender_id,text"
)
TWEET_EXPANSIONS = names_of(
    "article.cover_media,article.media_entities,attachments.media_keys,"
    "attachments.media_source_tweet,attachments.poll_ids,author_id,edit_history_tweet_ids,"
    "entities.mentions.username,geo.place_id,in_reply_to_user_id,entities.note.mentions.username,"
    "referenced_tweets.id,referenced_tweets.id.attachments.media_keys,"
    "referenced_tweets.id.author_id"
)
DM_EXPANSIONS = names_of("attachments.media_keys,participant_ids,referenced_tweets.id,sender_id")
EVENT_TYPES = ("MessageCreate", "ParticipantsJoin", "ParticipantsLeave")


def respond(
    status: int,
    body: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    problem: bool = False,
) -> httpx.Response:
    kind = "application/problem+json" if problem else "application/json; charset=utf-8"
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return httpx.Response(
        status, content=content, headers={"content-type": kind, **(headers or {})}
    )


def about_blank(status: int, title: str, detail: str | None = None) -> httpx.Response:
    """X's bare problem body, e.g. 401 Unauthorized, 429 Too Many Requests, 403 Forbidden."""
    body = {"title": title, "detail": detail or title, "type": "about:blank", "status": status}
    return respond(status, body, problem=status in (401,))


def unauthorized() -> httpx.Response:
    return about_blank(401, "Unauthorized")


def too_many_requests() -> httpx.Response:
    return about_blank(429, "Too Many Requests")


def forbidden(detail: str) -> httpx.Response:
    return about_blank(403, "Forbidden", detail)


def page_not_found() -> httpx.Response:
    return respond(404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]})


def invalid_request(parameter: str, value: str, message: str) -> Refusal:
    """400 for a bad parameter, in the shape of the fixtures' problem_error_example.json."""
    body = {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }
    return Refusal(respond(400, body))


def not_found(resource_type: str, parameter: str, value: str, detail: str) -> httpx.Response:
    """X's "not found": a 200 whose body has only `errors`."""
    error = {
        "value": value,
        "detail": detail,
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }
    return respond(200, {"errors": [error]})


def created_at(when: datetime) -> str:
    """X's timestamps: UTC, whole seconds, always `.000Z`."""
    return utc(when).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def escaped(text: str) -> str:
    """X returns post texts with &, < and > as HTML entities (see the twarc fixtures)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_user(user: User, fields: Iterable[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
    if "public_metrics" in fields:
        # As the recordings show it (x/twarc/*.jsonl: tweet_count, where the OpenAPI
        # description says post_count; recordings win).
        out["public_metrics"] = {
            "followers_count": user.followers,
            "following_count": 0,
            "tweet_count": 0,
            "listed_count": 0,
        }
    return out


def render_post(post: Post, fields: Iterable[str]) -> dict[str, Any]:
    wanted = set(fields)
    out: dict[str, Any] = {
        "edit_history_tweet_ids": [str(post.id)],
        "id": str(post.id),
        "text": escaped(post.text),
    }
    if "author_id" in wanted:
        out["author_id"] = post.author.id
    if "conversation_id" in wanted:
        out["conversation_id"] = str(post.conversation_id)
    if "created_at" in wanted:
        out["created_at"] = created_at(post.created_at)
    if "in_reply_to_user_id" in wanted and post.in_reply_to_user_id is not None:
        out["in_reply_to_user_id"] = post.in_reply_to_user_id
    if "referenced_tweets" in wanted and post.in_reply_to is not None:
        out["referenced_tweets"] = [{"type": "replied_to", "id": str(post.in_reply_to)}]
    return dict(sorted(out.items()))


def render_dm(event: DmEvent, fields: Iterable[str]) -> dict[str, Any]:
    wanted = set(fields)
    out: dict[str, Any] = {"event_type": "MessageCreate", "id": str(event.id), "text": event.text}
    if "created_at" in wanted:
        out["created_at"] = created_at(event.created_at)
    if "sender_id" in wanted:
        out["sender_id"] = event.sender.id
    if "dm_conversation_id" in wanted:
        out["dm_conversation_id"] = event.conversation_id
    # participant_ids belongs to ParticipantsJoin/Leave events and referenced_tweets to DMs
    # that link a post: a plain MessageCreate has neither, so neither is rendered.
    return dict(sorted(out.items()))


def names(params: httpx.QueryParams, key: str, allowed: Iterable[str]) -> list[str]:
    """A comma-separated parameter, every name checked against what X accepts."""
    raw = params.get(key)
    if raw is None:
        return []
    values = [v for v in raw.split(",") if v]
    known = list(allowed)
    for v in values:
        if v not in known:
            raise invalid_request(
                key, v, f"The `{key}` query parameter value [{v}] is not one of [{','.join(known)}]"
            )
    return values


def check_params(params: httpx.QueryParams, allowed: Iterable[str]) -> None:
    """400 for a query parameter the endpoint does not take, as X answers a typo."""
    known = list(allowed)
    for key in params:
        if key not in known:
            raise invalid_request(
                key,
                params[key],
                f"The query parameters [{key}] is not one of [{','.join(known)}]",
            )


def json_body(request: httpx.Request) -> dict[str, Any]:
    """The JSON object a POST carries; 400 as X answers anything else."""
    try:
        body = json.loads(request.content or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        problem = {
            "errors": [{"message": "Request body is not valid JSON"}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        }
        raise Refusal(respond(400, problem))
    return body


def origin(request: httpx.Request) -> str:
    """Scheme and host the request was sent to, for Location headers."""
    return f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
