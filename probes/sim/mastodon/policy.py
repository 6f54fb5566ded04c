"""The probe account's notification policy on the Mastodon face (Mastodon 4.3 and later).

Mastodon files a notification as `accept`ed, `filter`ed (kept, but returned by
GET /api/v1/notifications only with `include_filtered=true`) or `drop`ped (never made) by the
account's policy (https://docs.joinmastodon.org/entities/NotificationPolicy/,
https://docs.joinmastodon.org/methods/notifications/#get-policy). On the face the probe
account follows nobody and nobody follows it, so `for_not_following` and `for_not_followers`
apply to every brand's reply; `for_private_mentions` to a direct status that does not answer
one of the probe account's own direct statuses; no simulated account is new or limited.
A fresh 4.3 account filters private mentions and limited accounts and accepts the rest
(DEFAULT); `simulator.toml`'s `[mastodon.notification_policy]` may say otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

ACCEPT, FILTER, DROP = "accept", "filter", "drop"
VALUES = (ACCEPT, FILTER, DROP)
DEFAULT: Mapping[str, str] = {
    "for_not_following": ACCEPT,
    "for_not_followers": ACCEPT,
    "for_new_accounts": ACCEPT,
    "for_private_mentions": FILTER,
    "for_limited_accounts": FILTER,
}


def parse_policy(table: Mapping[str, Any], problem: Callable[[str, str], None]) -> dict[str, str]:
    """The policy `[mastodon.notification_policy]` gives (DEFAULT for what it leaves out);
    each bad key or value goes to `problem(key, message)`."""
    policy = dict(DEFAULT)
    where = "[mastodon.notification_policy]"
    for key, value in table.items():
        if key not in DEFAULT:
            problem(key, f"unknown key '{key}' in {where}; known keys: {', '.join(DEFAULT)}")
        elif value not in VALUES:
            problem(key, f"{where} {key} must be one of {', '.join(VALUES)}, not {value!r}")
        else:
            policy[key] = value
    return policy


def verdict(policy: Mapping[str, str], *, private: bool, answers_private: bool) -> str:
    """What the policy does with a mention of the probe account by an account it does not
    follow and that does not follow it: `private` for a direct status, `answers_private` when
    it answers one of the probe account's direct statuses (always accepted). A `drop` of any
    applicable rule wins over a `filter`, as in Mastodon's NotificationPolicy."""
    rules = ["for_not_following", "for_not_followers"]
    if private and not answers_private:
        rules.append("for_private_mentions")
    said = {policy.get(rule, ACCEPT) for rule in rules}
    return DROP if DROP in said else FILTER if FILTER in said else ACCEPT


def render(policy: Mapping[str, str], pending: int, senders: int) -> dict[str, Any]:
    """The body of GET /api/v2/notifications/policy."""
    return {
        **{key: policy.get(key, value) for key, value in DEFAULT.items()},
        "summary": {"pending_requests_count": senders, "pending_notifications_count": pending},
    }
