"""What a script text becomes on each channel: `{handle}` written as the channel names an
account, `{country}` as the country's name (docs/channels.md, "Settings, handles and texts").

The plan sends these texts and the lint measures them, so both fill them in here.
"""

from __future__ import annotations

import re

# The channel kinds a study may use, in the order the docs list them.
CHANNEL_KINDS = ("x", "mastodon", "bluesky", "email", "manual")

_PLACEHOLDER = re.compile(r"\{(handle|country)\}")
# An e-mail opens with the greeting, not the address: a leading {handle} is dropped.
_LEADING_HANDLE = re.compile(r"\A\s*\{handle\}\s*")
# What a person says on the phone or types into a form names nobody: its handle is the number
# called or the form's address, so every {handle} goes (with the space before it).
_ANY_HANDLE = re.compile(r"\s*\{handle\}")


def mention(channel: str, handle: str) -> str:
    """How a text names `handle` on `channel`: '@KaitoMotors' on X, '@kaito@mastodon.social'
    on Mastodon, '@kaito.bsky.social' on Bluesky; the address or the handle itself elsewhere."""
    if channel in ("x", "mastodon", "bluesky"):
        return "@" + handle
    return handle


def fill(text: str, channel: str, handle: str, country_name: str) -> str:
    """The text sent to `handle` on `channel`, with `{handle}` and `{country}` filled in
    (on `manual`, the text said or typed by a person, `{handle}` is left out)."""
    if channel in ("email", "manual"):
        text = _LEADING_HANDLE.sub("", text, count=1)
    if channel == "manual":
        text = _ANY_HANDLE.sub("", text)
    values = {"handle": mention(channel, handle), "country": country_name}
    # One pass, so a filled-in value is never read as a placeholder itself.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
