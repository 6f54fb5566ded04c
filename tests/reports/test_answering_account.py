"""The site's exchanges say which account answered: the one asked, or another account of the
brand that targets.csv's answers_from lists (issue 11 item 6)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.analysis.journals import T0, P, R, hours, write_journal
from tests.reports.conftest import build


def test_an_answer_from_a_support_account_is_shown_as_from_that_account(tmp_path: Path) -> None:
    probes = [P("p1"), P("p2", country="FR", handle="kaito_fr")]
    replies = [
        R("p1", "<b>KaitoHelp</b>", T0 + hours(1)),  # listed below: kaito's, text escaped
        R("p2", "kaito_fr", T0 + hours(3), "direct_message"),  # its own kind: shown too
    ]
    study = tmp_path / "study"
    write_journal(study, probes, replies, last_observation=T0 + hours(100),
                  answers_from=(("kaito", "<b>kaitohelp</b>"),))  # fmt: skip
    html = build(study, tmp_path / "site").page("companies/kaito.html")
    assert (
        "Reply &middot; @&lt;b&gt;KaitoHelp&lt;/b&gt;, another account of the brand (not the "
        "one asked), " in html
    )
    assert "<b>KaitoHelp" not in html
    assert "Reply &middot; @kaito_fr, 2026" in html  # the account asked: named alone


def test_a_help_desk_s_answer_by_e_mail_is_shown_with_its_text(tmp_path: Path) -> None:
    """On e-mail any reply matched to a probe is the brand's (responses.sql), whatever the
    address: the example exchange shows it, not an empty reply from nobody."""
    probes = [P("p1", channel="email", handle="help@kaito.example")]
    replies = [R("p1", "agent7@helpdesk.example", T0 + hours(2), "direct_message")]
    study = tmp_path / "study"
    write_journal(study, probes, replies, last_observation=T0 + hours(100))
    site = build(study, tmp_path / "site")
    [exchange] = json.loads((site.root / "data" / "exchanges.json").read_text("utf-8"))
    assert (exchange["author"], exchange["reply_text"]) == ("agent7@helpdesk.example", "Hi!")
