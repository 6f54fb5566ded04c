"""The probe accounts are masked in published texts, and nothing else is."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import pytest

from analysis.masking import masker, probe_names
from analysis.publish import publish_data
from study.load import load_study
from study.model import ChannelSettings
from study.paths import journal_path
from tests.reports.studies import example_study

MULTICHANNEL = Path(__file__).resolve().parents[2] / "data" / "examples" / "multichannel"


@pytest.fixture(scope="module")
def mask():  # type: ignore[no-untyped-def]
    study = load_study(MULTICHANNEL)
    email = ChannelSettings("email", "smtp://mail.lab.example", "probe@lab.example", "PW")
    return masker(dataclasses.replace(study, channels=(*study.channels, email)))


def test_the_accounts_of_every_channel_are_known() -> None:
    handles, addresses = probe_names(load_study(MULTICHANNEL))
    assert handles == [
        "replybench@mastodon.social",
        "replybench.bsky.social",
        "replybenchprobe",
        "replybench",
    ]
    assert addresses == []


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("@replybenchprobe Hi, can you DM us?", "@[probe account] Hi, can you DM us?"),
        ("Thanks @ReplyBenchProbe.", "Thanks @[probe account]."),
        ("(@replybenchprobe)", "(@[probe account])"),
        ("@replybench@mastodon.social hello", "@[probe account] hello"),
        ("@replybench hello", "@[probe account] hello"),
        ("@replybench.bsky.social hello", "@[probe account] hello"),
        ("On Mon, probe@lab.example wrote:", "On Mon, [probe account] wrote:"),
        ("<mailto:Probe@Lab.Example>", "<mailto:[probe account]>"),
        # not the probe accounts: other handles, other instances, bare words, longer names
        ("@replybenchprobe2 and @replybench_x", "@replybenchprobe2 and @replybench_x"),
        ("@replybench@other.example", "@replybench@other.example"),
        ("@replybench.bsky.social.example", "@replybench.bsky.social.example"),
        ("the replybench project", "the replybench project"),
        ("xprobe@lab.example, probe@lab.example.org", "xprobe@lab.example, probe@lab.example.org"),
        ("a@replybenchprobe", "a@replybenchprobe"),
    ],
)
def test_mentions_of_a_probe_account_are_masked(mask, text: str, want: str) -> None:  # type: ignore[no-untyped-def]
    assert mask(text) == want


def test_without_a_study_file_nothing_is_masked() -> None:
    assert masker(None)("@replybenchprobe hi") == "@replybenchprobe hi"


def test_published_exchanges_do_not_name_the_probe_account(tmp_path: Path) -> None:
    study = example_study(tmp_path / "study")
    con = sqlite3.connect(journal_path(study))
    con.execute("UPDATE replies SET text = '@ReplyBenchProbe on it. Not @replybenchprobe2.'")
    con.commit()
    con.close()
    published = {p.name: p for p in publish_data(study, tmp_path / "out")}
    shown = json.loads(published["exchanges.json"].read_text(encoding="utf-8"))
    replies = {e["reply_text"] for e in shown}
    assert replies == {"@[probe account] on it. Not @replybenchprobe2."}
