"""The probe account's notification policy, read before a campaign (Mastodon 4.3 and later).

Mastodon files a notification from an account the probe account does not follow (every
brand), that does not follow it, that is new or that a moderator limited as `accept`,
`filter` or `drop` as the account's policy says
(https://docs.joinmastodon.org/methods/notifications/#get-policy,
https://docs.joinmastodon.org/entities/NotificationPolicy/). Filtered notifications are
still returned by GET /api/v1/notifications with `include_filtered=true`, which the channel
always asks for; dropped ones are never made, so no poll can recover a brand's reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PATH = "/api/v2/notifications/policy"
# The rules that apply to a brand's public reply; a brand's direct message also meets
# `for_private_mentions` (a fresh account filters those: read with include_filtered too).
BRAND_RULES = ("for_not_following", "for_not_followers", "for_new_accounts", "for_limited_accounts")
ALL_RULES = (*BRAND_RULES, "for_private_mentions")
WHERE = "Preferences > Notifications, 'Manage notifications from...'"


def dropping(policy: Mapping[str, Any]) -> list[str]:
    """The rules that drop notifications: replies they meet never reach any inbox read."""
    return [rule for rule in ALL_RULES if policy.get(rule) == "drop"]


def filtering(policy: Mapping[str, Any]) -> list[str]:
    """The rules that filter brands' replies (read anyway, with include_filtered=true)."""
    return [rule for rule in BRAND_RULES if policy.get(rule) == "filter"]


def drop_message(account: str, rules: list[str]) -> str:
    return (
        f"the Mastodon notification policy of @{account} drops notifications "
        f"({', '.join(f'{r} = drop' for r in rules)}): brands' replies it meets are never "
        f"made and no poll can recover them; set it to 'filter' or 'accept' ({WHERE}), then "
        "run again"
    )


def filter_message(account: str, rules: list[str]) -> str:
    return (
        f"warning: the Mastodon notification policy of @{account} filters brands' replies "
        f"({', '.join(f'{r} = filter' for r in rules)}); replybench reads them anyway "
        f"(include_filtered=true), but the account's own apps hide them ({WHERE})"
    )
