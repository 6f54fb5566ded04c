"""The simulated platform's state: users, posts, DM events, and what bots will do next.

Bot actions are scheduled when a probe is posted and *materialised lazily*: before each
request, every action due by the clock's now is applied in time order, so ids follow virtual
time and `created_at` is the scheduled instant, however late the next request comes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from probes.sim.bots import Action
from probes.sim.ids import IdMaker, user_id
from probes.sim.world import DueActions, action_extra
from study.timeutil import iso

_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")


def mentioned_handles(text: str) -> list[str]:
    """The @handles in a text, in order of appearance (as written)."""
    return _MENTION.findall(text)


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str
    role: str  # "probe", "brand" or "stranger"
    followers: int = 0  # its public_metrics.followers_count (a persona's `followers`)


@dataclass
class Post:
    id: int
    author: User
    text: str
    created_at: datetime
    conversation_id: int
    in_reply_to: int | None
    in_reply_to_user_id: str | None
    mentions: frozenset[str]  # user ids
    deleted: bool = False


@dataclass(frozen=True)
class DmEvent:
    id: int
    sender: User
    recipient: User
    text: str
    created_at: datetime

    @property
    def conversation_id(self) -> str:
        # One-to-one conversations are named by both ids, the smaller first (as X does).
        a, b = sorted((self.sender.id, self.recipient.id), key=int)
        return f"{a}-{b}"


@dataclass
class World(DueActions):
    """Users, posts and DMs, and the heap of scheduled actions; not thread-safe by itself."""

    users: dict[str, User] = field(default_factory=dict)  # lower-case username -> user
    by_id: dict[str, User] = field(default_factory=dict)
    posts: dict[int, Post] = field(default_factory=dict)  # in id order (insertion order)
    dms: list[DmEvent] = field(default_factory=list)  # in id order
    ids: IdMaker = field(default_factory=IdMaker)

    def user(
        self,
        username: str,
        *,
        name: str | None = None,
        role: str = "stranger",
        followers: int = 0,
    ) -> User:
        """The user with this handle, created on first sight."""
        found = self.users.get(username.lower())
        if found is None:
            found = User(user_id(username), username, name or username, role, followers)
            self.users[username.lower()] = found
            self.by_id[found.id] = found
        return found

    def post(
        self,
        author: User,
        text: str,
        at: datetime,
        *,
        in_reply_to: Post | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Post:
        post_id = self.ids.make(at)
        mentioned = {
            self.users[m.lower()].id for m in mentioned_handles(text) if m.lower() in self.users
        }
        if in_reply_to is not None:
            mentioned.add(in_reply_to.author.id)
        mentioned.discard(author.id)
        post = Post(
            id=post_id,
            author=author,
            text=text,
            created_at=at,
            conversation_id=in_reply_to.conversation_id if in_reply_to else post_id,
            in_reply_to=in_reply_to.id if in_reply_to else None,
            in_reply_to_user_id=in_reply_to.author.id if in_reply_to else None,
            mentions=frozenset(mentioned),
        )
        self.posts[post_id] = post
        self.write_ledger(
            "post",
            str(post_id),
            (author.username, author.id),
            text,
            at,
            in_reply_to_id=str(post.in_reply_to) if post.in_reply_to else None,
            conversation_id=str(post.conversation_id),
            extra=extra,
        )
        return post

    def dm(
        self,
        sender: User,
        recipient: User,
        text: str,
        at: datetime,
        *,
        extra: dict[str, Any] | None = None,
    ) -> DmEvent:
        event = DmEvent(self.ids.make(at), sender, recipient, text, at)
        self.dms.append(event)
        self.write_ledger(
            "dm",
            str(event.id),
            (sender.username, sender.id),
            text,
            at,
            in_reply_to_id=None,
            conversation_id=event.conversation_id,
            extra={"recipient": recipient.username, "recipient_id": recipient.id, **(extra or {})},
        )
        return event

    def delete(self, post: Post, at: datetime) -> None:
        post.deleted = True
        self.write_ledger(
            "deleted",
            str(post.id),
            (post.author.username, post.author.id),
            post.text,
            post.created_at,
            in_reply_to_id=str(post.in_reply_to) if post.in_reply_to else None,
            conversation_id=str(post.conversation_id),
            extra={"deleted_at": iso(at)},
        )

    # -- scheduled actions -------------------------------------------------------------------

    def _apply(self, action: Action) -> None:
        author = self.user(action.author)
        probe = str(action.probe_post_id) if action.probe_post_id is not None else None
        extra = action_extra(action, author.role, probe)
        if action.dm:
            if action.recipient is not None:
                self.dm(author, self.user(action.recipient), action.text, action.at, extra=extra)
            return
        parent = self.posts.get(action.in_reply_to) if action.in_reply_to else None
        if parent is not None and parent.deleted:
            return  # nobody can reply to a deleted post
        self.post(author, action.text, action.at, in_reply_to=parent, extra=extra)
