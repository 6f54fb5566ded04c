"""The probe accounts one face serves, on every face alike: the study's `[channels.NAME]`
account and each persona's account on that channel, each with what the face keeps per
account (its user, request budgets, inbox, brand bots that answer it), found by the
credential the simulator issued to it (probes.channels.common.sim_credential).

As on the real platforms, the account a request acts as is the one its credential belongs
to; a credential the face issued to none of them (the plain simulator token, any token a
face that checks none accepts) acts as the default account, `[channels.NAME]`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from study.model import Study
from study.personas import personas_of

A = TypeVar("A")


def account_key(account: str) -> str:
    """An account's key: its handle without `@`, in lower case."""
    return account.strip().lstrip("@").lower()


class Accounts(Generic[A]):
    """Every probe account of `study` on `channel`, as `make(handle, followers)` builds each
    (`followers`: the persona's `followers` attribute, else 0); `credential(handle)` is the
    credential the simulator issues to it, by which a request names its account."""

    def __init__(
        self,
        study: Study,
        channel: str,
        make: Callable[[str, int], A],
        credential: Callable[[str], str],
        key: Callable[[str], str] = account_key,
    ) -> None:
        self._make, self._credential, self._key = make, credential, key
        self.by_key: dict[str, A] = {}
        self._owners: dict[str, str] = {}  # an account's credential -> its key
        self.default = self.add(study.channel(channel).account, 0)
        for p in personas_of(study):
            if p.channel == channel and p.account:
                self.add(p.account, int(p.attribute("followers") or 0))

    def add(self, account: str, followers: int = 0) -> A:
        """The account's state, made on first sight."""
        key = self._key(account)
        if key not in self.by_key:
            handle = account.strip().lstrip("@")
            self.by_key[key] = self._make(handle, followers)
            self._owners[self._credential(handle)] = key
        return self.by_key[key]

    def named(self, account: str) -> A | None:
        """The probe account with this handle, None if the face serves no such account."""
        return self.by_key.get(self._key(account))

    def owning(self, credential: str) -> A | None:
        """The account the simulator issued `credential` to, None if none."""
        key = self._owners.get(credential)
        return self.by_key[key] if key is not None else None

    def of(self, credential: str) -> A:
        """The account a request with `credential` acts as (the default one if it names none)."""
        found = self.owning(credential)
        return self.default if found is None else found

    def credentials(self) -> list[str]:
        """Every account's own credential."""
        return list(self._owners)

    def __iter__(self) -> Iterator[A]:
        return iter(self.by_key.values())
