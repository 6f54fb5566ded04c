"""The campaign journal: everything planned, attempted, acknowledged, seen and closed.

SQLite in WAL mode inside the study folder (`journal/journal.sqlite`), so `replybench status`
and the analysis can read while `replybench run` writes. Each state change is one transaction;
the send protocol (`study.journal.sends`) is what makes a `kill -9` harmless. `Journal` is
the one class the runner and the worksheet write through: its probes
(`study.journal.probes`), its sends and its inbox (`study.journal.inbox`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from study.journal import errors
from study.journal.corpus import connect_whole
from study.journal.file import connect, create_new
from study.journal.inbox import InboxLog
from study.journal.probes import ProbeLog
from study.journal.schema import LOOK_UP_OWN_POSTS, SCHEMA_VERSION, create_schema
from study.journal.sends import SendLog
from study.model import PlannedProbe
from study.paths import existing_journal, journal_path
from study.personas import Persona
from study.plan import plan_json
from study.timeutil import iso

# The files of a study folder that define its plan (study.load, study.plan).
DESIGN_FILES = ("study.toml", "targets.csv", "scripts.csv")
DESIGN = "design_sha256"  # the meta key: the fingerprint of the folder the journal began in


def plan_digest(plan: list[PlannedProbe]) -> str:
    return hashlib.sha256(plan_json(plan).encode("utf-8")).hexdigest()


def design_fingerprint(study_dir: Path) -> str:
    """A fingerprint of the study files that define the plan: journals of one campaign run
    by several people (`run --persona`) carry the same one, which `merge` checks."""
    h = hashlib.sha256()
    for name in DESIGN_FILES:
        file = study_dir / name
        data = file.read_bytes() if file.is_file() else b""
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def same_plan(con: sqlite3.Connection, plan: list[PlannedProbe]) -> bool:
    """Whether the journal on `con` was made from `plan` (the texts of its manual probes as
    the journal holds them: see `_digest_as_started`)."""
    row = con.execute("SELECT value FROM meta WHERE key = 'plan_sha256'").fetchone()
    return row is not None and row[0] in (plan_digest(plan), _digest_as_started(con, plan))


def _digest_as_started(con: sqlite3.Connection, plan: list[PlannedProbe]) -> str:
    """The digest of `plan` with the texts of its manual probes as the journal holds them.

    A manual probe's text once began with its handle (a phone number, say) and no longer
    does: a campaign started with such texts carries on with them, its plan otherwise equal."""
    texts = dict(con.execute("SELECT probe_id, text FROM probes WHERE channel = 'manual'"))
    return plan_digest(
        [
            replace(p, text=texts.get(p.probe_id, p.text)) if p.channel == "manual" else p
            for p in plan
        ]
    )


class Journal(ProbeLog, SendLog, InboxLog):
    """Access to a study's journal: read-write for one runner at a time
    (`study.journal.lock`), or read-only (`read_only`) for any reader meanwhile."""

    @classmethod
    def create_or_open(
        cls,
        study_dir: Path,
        plan: list[PlannedProbe],
        *,
        study_name: str,
        window_hours: float,
        now: datetime,
        personas: Sequence[Persona] = (),
        answers_from: Iterable[tuple[str, str]] | None = None,
    ) -> Journal:
        """Open the journal, creating it from the plan on first use; `personas`
        (study.personas.personas_of) are recorded with their attributes.

        Refuses a journal made from a different plan: the study files changed after the
        campaign started, and mixing two designs in one journal would corrupt the study.
        `answers_from` (brand, account) pairs, when given, replace the journal's: they are
        not part of the plan, so a researcher may add a brand's support account later.
        """
        path = journal_path(study_dir)

        def build(con: sqlite3.Connection) -> None:
            initialise(
                cls(con, path),
                plan,
                study_name=study_name,
                window_hours=window_hours,
                now=now,
                personas=personas,
                design=design_fingerprint(study_dir),
            )

        if not path.exists():
            create_new(path, build)  # False: another process created it meanwhile
        con = connect(path)
        j = cls(con, path)
        try:
            with j.tx():
                create_schema(con)  # an older journal gains the newer columns
            if j.meta("plan_sha256") is None:
                raise errors.imported(path, j.meta("source"))
            if not same_plan(con, plan):
                raise errors.other_plan(path)
            with j.tx():
                record_personas(con, personas)
                if j.meta(DESIGN) is None:  # a journal begun before fingerprints
                    j._set_meta(DESIGN, design_fingerprint(study_dir))
            if answers_from is not None:
                j.set_answers_from(answers_from)
        except BaseException:
            con.close()
            raise
        return j

    def set_answers_from(self, pairs: Iterable[tuple[str, str]]) -> None:
        """The further accounts of each brand whose replies count as its own (targets.csv's
        `answers_from`), as (brand, account): they replace the journal's."""
        rows = sorted({(brand, account.lstrip("@").lower()) for brand, account in pairs})
        with self.tx() as con:
            con.execute("DELETE FROM answers_from")
            con.executemany("INSERT INTO answers_from (brand, account) VALUES (?, ?)", rows)

    @classmethod
    def read_only(cls, study_dir: Path) -> Journal:
        """The study's journal for reading, safe while `run` writes (writes fail); an imported
        corpus's rows in its probes and replies (`study.journal.corpus.connect_whole`)."""
        path = existing_journal(study_dir)
        return cls(connect_whole(path), path)


def record_personas(con: sqlite3.Connection, personas: Sequence[Persona]) -> None:
    """Store each persona's channel, account and attributes (as the study now states them:
    descriptive, so a change after the start is taken, unlike a change of the plan)."""
    for p in personas:
        con.execute(
            "INSERT INTO personas(persona, channel, account) VALUES (?, ?, ?) "
            "ON CONFLICT(persona) DO UPDATE SET channel = excluded.channel, "
            "account = excluded.account",
            (p.name, p.channel, p.account),
        )
        con.execute("DELETE FROM persona_attributes WHERE persona = ?", (p.name,))
        con.executemany(
            "INSERT INTO persona_attributes(persona, attribute, value) VALUES (?, ?, ?)",
            [(p.name, key, value) for key, value in p.attributes],
        )


def initialise(
    new: Journal,
    plan: list[PlannedProbe],
    *,
    study_name: str,
    window_hours: float,
    now: datetime,
    personas: Sequence[Persona],
    design: str,
) -> None:
    """Write a new journal's tables, meta and planned probes (inside the caller's
    transaction, on a file not yet in place: `study.journal.file.create_new`)."""
    con = new.con
    create_schema(con)
    new._set_meta("schema_version", SCHEMA_VERSION)
    new._set_meta("study_name", study_name)
    new._set_meta("window_hours", repr(float(window_hours)))
    new._set_meta("plan_sha256", plan_digest(plan))
    new._set_meta(DESIGN, design)
    new._set_meta("source", "campaign")
    # An earlier journal of this study may have been lost: look before sending.
    new._set_meta(LOOK_UP_OWN_POSTS, "yes")
    con.executemany(
        "INSERT INTO probes (probe_id, brand, country, channel, handle, scope,"
        " script, slot, round, text, scheduled_at, slot_start_at, slot_end_at,"
        " persona) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                p.probe_id, p.brand, p.country, p.channel, p.handle, p.scope.value,
                p.script, p.slot, p.round, p.text, iso(p.scheduled_at),
                iso(p.slot_start_at), iso(p.slot_end_at), p.sender,
            )
            for p in plan
        ],
    )  # fmt: skip
    record_personas(con, personas)
    new._event("planned", None, f"{len(plan)} probes", iso(now))
