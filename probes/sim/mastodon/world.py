"""The Mastodon face's state: accounts, statuses, the probe accounts' notifications, and the
brand bots' scheduled actions.

Brand bots are the X face's (`probes.sim.bots.decide`, `simulator.toml` per brand and
country), so a brand behaves alike on both platforms; only the medium differs: an answer is
a status replying to the probe (`in_reply_to_id`), a DM is a status with visibility `direct`
that mentions the probe account. Actions are applied lazily, before each request, as on X.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from probes.sim.bots import Action
from probes.sim.ids import IdMaker
from probes.sim.mastodon.policy import DEFAULT as DEFAULT_POLICY
from probes.sim.mastodon.policy import DROP, FILTER, verdict
from probes.sim.world import DueActions, action_extra
from study.timeutil import iso, utc

CHANNEL = "mastodon"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACCOUNTS_CREATED = datetime(2022, 11, 1, tzinfo=UTC)  # when the simulated accounts were made

# Mastodon's Account::MENTION_RE: `@user` or `@user@domain`, not inside a word or a URL.
MENTION = re.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@([\w.-]+\w))?", re.I)


def mastodon_id(when: datetime, low: int = 0) -> int:
    """A Mastodon snowflake: milliseconds since 1970 shifted left 16 bits, plus 16 low bits
    (Mastodon's `timestamp_id`), so ids sort like the time they were made."""
    ms = (utc(when) - _EPOCH) // timedelta(milliseconds=1)
    return (ms << 16) | (low & 0xFFFF)


def account_id(acct: str) -> str:
    """A stable account id from `user@domain`: a snowflake of a day in 2022-2023."""
    digest = int.from_bytes(hashlib.sha256(acct.lower().encode("utf-8")).digest()[:8], "big")
    made = ACCOUNTS_CREATED + timedelta(milliseconds=digest % (300 * 86_400_000))
    return str(mastodon_id(made, digest >> 48))


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    domain: str
    display_name: str
    role: str  # "probe", "brand" or "stranger"

    @property
    def full(self) -> str:
        return f"{self.username}@{self.domain}"

    def acct(self, instance: str) -> str:
        """`acct` as the instance renders it: no domain for its local accounts."""
        return self.username if self.domain == instance else self.full

    @property
    def url(self) -> str:
        return f"https://{self.domain}/@{self.username}"


@dataclass
class Status:
    id: int
    account: Account
    text: str  # the source, as posted
    created_at: datetime
    visibility: str
    in_reply_to: Status | None
    mentions: tuple[Account, ...]
    root: int  # the thread's first status
    language: str | None = None
    deleted: bool = False


@dataclass(frozen=True)
class Notification:
    id: int
    status: Status
    filtered: bool = False  # by the recipient's notification policy
    recipient: Account | None = None  # the probe account notified


@dataclass
class MastodonWorld(DueActions):
    """Accounts, statuses and the probe accounts' notifications; not thread-safe by itself."""

    LEDGER_CHANNEL = CHANNEL

    instance: str  # the probe account's instance: its accounts are local
    accounts: dict[str, Account] = field(default_factory=dict)  # lower-case user@domain
    by_id: dict[str, Account] = field(default_factory=dict)
    statuses: dict[int, Status] = field(default_factory=dict)  # in id order
    notifications: list[Notification] = field(default_factory=list)  # the probe accounts'
    ids: IdMaker = field(default_factory=lambda: IdMaker(mastodon_id))  # status ids
    # The probe accounts (by id), each with its own notification policy.
    policies: dict[str, dict[str, str]] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)  # country -> its language
    # Accounts on other instances that this instance has seen (as in Mastodon, accounts/
    # lookup finds only these; a search with resolve=true fetches any other by WebFinger).
    known: set[str] = field(default_factory=set)
    _notification_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def full(self, handle: str) -> str:
        """`user@domain` for a handle, `@` or not; a bare name is local."""
        h = handle.strip().lstrip("@")
        return (h if "@" in h else f"{h}@{self.instance}").lower()

    def account(self, handle: str, *, name: str | None = None, role: str = "stranger") -> Account:
        """The account with this handle, created on first sight."""
        key = self.full(handle)
        found = self.accounts.get(key)
        if found is None:
            username, _, domain = handle.strip().lstrip("@").partition("@")
            found = Account(account_id(key), username, domain.lower() or self.instance,
                            name or username, role)  # fmt: skip
            self.accounts[key] = found
            self.by_id[found.id] = found
        return found

    def knows(self, account: Account) -> bool:
        """Whether accounts/lookup finds the account: local, or remote and seen before."""
        return account.domain == self.instance or account.full in self.known

    def resolve(self, username: str, domain: str | None) -> Account | None:
        """The account a mention names, if it exists (unknown ones stay plain text)."""
        return self.accounts.get(f"{username}@{domain or self.instance}".lower())

    def mentioned(self, text: str) -> list[Account]:
        """Accounts a text mentions, in order, each once."""
        found: dict[str, Account] = {}
        for m in MENTION.finditer(text):
            account = self.resolve(m.group(1), m.group(2))
            if account is not None:
                found.setdefault(account.id, account)
        return list(found.values())

    def post(
        self,
        author: Account,
        text: str,
        at: datetime,
        *,
        visibility: str = "public",
        in_reply_to: Status | None = None,
        language: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Status:
        status_id = self.ids.make(at)
        mentions = tuple(a for a in self.mentioned(text) if a is not author)
        status = Status(
            id=status_id,
            account=author,
            text=text,
            created_at=at,
            visibility=visibility,
            in_reply_to=in_reply_to,
            mentions=mentions,
            root=in_reply_to.root if in_reply_to is not None else status_id,
            language=language,
        )
        self.statuses[status_id] = status
        self.known.update(a.full for a in (author, *mentions))  # mentions resolve on posting
        for account in mentions:
            if account.id in self.policies:
                self._notify(status, account)
        entry: dict[str, Any] = {"visibility": visibility}
        if visibility == "direct" and mentions:
            entry.update(recipient=mentions[0].full, recipient_id=mentions[0].id)
        self._log("post", status, at, {**entry, **(extra or {})})
        return status

    def probe_account(self, username: str, policy: Mapping[str, str] | None = None) -> Account:
        """A probe account of this instance, notified of its mentions as `policy` (default: a
        fresh account's) files them."""
        account = self.account(username, role="probe")
        self.policies.setdefault(account.id, dict(policy or DEFAULT_POLICY))
        return account

    def _notify(self, status: Status, recipient: Account) -> None:
        """A probe account's notification of a mention, as its policy files it."""
        parent = status.in_reply_to
        said = verdict(
            self.policies[recipient.id],
            private=status.visibility == "direct",
            answers_private=parent is not None
            and parent.account is recipient
            and parent.visibility == "direct",
        )
        if said != DROP:
            number = next(self._notification_ids)
            filtered = said == FILTER
            self.notifications.append(Notification(number, status, filtered, recipient))

    def delete(self, status: Status, at: datetime) -> None:
        status.deleted = True
        self._log("deleted", status, status.created_at, {"deleted_at": iso(at)})

    # -- scheduled actions -------------------------------------------------------------------

    def _apply(self, action: Action) -> None:
        author = self.account(action.author)
        language = self.languages.get(action.country or "") if action.brand else "en"
        probe = str(action.probe_post_id) if action.probe_post_id is not None else None
        extra = action_extra(action, author.role, probe)
        if action.dm:
            # A Mastodon DM is a status that only the accounts it mentions can see.
            recipient = self.account(action.recipient or "")
            text = f"@{recipient.full} {action.text}"
            self.post(author, text, action.at, visibility="direct", language=language, extra=extra)
            return
        parent = self.statuses.get(action.in_reply_to) if action.in_reply_to else None
        if parent is not None and parent.deleted:
            return  # nobody can reply to a deleted status
        self.post(
            author, action.text, action.at, in_reply_to=parent, language=language, extra=extra
        )

    def _log(self, kind: str, status: Status, at: datetime, extra: Mapping[str, Any]) -> None:
        parent = str(status.in_reply_to.id) if status.in_reply_to is not None else None
        author = (status.account.full, status.account.id)
        self.write_ledger(
            kind,
            str(status.id),
            author,
            status.text,
            at,
            in_reply_to_id=parent,
            conversation_id=str(status.root),
            extra=extra,
        )
