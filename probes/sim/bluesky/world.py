"""The Bluesky face's state: accounts, post records, notifications, chat, scheduled actions.

Identifiers look like Bluesky's: DIDs `did:plc:` + 24 base32 characters, stable from the
handle; record keys are TIDs (13 base32-sortable characters: microseconds of *virtual* time
and a clock id), strictly increasing, so they sort like virtual time; CIDs are `bafyrei` +
base32 of a SHA-256. Scheduled bot actions (probes.sim.bluesky.bots) are applied lazily,
in time order, before each request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from probes.sim.bots import Action
from probes.sim.world import DueActions, action_extra
from study.timeutil import iso, utc

CHANNEL = "bluesky"
POST = "app.bsky.feed.post"
MENTION = "app.bsky.richtext.facet#mention"
B32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
ACCOUNTS_SINCE = datetime(2024, 2, 6, 17, 0, tzinfo=UTC)  # Bluesky opened to everyone
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9])")


# -- identifiers ----------------------------------------------------------------------------


def did_for(handle: str) -> str:
    """A `did:plc:` identifier, stable from the handle (handles are case-insensitive)."""
    digest = hashlib.sha256(b"plc\x1f" + handle.lower().encode("utf-8")).digest()
    return "did:plc:" + base64.b32encode(digest).decode("ascii").lower()[:24]


def cid_for(data: object) -> str:
    """A CIDv1-looking content id (dag-cbor, sha-256) of some JSON data."""
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "bafyrei" + base64.b32encode(hashlib.sha256(raw).digest()).decode().lower()[:52]


def tid_text(value: int) -> str:
    """A TID's text: 13 characters of base32-sortable, most significant first."""
    return "".join(B32_SORTABLE[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def tid_value(text: str) -> int | None:
    """The integer of a TID's text, None for anything that is not one."""
    if len(text) != 13 or any(c not in B32_SORTABLE for c in text):
        return None
    value = 0
    for c in text:
        value = value * 32 + B32_SORTABLE.index(c)
    return value


class Tids:
    """TIDs from virtual time: 53 bits of microseconds since 1970, then a 10-bit clock id;
    strictly increasing even within a microsecond."""

    def __init__(self, clock_id: int = 7) -> None:
        self.clock_id = clock_id & 1023
        self._last = 0

    def make(self, when: datetime) -> int:
        micros = (utc(when) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        self._last = max((micros << 10) | self.clock_id, self._last + 1)
        return self._last


def stranger_handle(name: str) -> str:
    """The Bluesky handle of one of the X face's strangers ('maria_k_83' -> 'maria-k-83...')."""
    return name.replace("_", "-").lower() + ".bsky.social"


# -- the world ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    did: str
    handle: str
    display_name: str
    role: str  # "probe", "brand" or "stranger"


@dataclass
class Post:
    number: int  # the record key's TID as an integer: the bots' post id
    author: Account
    record: dict[str, Any]  # as stored (and served back)
    indexed_at: datetime
    parent: Post | None
    root: Post | None  # None: this post is a thread root
    mentions: frozenset[str]  # DIDs named by valid mention facets
    deleted: bool = False

    @property
    def rkey(self) -> str:
        return tid_text(self.number)

    @property
    def uri(self) -> str:
        return f"at://{self.author.did}/{POST}/{self.rkey}"

    @property
    def cid(self) -> str:
        return cid_for(self.record)

    @property
    def thread_root(self) -> Post:
        return self.root or self


@dataclass(frozen=True)
class Notification:
    recipient: str  # DID
    reason: str  # "reply" or "mention"
    post: Post
    indexed_at: datetime
    reason_subject: str | None = None


@dataclass(frozen=True)
class Message:
    id: str
    rev: str
    sender: Account
    text: str
    sent_at: datetime


@dataclass
class Convo:
    id: str
    members: tuple[Account, Account]
    messages: list[Message] = field(default_factory=list)  # oldest first

    @property
    def rev(self) -> str:
        return self.messages[-1].rev if self.messages else self.id


@dataclass
class BlueskyWorld(DueActions):
    """Accounts, posts, notifications and chat, and the heap of scheduled bot actions."""

    LEDGER_CHANNEL = CHANNEL

    accounts: dict[str, Account] = field(default_factory=dict)  # lower-case handle -> account
    by_did: dict[str, Account] = field(default_factory=dict)
    posts: dict[int, Post] = field(default_factory=dict)  # in record-key order
    notifications: list[Notification] = field(default_factory=list)  # in indexedAt order
    convos: dict[str, Convo] = field(default_factory=dict)
    tids: Tids = field(default_factory=Tids)
    _indexed: datetime = ACCOUNTS_SINCE

    def account(self, handle: str, *, name: str | None = None, role: str = "stranger") -> Account:
        """The account with this handle, created on first sight."""
        found = self.accounts.get(handle.lower())
        if found is None:
            found = Account(did_for(handle), handle.lower(), name or handle, role)
            self.accounts[found.handle] = found
            self.by_did[found.did] = found
        return found

    def by_uri(self, uri: str) -> Post | None:
        number = tid_value(uri.rpartition("/")[2])
        post = self.posts.get(number) if number is not None else None
        return post if post is not None and post.uri == uri else None

    def post(
        self, author: Account, record: dict[str, Any], at: datetime, extra: dict[str, Any]
    ) -> Post:
        """Store a post record (already valid), notify whom it concerns, write the ledger."""
        reply = record.get("reply") or {}
        parent = self.by_uri(str(reply.get("parent", {}).get("uri", ""))) if reply else None
        root = self.by_uri(str(reply.get("root", {}).get("uri", ""))) if reply else None
        if parent is not None and root is None:
            root = parent.thread_root
        # The AppView indexes posts one after another: indexedAt is strictly increasing, so
        # notification cursors (an indexedAt) never split two items.
        whole_ms = utc(at).replace(microsecond=utc(at).microsecond // 1000 * 1000)
        self._indexed = max(whole_ms, self._indexed + timedelta(milliseconds=1))
        post = Post(
            number=self.tids.make(at),
            author=author,
            record=record,
            indexed_at=self._indexed,
            parent=parent,
            root=root,
            mentions=frozenset(self._mentioned(record)),
        )
        self.posts[post.number] = post
        self._notify(post)
        self.write_ledger(
            "post",
            post.uri,
            (author.handle, author.did),
            str(record.get("text", "")),
            at,
            in_reply_to_id=parent.uri if parent else None,
            conversation_id=post.thread_root.uri,
            extra=extra,
        )
        return post

    def delete(self, post: Post, at: datetime) -> None:
        post.deleted = True
        self.write_ledger(
            "deleted",
            post.uri,
            (post.author.handle, post.author.did),
            str(post.record.get("text", "")),
            post.indexed_at,
            in_reply_to_id=post.parent.uri if post.parent else None,
            conversation_id=post.thread_root.uri,
            extra={"deleted_at": iso(at)},
        )

    def message(
        self, sender: Account, recipient: Account, text: str, at: datetime, extra: dict[str, Any]
    ) -> Message:
        convo = self.convo_between(sender, recipient, at)
        number = self.tids.make(at)
        message = Message(tid_text(number), tid_text(number), sender, text, at)
        convo.messages.append(message)
        self.write_ledger(
            "dm",
            message.id,
            (sender.handle, sender.did),
            text,
            at,
            in_reply_to_id=None,
            conversation_id=convo.id,
            extra={"recipient": recipient.handle, "recipient_id": recipient.did, **extra},
        )
        return message

    def convo_between(self, a: Account, b: Account, at: datetime) -> Convo:
        for convo in self.convos.values():
            if {m.did for m in convo.members} == {a.did, b.did}:
                return convo
        convo = Convo(tid_text(self.tids.make(at)), (a, b))
        self.convos[convo.id] = convo
        return convo

    # -- scheduled actions -----------------------------------------------------------------

    def _apply(self, action: Action) -> None:
        author = self.accounts.get(action.author.lower()) or self.account(
            stranger_handle(action.author)
        )
        probe = self.posts.get(action.probe_post_id) if action.probe_post_id is not None else None
        extra = action_extra(action, author.role, probe.uri if probe is not None else None)
        if action.dm:
            if action.recipient is not None:
                recipient = self.account(action.recipient)
                self.message(author, recipient, action.text, action.at, extra)
            return
        parent = self.posts.get(action.in_reply_to) if action.in_reply_to else None
        if parent is not None and parent.deleted:
            return  # nobody can reply to a deleted post
        text = action.text
        if parent is not None and text.startswith(f"@{parent.author.handle} "):
            # A Bluesky reply notifies the post's author by itself: no @mention is written.
            text = text[len(parent.author.handle) + 2 :]
        self.post(author, self.record(text, action.at, parent), action.at, extra)

    def record(self, text: str, at: datetime, parent: Post | None) -> dict[str, Any]:
        """A post record as the Bluesky app writes it, with facets for known @handles."""
        record: dict[str, Any] = {"$type": POST, "createdAt": iso(at), "langs": ["en"]}
        facets = []
        for m in _MENTION.finditer(text):
            account = self.accounts.get(m.group(1).lower())
            if account is not None:
                start = len(text[: m.start()].encode("utf-8"))
                end = len(text[: m.end()].encode("utf-8"))
                facets.append(
                    {
                        "$type": "app.bsky.richtext.facet",
                        "features": [{"$type": MENTION, "did": account.did}],
                        "index": {"byteEnd": end, "byteStart": start},
                    }
                )
        if facets:
            record["facets"] = facets
        if parent is not None:
            root = parent.thread_root
            record["reply"] = {
                "parent": {"cid": parent.cid, "uri": parent.uri},
                "root": {"cid": root.cid, "uri": root.uri},
            }
        record["text"] = text
        return record

    # -- notifications and the ledger ------------------------------------------------------

    def _mentioned(self, record: Mapping[str, Any]) -> set[str]:
        """DIDs of the record's mention facets whose bytes read '@' + that DID's handle.

        Bluesky notifies whomever a facet names; the simulator is stricter and ignores a
        facet that does not cover the handle's text, so an adapter that counts characters
        instead of UTF-8 bytes gets no answers.
        """
        raw = str(record.get("text", "")).encode("utf-8")
        found: set[str] = set()
        for facet in record.get("facets") or []:
            index = facet.get("index", {})
            start, end = index.get("byteStart"), index.get("byteEnd")
            for feature in facet.get("features", []):
                account = self.by_did.get(str(feature.get("did")))
                if feature.get("$type") != MENTION or account is None:
                    continue
                if isinstance(start, int) and isinstance(end, int):
                    covered = raw[start:end].decode("utf-8", errors="replace")
                    if covered.lower() == "@" + account.handle:
                        found.add(account.did)
        return found

    def _notify(self, post: Post) -> None:
        # One notification per recipient and post; a mention outranks a reply (as recorded:
        # replies that also mention the account are notified as mentions).
        reasons: dict[str, tuple[str, str | None]] = {}
        for did in sorted(post.mentions):
            reasons[did] = ("mention", None)
        for above in (post.parent, post.root):
            if above is not None and above.author.did not in reasons:
                reasons[above.author.did] = ("reply", above.uri)
        for did, (reason, subject) in reasons.items():
            if did != post.author.did:
                self.notifications.append(Notification(did, reason, post, post.indexed_at, subject))
