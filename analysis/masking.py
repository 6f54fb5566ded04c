"""The researchers' own probe accounts, masked in the texts a published site shows.

Brands answer the probe account by name ("@replybenchprobe Hi, ..."), and an e-mail reply
quotes the probe address. Published as they are, the example exchanges would name the
accounts a research team goes on using, so the next study's probes would be recognised.
`masker(study)` replaces each probe account named in study.toml's channels:

- X, Bluesky, by hand: `@account` (case-insensitive, a whole handle) becomes
  `@[probe account]`.
- Mastodon: `@account@instance` (the instance of the channel's `api_base`) and `@account`.
- E-mail: the address itself, with or without `mailto:`, becomes `[probe account]`.

A bare word equal to a social account name is left alone (without its `@` it is not a
mention), and so is a longer handle that merely starts with the account's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from study.model import Study

MASK = "[probe account]"


def probe_names(study: Study) -> tuple[list[str], list[str]]:
    """(handles mentioned with '@', e-mail addresses) of the study's probe accounts, longest
    first so that `user@instance` is tried before `user`."""
    handles: set[str] = set()
    addresses: set[str] = set()
    for channel in study.channels:
        account = channel.account.strip().lstrip("@")
        if not account:
            continue
        if channel.name == "email":
            addresses.add(account)
            continue
        handles.add(account)
        host = urlsplit(channel.api_base).hostname
        if channel.name == "mastodon" and host and "@" not in account:
            handles.add(f"{account}@{host}")
    return sorted(handles, key=lambda s: (-len(s), s)), sorted(
        addresses, key=lambda s: (-len(s), s)
    )


def masker(study: Study | None) -> Callable[[str], str]:
    """A function that masks the study's probe accounts in a text (see the module)."""
    handles, addresses = probe_names(study) if study is not None else ([], [])
    parts = [f"@(?:{'|'.join(map(re.escape, handles))})"] if handles else []
    parts += [f"(?:{'|'.join(map(re.escape, addresses))})"] if addresses else []
    if not parts:
        return lambda text: text
    pattern = re.compile(rf"(?<![\w.@+-])(?:{'|'.join(parts)})(?![\w@-]|\.\w)", re.IGNORECASE)

    def mask(text: str) -> str:
        return pattern.sub(lambda m: "@" + MASK if m.group().startswith("@") else MASK, text)

    return mask
