"""The Bluesky face's JSON: views of accounts, posts, notifications and chat, and XRPC errors.

Shapes as the recordings in tests/fixtures/bluesky show them (key order included, where
bsky.social has one): `app.bsky.actor.defs#profileView*`, `app.bsky.feed.defs#postView` and
`#threadViewPost`, `app.bsky.notification.listNotifications#notification`,
`chat.bsky.convo.defs#convoView` and `#messageView`; errors are `{"error", "message"}`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from probes.sim.bluesky.world import (
    ACCOUNTS_SINCE,
    Account,
    Convo,
    Message,
    Notification,
    Post,
    cid_for,
)
from study.timeutil import iso

JSON_TYPE = "application/json; charset=utf-8"

# XRPC error names and messages by status, as atproto's xrpc-server writes them.
STANDARD_ERRORS = {
    400: ("InvalidRequest", "Invalid Request"),
    401: ("AuthenticationRequired", "Authentication Required"),
    429: ("RateLimitExceeded", "Rate Limit Exceeded"),
    500: ("InternalServerError", "Internal Server Error"),
    501: ("MethodNotImplemented", "Method Not Implemented"),
    502: ("UpstreamFailure", "Upstream Failure"),
    503: ("NotEnoughResources", "Not Enough Resources"),
}


class XrpcError(Exception):
    """A refusal, raised by a handler and answered as `{"error": name, "message": text}`."""

    def __init__(self, status: int, name: str | None = None, message: str | None = None) -> None:
        default_name, default_message = STANDARD_ERRORS.get(status, ("InvalidRequest", ""))
        self.status = status
        self.name = name or default_name
        self.message = message or default_message
        super().__init__(f"{status} {self.name}: {self.message}")

    def response(self) -> httpx.Response:
        return respond(self.status, {"error": self.name, "message": self.message})


def invalid(message: str, name: str = "InvalidRequest") -> XrpcError:
    return XrpcError(400, name, message)


def respond(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    all_headers = {
        "Content-Type": JSON_TYPE,
        "X-Powered-By": "Express",
        "Access-Control-Allow-Origin": "*",
        **(headers or {}),
    }
    return httpx.Response(status, headers=all_headers, content=content)


# -- accounts -------------------------------------------------------------------------------


def profile_basic(account: Account) -> dict[str, Any]:
    return {
        "did": account.did,
        "handle": account.handle,
        "displayName": account.display_name,
        "avatar": f"https://cdn.bsky.app/img/avatar/plain/{account.did}/{cid_for(account.did)}@jpeg",
        "associated": {"chat": {"allowIncoming": "all"}},
        "viewer": {"muted": False, "blockedBy": False},
        "labels": [],
        "createdAt": iso(ACCOUNTS_SINCE),
    }


def profile_view(account: Account) -> dict[str, Any]:
    return {**profile_basic(account), "description": "", "indexedAt": iso(ACCOUNTS_SINCE)}


def profile_detailed(account: Account, posts: int) -> dict[str, Any]:
    return {**profile_view(account), "followersCount": 0, "followsCount": 0, "postsCount": posts}


# -- posts and notifications ----------------------------------------------------------------


def post_view(post: Post, replies: int) -> dict[str, Any]:
    return {
        "uri": post.uri,
        "cid": post.cid,
        "author": profile_basic(post.author),
        "record": post.record,
        "replyCount": replies,
        "repostCount": 0,
        "likeCount": 0,
        "quoteCount": 0,
        "indexedAt": iso(post.indexed_at),
        "viewer": {"threadMuted": False, "embeddingDisabled": False},
        "labels": [],
    }


def thread_view(
    post: Post, children: dict[int, list[Post]], *, depth: int, parents: int
) -> dict[str, Any]:
    """`app.bsky.feed.defs#threadViewPost`: the post, its parents up to `parents` levels and
    its replies down to `depth` levels (each level oldest first)."""
    own = children.get(post.number, [])
    view: dict[str, Any] = {
        "$type": "app.bsky.feed.defs#threadViewPost",
        "post": post_view(post, len(own)),
    }
    parent = post.parent
    if parent is not None and parents > 0:
        if parent.deleted:
            view["parent"] = {
                "$type": "app.bsky.feed.defs#notFoundPost",
                "uri": parent.uri,
                "notFound": True,
            }
        else:
            above = thread_view(parent, children, depth=0, parents=parents - 1)
            above.pop("replies", None)
            view["parent"] = above
    view["replies"] = (
        [thread_view(c, children, depth=depth - 1, parents=0) for c in own] if depth > 0 else []
    )
    view["threadContext"] = {}
    return view


def notification(item: Notification) -> dict[str, Any]:
    view: dict[str, Any] = {
        "uri": item.post.uri,
        "cid": item.post.cid,
        "author": profile_view(item.post.author),
        "reason": item.reason,
    }
    if item.reason_subject is not None:
        view["reasonSubject"] = item.reason_subject
    view.update(
        {
            "record": item.post.record,
            "isRead": False,
            "indexedAt": iso(item.indexed_at),
            "labels": [],
        }
    )
    return view


# -- chat -----------------------------------------------------------------------------------


def message_view(message: Message) -> dict[str, Any]:
    return {
        "$type": "chat.bsky.convo.defs#messageView",
        "id": message.id,
        "rev": message.rev,
        "sender": {"did": message.sender.did},
        "text": message.text,
        "reactions": [],
        "sentAt": iso(message.sent_at),
    }


def convo_view(convo: Convo, me: Account) -> dict[str, Any]:
    answered = any(m.sender.did == me.did for m in convo.messages)
    view: dict[str, Any] = {
        "id": convo.id,
        "rev": convo.rev,
        "members": [profile_basic(m) for m in convo.members],
    }
    if convo.messages:
        view["lastMessage"] = message_view(convo.messages[-1])
    view.update(
        {
            "muted": False,
            # A conversation someone else started stays a request until the account answers.
            "status": "accepted" if answered else "request",
            "unreadCount": sum(1 for m in convo.messages if m.sender.did != me.did),
        }
    )
    return view


def session_view(origin: str, me: Account, access: str, refresh: str) -> dict[str, Any]:
    """`com.atproto.server.createSession`'s (and refreshSession's) answer for `me`, its
    PDS at `origin`."""
    did_doc = {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
            "https://w3id.org/security/suites/secp256k1-2019/v1",
        ],
        "id": me.did,
        "alsoKnownAs": [f"at://{me.handle}"],
        "verificationMethod": [
            {
                "id": f"{me.did}#atproto",
                "type": "Multikey",
                "controller": me.did,
                "publicKeyMultibase": "zQ3sh" + cid_for(me.did)[7:51],
            }
        ],
        "service": [
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": origin,
            }
        ],
    }
    return {
        "did": me.did,
        "didDoc": did_doc,
        "handle": me.handle,
        "emailConfirmed": True,
        "emailAuthFactor": False,
        "accessJwt": access,
        "refreshJwt": refresh,
        "active": True,
    }
