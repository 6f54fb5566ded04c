"""The ledger: every accepted post, DM and deletion, one complete JSON object a line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from probes.sim.ledger import read_ledger
from probes.sim.x.face import XPlatform
from study.clock import ManualClock
from study.timeutil import parse_iso
from tests.probes.test_sim_platform import START, client_for, small_study

KEYS = {"kind", "id", "author", "author_id", "text", "created_at", "in_reply_to_id",
        "conversation_id"}  # fmt: skip


def test_ledger_records_everything_as_it_happens(tmp_path: Path) -> None:
    path = tmp_path / "sim" / "ledger.jsonl"
    clock = ManualClock(START)
    platform = XPlatform(small_study(), clock, ledger=path, bots=False)
    with client_for(platform) as c:
        probe_id = c.post("/2/tweets", json={"text": "@Acme_DE where is my order?"}).json()
        probe_id = probe_id["data"]["id"]
        assert [e["kind"] for e in read_ledger(path)] == ["post"]  # flushed at once
        platform.reply(probe_id, "Please send us a DM", after=timedelta(minutes=3))
        platform.send_dm("Acme_DE", "Here we are", after=timedelta(minutes=5))
        brand = c.get("/2/users/by/username/Acme_DE").json()["data"]["id"]
        c.post(f"/2/dm_conversations/with/{brand}/messages", json={"text": "thanks"})
        clock.advance(600)
        c.delete(f"/2/tweets/{probe_id}")
    platform.close()
    entries = read_ledger(path)
    assert [e["kind"] for e in entries] == ["post", "dm", "post", "dm", "deleted"]
    for e in entries:
        assert set(e) >= KEYS, e
    probe, my_dm, reply, brand_dm, deleted = entries
    assert probe["author"] == "probe_acct" and probe["conversation_id"] == probe["id"]
    assert reply["author"] == "Acme_DE" and reply["in_reply_to_id"] == probe["id"]
    assert reply["conversation_id"] == probe["id"]
    assert parse_iso(reply["created_at"]) == START + timedelta(minutes=3)
    assert brand_dm["recipient"] == "probe_acct" and my_dm["recipient"] == "Acme_DE"
    assert brand_dm["conversation_id"] == my_dm["conversation_id"]
    assert deleted["id"] == probe["id"] and "deleted_at" in deleted
    assert [int(e["id"]) for e in entries[:4]] == sorted(int(e["id"]) for e in entries[:4])


def test_bot_entries_carry_the_ground_truth(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    clock = ManualClock(START)
    index = {"@Globex hello": ("globex", "US")}
    platform = XPlatform(small_study(), clock, ledger=path, probe_index=index)
    with client_for(platform) as c:
        for text in ("@Globex hello", *(f"@Globex hi {i}" for i in range(40))):
            c.post("/2/tweets", json={"text": text})
        clock.advance(30 * 24 * 3600)
        c.get("/2/users/me")
    bots = [e for e in read_ledger(path) if e.get("role") == "brand"]
    assert bots, "some probe was answered"
    for e in bots:
        assert e["brand"] == "globex" and e["reply_kind"] in {
            "public_reply", "redirect", "direct_message", "auto_ack"}  # fmt: skip
        assert e["probe_post_id"]
