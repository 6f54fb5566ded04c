"""What a target's handle must look like on each channel: the checks of targets.csv (and of
probe accounts), each a phrase naming the problem and the fix, or None."""

from __future__ import annotations

import re

_X_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")
_LABEL = r"[A-Za-z0-9-]+"
DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")  # at least one dot
_MASTODON_USER = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"
_MASTODON_HANDLE = re.compile(rf"{_MASTODON_USER}@{DOMAIN.pattern}")
_PROFILE_URL = re.compile(rf"https?://({DOMAIN.pattern})/@({_MASTODON_USER})/?")
EMAIL_ADDRESS = re.compile(rf"[^\s@]+@{DOMAIN.pattern}")


def x_handle_problem(handle: str) -> str | None:
    """Why `handle` cannot name an X account, as a phrase with the fix, or None if it can."""
    if handle.startswith("@"):
        return f"'{handle}' starts with '@'; write it without: '{handle.lstrip('@')}'"
    if not _X_HANDLE.fullmatch(handle):
        return (
            f"'{handle}' is not an X handle (1-15 letters, digits or '_'); "
            "copy it from the account's profile"
        )
    return None


def mastodon_handle_problem(handle: str) -> str | None:
    """Why `handle` cannot name a Mastodon account (user@instance.domain), or None."""
    if handle.startswith("@"):
        return f"'{handle}' starts with '@'; write it without: '{handle[1:]}'"
    if _MASTODON_HANDLE.fullmatch(handle):
        return None
    if url := _PROFILE_URL.fullmatch(handle):
        return f"'{handle}' is a profile's address; write the handle: '{url[2]}@{url[1]}'"
    return (
        f"'{handle}' is not a Mastodon handle (user@instance.domain, e.g. "
        "kaito@mastodon.social); copy the whole handle from the account's profile"
    )


def bluesky_handle_problem(handle: str) -> str | None:
    """Why `handle` cannot name a Bluesky account (a domain name), or None."""
    if handle.startswith("@"):
        return f"'{handle}' starts with '@'; write it without: '{handle[1:]}'"
    if DOMAIN.fullmatch(handle):
        return None
    return (
        f"'{handle}' is not a Bluesky handle (a domain name: letters, digits and '-' "
        "between dots, e.g. kaito.bsky.social); copy it from the account's profile"
    )


def email_handle_problem(handle: str) -> str | None:
    """Why `handle` is not an e-mail address (local@domain.tld, one line), or None."""
    if EMAIL_ADDRESS.fullmatch(handle):
        return None
    return (
        f"'{handle}' is not an e-mail address; write the brand's support address, "
        "e.g. support@brand.example"
    )


def handle_problem(channel: str, handle: str) -> str | None:
    """Why a non-empty `handle` cannot name an account on `channel`, or None if it can (any
    text names a `manual` target: a phone number, a web form's address, an app)."""
    check = {
        "x": x_handle_problem,
        "mastodon": mastodon_handle_problem,
        "bluesky": bluesky_handle_problem,
        "email": email_handle_problem,
    }.get(channel)
    return None if check is None else check(handle)
