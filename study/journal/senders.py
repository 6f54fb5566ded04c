"""Who sent each probe, for the analysis' persona groupings (analysis.personas).

A study asked through several personas records them in the journal's `personas` table
(study.journal.campaign.record_personas, or a merge), their attributes in
`persona_attributes`, and each probe's sender in `probes.persona` (NULL in a journal made
before personas: the channel's one account). A journal that names fewer than two personas
of its own (a channel's one account is named after the channel) is not read further: an
imported corpus of millions of probes costs nothing here.
"""

from __future__ import annotations

from pathlib import Path

from study.journal.file import connect
from study.journal.schema import has_column
from study.plan_text import CHANNEL_KINDS

Senders = tuple[list[tuple[str, str]], dict[str, dict[str, str]]]


def persona_senders(path: Path) -> Senders:
    """(probe_id, sender) for every probe of the journal at `path`, and each persona's
    attributes; ([], {}) unless the journal names two or more personas of its own."""
    con = connect(path, readonly=True)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "personas" not in tables:
            return [], {}
        names = {str(r[0]) for r in con.execute("SELECT persona FROM personas")}
        if len(names - set(CHANNEL_KINDS)) < 2:
            return [], {}
        sender = "coalesce(persona, channel)" if has_column(con, "probes", "persona") else "channel"
        probes = [
            (str(p), str(s)) for p, s in con.execute(f"SELECT probe_id, {sender} FROM probes")
        ]
        attributes: dict[str, dict[str, str]] = {}
        for persona, attribute, value in con.execute(
            "SELECT persona, attribute, value FROM persona_attributes ORDER BY persona, attribute"
        ):
            attributes.setdefault(str(persona), {})[str(attribute)] = str(value)
    finally:
        con.close()
    return probes, attributes
