"""Mastodon's notification policy (4.3+): the simulator files brands' replies as the probe
account's policy says (from simulator.toml; a fresh account's by default), the channel reads
filtered ones with include_filtered=true, and the preflight warns about a policy that
filters brands' replies and refuses one that drops them
(https://docs.joinmastodon.org/methods/notifications/)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from probes.channels.mastodon.adapter import MastodonChannel, preflight
from probes.sim.mastodon.face import MastodonPlatform
from probes.sim.profiles import parse_settings, settings_problems
from study.clock import ManualClock
from study.errors import StudyError
from study.model import PlannedProbe, Scope
from tests.conftest import SHARED_FIXTURES
from tests.probes.test_sim_mastodon import (
    BASE,
    INSTANCE,
    NOTES,
    START,
    client_for,
    post,
    small_study,
)

pytestmark = pytest.mark.anyio
POLICY = "/api/v2/notifications/policy"


def face(clock: ManualClock, **policy: str) -> MastodonPlatform:
    doc: dict[str, Any] = {"mastodon": {"notification_policy": policy}} if policy else {}
    settings = parse_settings(doc, seed=1)
    return MastodonPlatform(small_study(), clock, bots=False, settings=settings)


def test_the_policy_has_the_documented_shape_and_a_fresh_accounts_values() -> None:
    with client_for(face(ManualClock(START))) as c:
        body = c.get(POLICY).json()
    assert body == {
        "for_not_following": "accept",
        "for_not_followers": "accept",
        "for_new_accounts": "accept",
        "for_private_mentions": "filter",
        "for_limited_accounts": "filter",
        "summary": {"pending_requests_count": 0, "pending_notifications_count": 0},
    }
    spec = SHARED_FIXTURES / "mastodon" / "openapi.json"
    if not spec.exists():
        pytest.skip(f"{spec} is absent: the recorded specification is not on this machine")
    schema = json.loads(spec.read_text(encoding="utf-8"))["components"]["schemas"]
    policy = schema["NotificationPolicy"]
    assert set(body) == set(policy["required"])
    assert set(body["summary"]) == set(policy["properties"]["summary"]["required"])


def test_a_filtered_reply_is_returned_only_with_include_filtered() -> None:
    clock = ManualClock(START)
    platform = face(clock, for_not_following="filter")
    with client_for(platform) as c:
        probe = post(c, f"@acme_de@{INSTANCE} where is my parcel?")
        platform.reply(probe["id"], "Let us check!")
        clock.advance(1)
        assert c.get(NOTES).json() == []
        [note] = c.get(NOTES, params={"include_filtered": "true"}).json()
        assert note["status"]["in_reply_to_id"] == probe["id"]
        summary = c.get(POLICY).json()["summary"]
    assert summary == {"pending_requests_count": 1, "pending_notifications_count": 1}


def test_a_dropped_reply_is_never_a_notification() -> None:
    clock = ManualClock(START)
    platform = face(clock, for_not_followers="drop")
    with client_for(platform) as c:
        probe = post(c, f"@acme_de@{INSTANCE} where is my parcel?")
        platform.reply(probe["id"], "Let us check!")
        clock.advance(1)
        assert c.get(NOTES, params={"include_filtered": "true"}).json() == []


async def inbox_and_preflight(platform: MastodonPlatform, clock: ManualClock) -> Any:
    transport = httpx.MockTransport(platform.handle)
    headers = {"Authorization": "Bearer secret"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as client:
        channel = MastodonChannel(client, account="replybench", instance=INSTANCE, clock=clock)
        warnings = await preflight(channel)
        text = f"@acme_de@{INSTANCE} hello?"
        sent = await channel.send(
            PlannedProbe(
                "p1",
                "acme",
                "DE",
                "mastodon",
                f"acme_de@{INSTANCE}",
                Scope.LOCAL,
                "s1",
                "business",
                1,
                text,
                START,
                START,
                START + timedelta(hours=1),
            )  # fmt: skip
        )
        platform.reply(sent.message_id, "Hello back")
        clock.advance(1)
        replies, _ = await channel.inbox(None)
        return warnings, replies


async def test_the_channel_reads_filtered_replies_and_the_preflight_warns() -> None:
    clock = ManualClock(START)
    platform = face(clock, for_not_following="filter", for_limited_accounts="accept")
    warnings, replies = await inbox_and_preflight(platform, clock)
    assert [r.text for r in replies] == ["@replybench Hello back"]
    assert warnings == [
        f"warning: the Mastodon notification policy of @replybench@{INSTANCE} filters brands' "
        "replies (for_not_following = filter); replybench reads them anyway "
        "(include_filtered=true), but the account's own apps hide them (Preferences > "
        "Notifications, 'Manage notifications from...')"
    ]


async def test_a_policy_that_drops_brands_replies_is_refused_before_anything_is_sent() -> None:
    clock = ManualClock(START)
    platform = face(clock, for_new_accounts="drop", for_not_following="drop")
    with pytest.raises(StudyError) as e:
        await inbox_and_preflight(platform, clock)
    assert str(e.value) == (
        f"the Mastodon notification policy of @replybench@{INSTANCE} drops notifications "
        "(for_not_following = drop, for_new_accounts = drop): brands' replies it meets are "
        "never made and no poll can recover them; set it to 'filter' or 'accept' "
        "(Preferences > Notifications, 'Manage notifications from...'), then run again"
    )
    assert platform.world.statuses == {}


def test_simulator_toml_names_the_policy_and_a_bad_value_is_a_problem_at_its_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "simulator.toml").write_text(
        '[mastodon.notification_policy]\nfor_not_following = "filter"\n'
        'for_new_accounts = "block"\n',
        encoding="utf-8",
    )
    settings, problems = settings_problems(tmp_path, seed=1)
    assert settings is None
    assert [(p.line, p.message) for p in problems] == [
        (3, "[mastodon.notification_policy] for_new_accounts must be one of accept, filter, "
            "drop, not 'block'"),
    ]  # fmt: skip


def test_the_policy_is_kept_whatever_the_brand_tables_after_it() -> None:
    """The last brand's table (here an empty one) has no say in whether the policy applies."""
    doc: dict[str, Any] = {
        "mastodon": {"notification_policy": {"for_not_following": "drop"}},
        "brands": {"kaito": {"answer_rate": 0.5}, "brenner": {}},
    }
    settings = parse_settings(doc, seed=1)
    assert settings.mastodon_policy is not None
    assert settings.mastodon_policy["for_not_following"] == "drop"
