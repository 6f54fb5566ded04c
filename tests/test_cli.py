"""The `replybench` command: exit codes, exact `Error:` lines, nothing half-written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from replybench.cli import app
from study.paths import journal_path
from tests.conftest import EXAMPLE, SIM_X_ENV

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


COMMANDS = [
    "init", "validate", "plan", "run", "status", "export", "sim", "demo", "analyze", "import",
    "import-twcs", "rating-sheet", "import-ratings", "power", "report", "serve",
    "worksheet", "import-worksheet", "accounts", "cleanup", "backup", "new-wave", "compare",
    "login", "merge",
]  # fmt: skip


def test_the_command_line_has_every_command_once() -> None:
    """The command modules (replybench/cmd_*.py) together register exactly these commands."""
    group = get_command(app)
    assert isinstance(group, TyperGroup)
    assert sorted(group.commands) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert "Example: replybench " + command in " ".join(out.split())


def test_init_validate_and_plan(tmp_path: Path) -> None:
    d = tmp_path / "s"
    code, out, _ = invoke("init", str(d))
    assert code == 0 and f"wrote {d / 'study.toml'}" in out
    code, out, _ = invoke("validate", str(d))
    assert code == 0 and out.startswith(f"{d}: ok: 6 targets (5 probed)")
    code, out, _ = invoke("plan", str(d))
    assert code == 0 and out.startswith("15 probes, ")
    assert "by slot: business 5  evening 5  weekend 5" in out
    code, first, _ = invoke("plan", str(d), "--json")
    code2, second, _ = invoke("plan", str(d), "--json")
    assert code == code2 == 0 and first == second
    probes = json.loads(first)["probes"]
    assert len(probes) == 15 and probes[0]["probe_id"].endswith("-r1")


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = invoke("init", str(tmp_path))
    assert code == 1
    assert err.startswith("Error: ") and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_validate_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    d = tmp_path / "s"
    invoke("init", str(d))
    targets = (d / "targets.csv").read_text().replace(",US,", ",UK,", 1)
    (d / "targets.csv").write_text(targets + "alder,Alder Bank,banking,US,x,AlderBank,local\n")
    toml = (d / "study.toml").read_text().replace("window_hours = 72", "window_hours = -3")
    (d / "study.toml").write_text(toml)
    code, out, err = invoke("validate", str(d))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[-1] == "Error: 3 problems found; fix them and run again"
    assert lines[0].startswith(f"{d / 'study.toml'}:7: window_hours must be")
    assert lines[1].startswith(f"{d / 'targets.csv'}:2: country 'UK'") and "'GB'" in lines[1]
    assert lines[2] == (
        f"{d / 'targets.csv'}:8: target alder, US, x is also on line 4; "
        "keep one row per brand, country and channel"
    )


def test_run_refuses_a_real_api_without_live_and_writes_nothing(tmp_path: Path) -> None:
    d = tmp_path / "s"
    invoke("init", str(d))
    before = sorted(p.name for p in d.iterdir())
    code, _, err = invoke("run", str(d))
    assert code == 1
    assert err.startswith("Error: refusing to send to https://api.x.com without --live")
    assert sorted(p.name for p in d.iterdir()) == before


def test_run_live_without_the_keys_names_the_variable_and_writes_nothing(tmp_path: Path) -> None:
    d = tmp_path / "s"
    invoke("init", str(d))
    code, _, err = invoke("run", str(d), "--live", env={"REPLYBENCH_X_CONSUMER_KEY": ""})
    assert code == 1
    assert err.strip() == (
        "Error: study.toml [channels.x]: environment variable REPLYBENCH_X_CONSUMER_KEY is not "
        "set; export the X app's OAuth 1.0a keys and the probe account's access token and "
        "secret in the four variables named there (credentials never go in the study folder)"
    )
    assert not (d / "journal").exists()


def test_run_with_a_token_the_api_refuses_writes_nothing_and_never_shows_it(
    tmp_path: Path,
) -> None:
    """The example signs with OAuth 1.0a: a wrong consumer secret is X's 401 at preflight,
    the message names the four variables and shows none of their values."""
    from probes.sim import running

    d = tmp_path / "s"
    shutil.copytree(EXAMPLE, d)
    secret = "s3cr3t-consumer-secret-never-shown"
    env = {**SIM_X_ENV, "REPLYBENCH_X_CONSUMER_SECRET": secret}
    with running(d) as sim:
        code, out, err = invoke("run", str(d), "--api-base", sim.url, env=env)
    assert code == 1
    assert err.startswith(f"Error: x at {sim.url}: X API answered 401"), err
    assert (
        "check the credentials in REPLYBENCH_X_ACCESS_TOKEN, REPLYBENCH_X_ACCESS_TOKEN_SECRET, "
        "REPLYBENCH_X_CONSUMER_KEY, REPLYBENCH_X_CONSUMER_SECRET and the account "
        "'replybenchprobe'" in " ".join(err.split())
    ), err
    for value in (secret, SIM_X_ENV["REPLYBENCH_X_ACCESS_TOKEN_SECRET"]):
        assert value not in out + err
    assert not journal_path(d).exists()


def test_some_of_the_four_oauth1_variables_exported_is_refused_naming_the_first_unset(
    tmp_path: Path,
) -> None:
    d = tmp_path / "s"
    shutil.copytree(EXAMPLE, d)
    env = {**SIM_X_ENV, "REPLYBENCH_X_ACCESS_TOKEN_SECRET": ""}
    code, out, err = invoke("run", str(d), "--api-base", "http://127.0.0.1:9", env=env)
    assert code == 1
    assert err.startswith(
        "Error: study.toml [channels.x]: environment variable REPLYBENCH_X_ACCESS_TOKEN_SECRET "
        "is not set"
    ), err
    assert SIM_X_ENV["REPLYBENCH_X_CONSUMER_SECRET"] not in out + err
    assert not journal_path(d).exists()


# Every command that reads a journal, with what else it needs ({d}: the study folder).
READERS = [
    ("status",), ("export", "probes"), ("export", "replies"), ("export", "outcomes"),
    ("analyze",), ("report", "--out", "{d}/site"), ("backup", "--out", "{d}/copy.sqlite"),
    ("cleanup",), ("import-ratings", "{d}/ratings.csv"),
]  # fmt: skip


@pytest.mark.parametrize("reader", READERS, ids=" ".join)
def test_every_reader_without_a_journal_says_the_same_one_line(
    tmp_path: Path, reader: tuple[str, ...]
) -> None:
    """One wording for a study whose campaign has not started (status and export once said
    it differently, and backup and cleanup still did)."""
    d = tmp_path / "s"
    invoke("init", str(d))
    command, *rest = reader
    code, _, err = invoke(command, str(d), *(a.format(d=d) for a in rest))
    assert code == 1
    assert err.strip() == (
        f"Error: {journal_path(d)}: no journal yet; run the campaign first (replybench run {d})"
    )


BAD_USAGE = [
    (("export", "s", "people"),
     "unknown table 'people'; choose one of: probes, replies, outcomes, metrics"),
    (("export", "s", "probes", "--format", "xlsx"),
     "unknown format 'xlsx'; choose one of: csv, json, parquet"),
    (("export", "s", "probes", "--format", "parquet"),
     "parquet is binary: give --out FILE.parquet"),
    (("sim", "s", "--faults", "2"), "--faults is a share between 0 and 1, not 2.0"),
    (("sim", "s", "--speed", "0"), "--speed must be > 0, not 0.0"),
    (("sim", "s", "--start", "yesterday"),
     "--start 'yesterday': Invalid isoformat string: 'yesterday'"),
    (("power",),
     "give --rates P1 P2, --medians H1 H2 with --window-hours W, or --persona-rate P"),
    (("power", "--medians", "2", "6"), "--medians needs --window-hours, e.g. --window-hours 72"),
    (("power", "--rates", "0.6", "0.8", "--alpha", "2"),
     "--alpha and --power are shares between 0 and 1, e.g. 0.05 and 0.8"),
    (("analyze", "s", "--replicates", "50"),
     "--replicates must be at least 100, not 50: fewer give unstable 95% intervals"),
    (("analyze", "s", "--as-of", "soon"),
     "as-of time 'soon' is not an ISO 8601 time with a UTC offset; write it like "
     "2026-03-20T12:00:00Z"),
    (("report", "s", "--as-of", "soon"),
     "as-of time 'soon' is not an ISO 8601 time with a UTC offset; write it like "
     "2026-03-20T12:00:00Z"),
    (("import", "s", "hand.csv", "--window-hours", "0"),
     "the window must be more than 0 hours (got 0.0); give the observation window in hours, "
     "e.g. --window-hours 72"),
    (("import", "s", "hand.csv", "--window-hours", "72", "--observed-until", "later"),
     "--observed-until 'later': Invalid isoformat string: 'later'"),
    (("import-twcs", "t.csv", "--into", "t", "--window-hours", "-1"),
     "the window must be more than 0 hours (got -1.0); give the observation window in hours, "
     "e.g. --window-hours 72"),
    (("rating-sheet", "s", "--rater", " ", "--out", "r.csv"),
     "the rater's name is empty; give one, e.g. --rater AB"),
    (("worksheet", "s", "--out", "w.csv", "--due-by", "tomorrow"),
     "--due-by 'tomorrow' is not an ISO 8601 time with a UTC offset; write it like "
     "2026-03-02T18:00:00+01:00"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "error"), BAD_USAGE, ids=[" ".join(a) for a, _ in BAD_USAGE])
def test_bad_usage_exits_2_with_one_error_line_before_reading_anything(
    args: tuple[str, ...], error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad usage is found from the command line alone: the folders and files it names do not
    even exist, and nothing is written."""
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke(*args)
    assert (code, out, err) == (2, "", f"Error: {error}\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_export_after_a_campaign_in_every_format(tmp_path: Path) -> None:
    from tests.e2e.studies import short_study
    from tests.e2e.test_campaign import campaign

    d = short_study(tmp_path / "s")
    _, journal, _ = await campaign(d)
    journal.close()
    code, out, _ = invoke("export", str(d), "probes")
    assert code == 0
    header = out.splitlines()[0].split(",")
    for col in ("probe_id", "brand", "country", "channel", "handle", "scope", "script", "slot",
                "scheduled_at", "sent_at", "message_id", "state"):  # fmt: skip
        assert col in header
    rows = list(pd.read_csv(tmp_path / "x.csv" if False else __import__("io").StringIO(out))
                .itertuples())  # fmt: skip
    assert len(rows) == 16 and all(str(r.sent_at).endswith("Z") for r in rows)
    code, out, _ = invoke("export", str(d), "replies", "--format", "json")
    replies = json.loads(out)
    assert replies and set(replies[0]) >= {
        "reply_id", "probe_id", "author", "created_at", "kind", "text",
    }  # fmt: skip
    target = tmp_path / "out" / "replies.parquet"
    code, _, _ = invoke("export", str(d), "replies", "--format", "parquet", "--out", str(target))
    assert code == 0
    df = pd.read_parquet(target)
    assert len(df) == len(replies) and str(df["created_at"].dtype) == "datetime64[ns, UTC]"
    assert [p.name for p in target.parent.iterdir()] == ["replies.parquet"]  # no temp left


def test_import_and_power(tmp_path: Path) -> None:
    csv = tmp_path / "hand.csv"
    csv.write_text(
        "brand,country,channel,sent_at,replied_at\n"
        "kaito,DE,x,2026-03-02T09:00:00+01:00,2026-03-02T11:30:00+01:00\n"
        "kaito,DE,x,2026-03-03T09:00:00+01:00,\n"
    )
    code, out, _ = invoke("import", str(tmp_path / "s"), str(csv), "--window-hours", "72")
    assert code == 0 and out.startswith(f"created {journal_path(tmp_path / 's')}: 2 probes")
    code, out, _ = invoke("power", "--rates", "0.6", "0.8")
    assert code == 0 and "each brand needs 81 probes" in out
    code, out, _ = invoke("power", "--persona-rate", "0.6", "--difference", "0.05")
    assert code == 0 and "each persona needs 1471 inquiries in all" in out


def test_analyze_takes_the_bootstraps_replicates_and_seed(tmp_path: Path) -> None:
    from analysis.compare import REPLICATES, SEED

    def row(brand: str, day: int) -> str:
        replied = f"2026-03-0{day}T1{day}:00:00Z" if day % 2 else ""  # odd days answered
        return f"{brand},DE,x,2026-03-0{day}T09:00:00Z,{replied}"

    rows = [row(b, d) for b in ("kaito", "brenner") for d in range(1, 8)]
    csv = tmp_path / "hand.csv"
    csv.write_text("brand,country,channel,sent_at,replied_at\n" + "\n".join(rows) + "\n")
    assert invoke("import", str(tmp_path / "s"), str(csv), "--window-hours", "72")[0] == 0
    out = tmp_path / "m.json"
    code, _, _ = invoke("analyze", str(tmp_path / "s"), "--replicates", "200", "--seed", "5",
                        "--json", str(out))  # fmt: skip
    compared = json.loads(out.read_text(encoding="utf-8"))["comparisons"]
    assert code == 0 and (compared["bootstrap_replicates"], compared["seed"]) == (200, 5)
    code, _, _ = invoke("analyze", str(tmp_path / "s"), "--json", str(out))
    compared = json.loads(out.read_text(encoding="utf-8"))["comparisons"]
    assert (compared["bootstrap_replicates"], compared["seed"]) == (REPLICATES, SEED)
    code, _, err = invoke("report", str(tmp_path / "s"), "--out", str(tmp_path / "site"),
                          "--replicates", "99")  # fmt: skip
    assert code == 2 and "at least 100, not 99" in err and not (tmp_path / "site").exists()


def test_a_bad_import_names_the_csv_as_given(tmp_path: Path) -> None:
    csv = tmp_path / "hand.csv"
    csv.write_text("brand,country,channel,sent_at,replied_at\nkaito,DE,x,yesterday,\n")
    code, _, err = invoke("import", str(tmp_path / "s"), str(csv), "--window-hours", "72")
    assert code == 1
    assert err.startswith(f"{csv}:2: ")
    assert not (tmp_path / "s").exists()


# Shaped like a Mastodon token with no '-': letters, digits and '_' pass as a variable's name.
PASTED_TOKEN = "Xq3vTb9KmZ2rWc7Yh4NpLs8Dg_Fj5Ua1Ee6Ri0Oo2Kx"


@pytest.mark.parametrize(
    "command", [("validate",), ("run", "--live"), ("accounts", "--live")], ids=" ".join
)
def test_a_token_pasted_for_its_variable_is_refused_and_never_shown(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    d = tmp_path / "s"
    assert invoke("init", str(d))[0] == 0
    toml = d / "study.toml"
    text = toml.read_text(encoding="utf-8")
    pasted = text.replace('"REPLYBENCH_X_ACCESS_TOKEN"', f'"{PASTED_TOKEN}"')
    toml.write_text(pasted, encoding="utf-8")
    code, out, err = invoke(command[0], str(d), *command[1:], env={PASTED_TOKEN: "x"})
    assert code == 1
    assert "access_token_env looks like a credential itself (not shown)" in err
    for form in (PASTED_TOKEN, PASTED_TOKEN.lower(), PASTED_TOKEN[5:25]):
        assert form not in out + err


def test_report_replaces_its_own_site_but_not_a_folder_of_other_files(tmp_path: Path) -> None:
    rows = [f"{b},DE,x,2026-03-0{d}T09:00:00Z,2026-03-0{d}T11:00:00Z" for b in ("kaito", "brenner")
            for d in range(1, 4)]  # fmt: skip
    csv = tmp_path / "hand.csv"
    csv.write_text("brand,country,channel,sent_at,replied_at\n" + "\n".join(rows) + "\n")
    assert invoke("import", str(tmp_path / "s"), str(csv), "--window-hours", "72")[0] == 0
    site = tmp_path / "site"
    report = ("report", str(tmp_path / "s"), "--out", str(site), "--replicates", "100")
    for _ in range(2):  # a second report replaces the first one's site
        code, out, _ = invoke(*report)
        assert code == 0 and out == f"wrote {site / 'index.html'}\n"
    (site / "notes.txt").write_text("mine")
    code, _, err = invoke(*report)
    assert code == 1 and err == (
        f"Error: {site} holds 1 file(s) replybench did not write (notes.txt); choose a new or "
        "empty folder for --out, or add --force to replace the folder and everything in it\n"
    )
    assert (site / "notes.txt").read_text() == "mine" and (site / "index.html").is_file()
    assert invoke(*report, "--force")[0] == 0 and not (site / "notes.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hand.csv", "s", "site"]
