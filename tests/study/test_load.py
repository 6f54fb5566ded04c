"""Loading a study folder: each rule of docs/study-folder.md, broken one at a time."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from study.errors import StudyProblems
from study.load import find_problems, load_study
from study.model import Scope

from .conftest import StudyFolder

# --- the sound folder ---------------------------------------------------------------------


def test_the_scaffold_loads_sorted_and_complete(folder: StudyFolder) -> None:
    study = load_study(folder.path)
    assert study.path == folder.path
    assert (study.name, study.seed, study.window_hours) == ("My replybench study", 20260302, 72.0)
    assert (study.start, study.end) == (date(2026, 3, 2), date(2026, 3, 22))
    assert (study.probes_per_target, study.min_spacing_hours) == (3, 2.0)
    assert (study.ethics.max_probes_per_account, study.ethics.max_probes_per_account_per_day) == (
        12,
        2,
    )
    assert [(t.brand, t.country, t.line) for t in study.targets] == [
        ("alder", "DE", 5),
        ("alder", "US", 4),
        ("northwind", "DE", 3),
        ("northwind", "US", 2),
        ("pebble", "DE", 7),
        ("pebble", "US", 6),
    ]
    assert study.targets[0].scope is Scope.GLOBAL
    assert (study.targets[4].handle, study.targets[4].scope) == ("", Scope.NONE)
    assert [c.code for c in study.countries] == ["DE", "US"]
    assert study.country("DE").timezone == "Europe/Berlin"
    assert [s.name for s in study.slots] == ["business", "evening", "weekend"]
    assert study.slot("weekend").days == frozenset({5, 6})
    assert (study.slot("evening").start, study.slot("evening").end) == (time(18), time(22))
    assert study.channel("x").account == "replybenchprobe"
    assert [(s.id, s.category) for s in study.scripts] == [
        ("address", "account"),
        ("delivery", "order status"),
        ("weekend", "support hours"),
    ]
    assert [lang for lang, _ in study.scripts[0].texts] == ["de", "en"]
    assert study.scripts[2].text("en").startswith("{handle} Hello, if I have a problem")
    assert [(c.local_name, c.text_name) for c in study.countries] == [
        ("", "Germany"),
        ("", "United States"),
    ]


def test_load_study_raises_every_problem_at_once(folder: StudyFolder) -> None:
    folder.edit("study.toml", "window_hours = 72", "window_hours = -3")
    folder.edit("targets.csv", "US,x,PebbleMobile", "UK,x,PebbleMobile")
    with pytest.raises(StudyProblems) as raised:
        load_study(folder.path)
    assert [str(p) for p in raised.value.problems] == [
        "study.toml:7: window_hours must be a number of hours > 0, not -3; "
        "set it to the observation window, e.g. 72",
        "targets.csv:6: country 'UK' is not an ISO 3166-1 alpha-2 code; did you mean 'GB'?",
    ]
    assert str(raised.value).count("\n") == 1


def test_the_example_study_loads_without_problems(example_dir: Path) -> None:
    study, problems = find_problems(example_dir)
    assert [str(p) for p in problems] == []
    assert study is not None and len(study.countries) == 17


# --- the folder and its files -------------------------------------------------------------


def test_a_missing_folder_and_a_file_are_not_studies(tmp_path: Path) -> None:
    fix = "pass the folder that holds study.toml, or create one with `replybench init`"
    missing = tmp_path / "nowhere"
    assert [str(p) for p in find_problems(missing)[1]] == [f"{missing}: does not exist; {fix}"]
    a_file = tmp_path / "study.toml"
    a_file.write_text("", encoding="utf-8")
    assert [str(p) for p in find_problems(a_file)[1]] == [f"{a_file}: is not a folder; {fix}"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("study.toml", "study.toml: is missing; write one (see docs/study-folder.md)"),
        (
            "targets.csv",
            "targets.csv: is missing; create it with the header row "
            "'brand,brand_name,sector,country,channel,handle,scope'",
        ),
        (
            "scripts.csv",
            "scripts.csv: is missing; create it with the header row "
            "'script,category,language,text'",
        ),
    ],
)
def test_a_missing_file(folder: StudyFolder, name: str, problem: str) -> None:
    (folder.path / name).unlink()
    assert folder.problems() == [problem]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("study.toml", "study.toml: is empty; write the design in it (see docs/study-folder.md)"),
        (
            "targets.csv",
            "targets.csv: is empty; start it with the header row "
            "'brand,brand_name,sector,country,channel,handle,scope'",
        ),
        (
            "scripts.csv",
            "scripts.csv: is empty; start it with the header row 'script,category,language,text'",
        ),
    ],
)
def test_an_empty_file(folder: StudyFolder, name: str, problem: str) -> None:
    folder.write(name, "\n")
    assert folder.problems() == [problem]


def test_a_csv_with_only_its_header(folder: StudyFolder) -> None:
    folder.write("targets.csv", "brand,brand_name,sector,country,channel,handle,scope\n")
    folder.write("scripts.csv", "script,category,language,text\n")
    assert folder.problems() == [
        "scripts.csv: has no scripts; add one row per script and language",
        "targets.csv: has no targets; add one row per brand, country and channel",
    ]


# --- study.toml ---------------------------------------------------------------------------


def test_malformed_toml_names_the_line_of_the_syntax_error(folder: StudyFolder) -> None:
    folder.edit("study.toml", "window_hours = 72", "window_hours = ")
    [problem] = folder.problems()
    assert problem.startswith("study.toml:7: is not valid TOML (Invalid value (at line 7")
    assert problem.endswith("); fix the syntax on this line")


def test_malformed_toml_at_the_end_names_the_last_line(folder: StudyFolder) -> None:
    folder.append("study.toml", 'note = """never closed\n\n')
    last = folder.lines("study.toml")
    assert folder.problems() == [
        f"study.toml:{last}: is not valid TOML (Unterminated string (at end of document)); "
        "fix the syntax on this line"
    ]


def test_a_missing_key_is_reported_at_its_table(folder: StudyFolder) -> None:
    folder.edit("study.toml", "window_hours = 72 ", "")
    assert folder.problems() == [
        "study.toml:4: [study] has no window_hours (a number of hours > 0); "
        "add it: set it to the observation window, e.g. 72"
    ]


def test_a_missing_table(folder: StudyFolder) -> None:
    text = folder.text("study.toml")
    start, end = text.index("[ethics]"), text.index("[slots.business]")
    folder.write("study.toml", text[:start] + text[end:])
    assert folder.problems() == [
        "study.toml: there is no [ethics] table; add one (see docs/study-folder.md)"
    ]


def test_a_misspelt_key_is_one_problem_with_the_closest_key(folder: StudyFolder) -> None:
    folder.edit("study.toml", "window_hours = 72", "window_hour = 72")
    assert folder.problems() == [
        "study.toml:7: unknown key 'window_hour' in [study]; did you mean 'window_hours'?"
    ]


def test_a_misspelt_table_is_one_problem(folder: StudyFolder) -> None:
    folder.edit("study.toml", "[ethics]", "[ethic]")
    assert folder.problems() == [
        "study.toml:13: unknown key 'ethic' at the top level; did you mean 'ethics'?"
    ]


def test_an_unknown_key_far_from_any_is_listed_with_the_known_ones(folder: StudyFolder) -> None:
    folder.edit("study.toml", "[ethics]\n", "[ethics]\ncolour = 'blue'\n")
    assert folder.problems() == [
        "study.toml:14: unknown key 'colour' in [ethics]; "
        "known: max_probes_per_account, max_probes_per_account_per_day"
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            'name = "My replybench study"',
            'name = ""',
            "study.toml:5: name must be a non-empty string, not ''; "
            'name the study, e.g. "Benchmark 2026"',
        ),
        (
            "seed = 20260302",
            'seed = "x"',
            "study.toml:6: seed must be a whole number, not 'x'; "
            "pick any, e.g. 20260302: the plan follows from it",
        ),
        (
            "window_hours = 72",
            "window_hours = 0",
            "study.toml:7: window_hours must be a number of hours > 0, not 0; "
            "set it to the observation window, e.g. 72",
        ),
        (
            "window_hours = 72",
            "window_hours = true",
            "study.toml:7: window_hours must be a number of hours > 0, not true; "
            "set it to the observation window, e.g. 72",
        ),
        (
            "start = 2026-03-02",
            'start = "2026-03-02"',
            "study.toml:8: start must be a TOML date (no quotes), not '2026-03-02'; "
            "write the first sending day, e.g. 2026-03-02",
        ),
        (
            "probes_per_target = 3",
            "probes_per_target = 0",
            "study.toml:10: probes_per_target must be a whole number >= 1, not 0; "
            "set how many probes (rounds) each target gets, e.g. 3",
        ),
        (
            "probes_per_target = 3",
            "probes_per_target = 2.5",
            "study.toml:10: probes_per_target must be a whole number >= 1, not 2.5; "
            "set how many probes (rounds) each target gets, e.g. 3",
        ),
        (
            "min_spacing_hours = 2",
            "min_spacing_hours = -1",
            "study.toml:11: min_spacing_hours must be a number of hours >= 0, not -1; "
            "set the least time between two probes to one account, e.g. 2",
        ),
        (
            "max_probes_per_account = 12",
            "max_probes_per_account = 0",
            "study.toml:14: max_probes_per_account must be a whole number >= 1, not 0; "
            "cap the probes one account gets in the whole study, e.g. 60",
        ),
        (
            "max_probes_per_account_per_day = 2",
            "max_probes_per_account_per_day = 0",
            "study.toml:15: max_probes_per_account_per_day must be a whole number >= 1, not 0; "
            "cap the probes one account gets per UTC day, e.g. 4",
        ),
    ],
)
def test_a_value_of_the_wrong_type_or_range(
    folder: StudyFolder, old: str, new: str, problem: str
) -> None:
    folder.edit("study.toml", old, new)
    assert folder.problems() == [problem]


def test_zero_spacing_and_a_fractional_window_are_allowed(folder: StudyFolder) -> None:
    folder.edit("study.toml", "min_spacing_hours = 2", "min_spacing_hours = 0")
    folder.edit("study.toml", "window_hours = 72", "window_hours = 36.5")
    assert folder.problems() == []
    assert load_study(folder.path).window_hours == 36.5


def test_start_after_end(folder: StudyFolder) -> None:
    folder.edit("study.toml", "start = 2026-03-02", "start = 2026-03-30")
    assert folder.problems() == [
        "study.toml:8: start (2026-03-30) is after end (2026-03-22); "
        "the sending period runs from start to end: swap them"
    ]


def test_a_one_day_period_is_allowed(folder: StudyFolder) -> None:
    folder.edit("study.toml", "end = 2026-03-22", "end = 2026-03-02")
    assert folder.problems() == []


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            'days = ["sat", "sun"]',
            'days = ["saturday", "sun"]',
            "study.toml:28: slot 'weekend': 'saturday' is not a day; did you mean 'sat'?",
        ),
        (
            'days = ["sat", "sun"]',
            'days = ["sat", "holiday"]',
            "study.toml:28: slot 'weekend': 'holiday' is not a day; "
            "use mon, tue, wed, thu, fri, sat, sun",
        ),
        (
            'days = ["sat", "sun"]',
            "days = []",
            "study.toml:28: days must be a non-empty list of days, not []; "
            'list them, e.g. ["mon", "tue", "wed", "thu", "fri"]',
        ),
        (
            'start = "10:00"',
            'start = "10h"',
            "study.toml:29: slot 'weekend': start '10h' is not a time \"HH:MM\" (24-hour clock); "
            'write e.g. "09:00"',
        ),
        (
            'start = "10:00"',
            'start = "9:00"',
            "study.toml:29: slot 'weekend': start '9:00' is not a time \"HH:MM\" (24-hour clock); "
            'write e.g. "09:00"',
        ),
        (
            'end = "18:00"\n\n[channels.x]',
            'end = "10:00"\n\n[channels.x]',
            "study.toml:30: slot 'weekend': end 10:00 is not after start 10:00; "
            "a slot cannot cross midnight: end it later or split it in two",
        ),
    ],
)
def test_slot_rules(folder: StudyFolder, old: str, new: str, problem: str) -> None:
    folder.edit("study.toml", old, new)
    assert folder.problems() == [problem]


def test_a_study_needs_at_least_one_slot(folder: StudyFolder) -> None:
    text = folder.text("study.toml")
    start, end = text.index("[slots.business]"), text.index("[channels.x]")
    folder.write("study.toml", text[:start] + "[slots]\n\n" + text[end:])
    assert folder.problems() == [
        "study.toml:17: [slots] is empty; add at least one, e.g. [slots.business]"
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            'account = "replybenchprobe"',
            'account = "@replybenchprobe"',
            "study.toml:34: account must be the probe account's handle without '@' "
            "(1-15 letters, digits, '_'), not '@replybenchprobe'; e.g. \"replybenchprobe\"",
        ),
        (
            'api_base = "https://api.x.com"',
            'api_base = "api.x.com"',
            "study.toml:33: api_base must be an http(s) URL, not 'api.x.com'; "
            'e.g. "https://api.x.com"',
        ),
        (
            'access_token_env = "REPLYBENCH_X_ACCESS_TOKEN"',
            'access_token_env = "AAAA-secret-token"',
            "study.toml:39: access_token_env must be the name of an environment variable, not "
            'the value given (not shown); e.g. "REPLYBENCH_X_ACCESS_TOKEN"; the access token '
            "itself never goes in the folder",
        ),
    ],
)
def test_channel_rules(folder: StudyFolder, old: str, new: str, problem: str) -> None:
    folder.edit("study.toml", old, new)
    assert folder.problems() == [problem]


def test_an_unsupported_channel_table(folder: StudyFolder) -> None:
    folder.edit("study.toml", "[channels.x]", "[channels.twitter]")
    folder.edit("targets.csv", "DE,x,NorthwindAir_DE", "DE,twitter,NorthwindAir_DE")
    assert folder.problems() == [
        "study.toml:32: channel 'twitter' is not supported; "
        "use one of: x, mastodon, bluesky, email, manual",
        "targets.csv:2: channel 'x' is not in study.toml's [channels]; add a [channels.x] table",
        "targets.csv:4: channel 'x' is not in study.toml's [channels]; add a [channels.x] table",
        "targets.csv:5: channel 'x' is not in study.toml's [channels]; add a [channels.x] table",
        "targets.csv:6: channel 'x' is not in study.toml's [channels]; add a [channels.x] table",
        "targets.csv:7: channel 'x' is not in study.toml's [channels]; add a [channels.x] table",
    ]


def test_a_country_code_that_is_not_iso(folder: StudyFolder) -> None:
    folder.edit("study.toml", "[countries.DE]", "[countries.UK]")
    folder.edit("study.toml", '"Germany"', '"United Kingdom"')
    folder.edit("study.toml", '"Europe/Berlin"', '"Europe/London"')
    folder.edit("study.toml", 'language = "de"', 'language = "en"')
    problems = folder.problems()
    assert problems[0] == (
        "study.toml:47: country 'UK' is not an ISO 3166-1 alpha-2 code; did you mean 'GB'?"
    )
    # the targets in DE now name a country the study does not configure
    assert problems[1] == (
        "targets.csv:3: country 'DE' is not in study.toml; add a [countries.DE] table "
        "with name, timezone and language"
    )


def test_a_lower_case_country_code(folder: StudyFolder) -> None:
    folder.edit("study.toml", "[countries.US]", "[countries.us]")
    assert folder.problems()[0] == (
        "study.toml:42: country 'us' is not an ISO 3166-1 alpha-2 code; did you mean 'US'?"
    )


@pytest.mark.parametrize(
    ("zone", "problem"),
    [
        (
            "Europe/Berln",
            "study.toml:49: timezone 'Europe/Berln' of DE is not an IANA time zone; "
            "did you mean 'Europe/Berlin'?",
        ),
        (
            "europe/berlin",
            "study.toml:49: timezone 'europe/berlin' of DE is not an IANA time zone; "
            "did you mean 'Europe/Berlin'?",
        ),
        (
            "CET+1",
            "study.toml:49: timezone 'CET+1' of DE is not an IANA time zone; did you mean 'CET'?",
        ),
        (
            "Germany time",
            "study.toml:49: timezone 'Germany time' of DE is not an IANA time zone; "
            "use a name like 'Europe/Berlin'",
        ),
    ],
)
def test_an_unknown_time_zone(folder: StudyFolder, zone: str, problem: str) -> None:
    folder.edit("study.toml", '"Europe/Berlin"', f'"{zone}"')
    assert folder.problems() == [problem]


def test_a_local_name_is_what_the_country_placeholder_becomes(folder: StudyFolder) -> None:
    folder.edit(
        "study.toml", 'name = "United States"\n', 'name = "United States"\nlocal_name = "the US"\n'
    )
    us = load_study(folder.path).country("US")
    assert (us.name, us.local_name, us.text_name) == ("United States", "the US", "the US")


@pytest.mark.parametrize(
    ("value", "shown"), [('""', "''"), ('" "', "' '"), ("3", "3"), ('["the US"]', "['the US']")]
)
def test_a_local_name_that_is_not_a_name(folder: StudyFolder, value: str, shown: str) -> None:
    folder.edit(
        "study.toml", 'name = "United States"\n', f'name = "United States"\nlocal_name = {value}\n'
    )
    assert folder.problems() == [
        f"study.toml:44: local_name must be a non-empty string, not {shown}; write the name as "
        'it reads inside a sentence in the country\'s language, e.g. "the UK", or leave the '
        "key out to use name"
    ]


def test_a_misspelt_local_name(folder: StudyFolder) -> None:
    folder.edit(
        "study.toml", 'name = "United States"\n', 'name = "United States"\nlocalname = "the US"\n'
    )
    assert folder.problems() == [
        "study.toml:44: unknown key 'localname' in [countries.US]; did you mean 'local_name'?"
    ]


def test_the_length_check_fills_the_country_with_the_longest_name_of_its_language(
    folder: StudyFolder,
) -> None:
    # '@' + 15 + ' Hi from ' (9) + 'United States' (13) + '.' + 242 = 281 as X counts
    old = "Hi, I moved last month. How can I update the postal address on my account? I can't "
    folder.edit("scripts.csv", old + "find the option online.", "Hi from {country}." + "a" * 242)
    assert folder.problems() == [
        "scripts.csv:2: script 'address' (en) is 281 characters long as X counts them (with "
        "the longest handle and country name), over the limit of 280; shorten it by 1"
    ]
    # a shorter local_name is what {country} becomes, so the text fits
    folder.edit(
        "study.toml", 'name = "United States"\n', 'name = "United States"\nlocal_name = "the US"\n'
    )
    assert folder.problems() == []
    # the German name does not count for the English text
    folder.edit("study.toml", 'name = "Germany"', 'name = "Bundesrepublik Deutschland"')
    assert folder.problems() == []


@pytest.mark.parametrize(
    ("language", "hint"),
    [
        ("DE", "did you mean 'de'?"),
        ("de-DE", "did you mean 'de'?"),
        ("ger", "use two lower-case letters, e.g. 'de'"),
    ],
)
def test_a_bad_language_code(folder: StudyFolder, language: str, hint: str) -> None:
    folder.edit("study.toml", 'language = "de"', f'language = "{language}"')
    assert folder.problems() == [
        f"study.toml:50: language '{language}' of DE is not an ISO 639-1 code; {hint}"
    ]


def test_a_country_code_given_as_a_language(folder: StudyFolder) -> None:
    folder.edit("study.toml", "[countries.DE]", "[countries.JP]")
    folder.edit("study.toml", 'language = "de"', 'language = "jp"')
    assert "study.toml:50: language 'jp' of JP is not an ISO 639-1 code; did you mean 'ja'?" in (
        folder.problems()
    )


# --- targets.csv --------------------------------------------------------------------------

HEADER = "the header is 'brand,brand_name,sector,country,channel,handle,scope'"


def test_a_missing_column(folder: StudyFolder) -> None:
    folder.write(
        "targets.csv",
        "".join(line.rsplit(",", 1)[0] + "\n" for line in folder.text("targets.csv").splitlines()),
    )
    assert folder.problems() == [f"targets.csv:1: has no column 'scope'; add it ({HEADER})"]


def test_an_extra_column(folder: StudyFolder) -> None:
    folder.write(
        "targets.csv",
        "".join(line + ",\n" for line in folder.text("targets.csv").splitlines()).replace(
            "scope,\n", "scope,notes\n"
        ),
    )
    assert folder.problems() == [
        f"targets.csv:1: has an unknown column 'notes'; remove it ({HEADER})"
    ]


def test_a_misspelt_column_is_one_problem(folder: StudyFolder) -> None:
    folder.edit("targets.csv", ",scope\n", ",scop\n")
    assert folder.problems() == [
        f"targets.csv:1: has the column 'scop'; rename it 'scope' ({HEADER})"
    ]


def test_a_row_with_too_few_values(folder: StudyFolder) -> None:
    folder.edit("targets.csv", "DE,x,,none", "DE,x,none")
    assert folder.problems() == [
        "targets.csv:7: has 6 values but the header has 7; give every row all of them "
        "(an empty one is just ',,') and quote a value with a comma"
    ]


def test_an_unclosed_quote_is_malformed_csv_at_the_line_it_opens(folder: StudyFolder) -> None:
    folder.edit("targets.csv", "alder,Alder Bank,banking,DE", 'alder,"Alder Bank,banking,DE')
    assert folder.problems() == [
        "targets.csv:5: is not valid CSV (unexpected end of data); check the quotes from this "
        'line on: quote a whole value, and double a quote inside one ("")'
    ]


def test_line_numbers_are_physical_lines(folder: StudyFolder) -> None:
    # a quoted value over two lines and a blank line: the broken row is on physical line 10
    folder.edit("targets.csv", "Northwind Airways,airline,US", '"Northwind\nAirways",airline,US')
    folder.append("targets.csv", "\nkite,Kite,toys,US,x,@Kite,local\n")
    problems = folder.problems()
    assert (
        problems[-1] == "targets.csv:10: handle '@Kite' starts with '@'; write it without: 'Kite'"
    )
    assert problems[0] == (  # a name over two lines would break every one-line message
        "targets.csv:2: brand_name holds a control character (U+000A); write it as plain text "
        "on one line"
    )


RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "Kaito\u202eevil" shows as "Kaitolive"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("Northwind Airways,airline", f"Northwind{RLO}syawriA,airline",
         "brand_name holds a hidden direction control (U+202E) that reorders the text shown "
         "around it; delete it (retype the value if you cannot see it)"),
        ("Northwind Airways,airline", f"{'N' * 10_000},airline",
         "brand_name is 10,000 characters long; shorten it to at most 100"),
        ("Northwind Airways,airline", f"Northwind Airways,air{chr(0x2067)}line",
         "sector holds a hidden direction control (U+2067) that reorders the text shown around "
         "it; delete it (retype the value if you cannot see it)"),
    ],
)  # fmt: skip
def test_a_name_that_cannot_be_shown_as_it_is(
    folder: StudyFolder, old: str, new: str, problem: str
) -> None:
    text = folder.text("targets.csv")
    lines = [n for n, row in enumerate(text.splitlines(), 1) if old in row]
    folder.write("targets.csv", text.replace(old, new))
    assert folder.problems() == [f"targets.csv:{n}: {problem}" for n in lines]


def test_names_in_study_toml_cannot_carry_direction_controls_or_run_long(
    folder: StudyFolder,
) -> None:
    folder.edit("study.toml", 'name = "Germany"', f'name = "Germany{RLO}"')
    folder.edit("study.toml", 'name = "My replybench study"', f'name = "{"x" * 201}"')
    assert folder.problems() == [
        "study.toml:5: name is 201 characters long; shorten it to at most 200",
        f"study.toml:{folder.line_of('study.toml', RLO)}: name holds a hidden direction control "
        "(U+202E) that reorders the text shown around it; delete it (retype the value if you "
        "cannot see it)",
    ]


def test_a_long_value_is_shown_cut_short(folder: StudyFolder) -> None:
    folder.edit("study.toml", "seed = 20260302", f'seed = "{"9" * 5000}"')
    [problem] = folder.problems()
    assert "... (5,002 characters)" in problem and len(problem) < 200


def test_a_brand_name_that_differs_between_rows(folder: StudyFolder) -> None:
    folder.edit("targets.csv", "alder,Alder Bank,banking,DE", "alder,Alder Bank AG,banking,DE")
    assert folder.problems() == [
        "targets.csv:5: brand 'alder' is named 'Alder Bank AG' here but 'Alder Bank' on line 4; "
        "use one brand_name on every row of a brand"
    ]


def test_a_brand_that_is_not_an_identifier(folder: StudyFolder) -> None:
    folder.edit(
        "targets.csv", "pebble,Pebble Mobile,telecom,DE", "Pebble Mobile,Pebble Mobile,telecom,DE"
    )
    assert folder.problems() == [
        "targets.csv:7: brand 'Pebble Mobile' is not lower-case letters, digits, '-', '_'; "
        "use e.g. 'pebble-mobile'"
    ]


def test_a_duplicate_target(folder: StudyFolder) -> None:
    folder.append("targets.csv", "alder,Alder Bank,banking,DE,x,AlderBankDE,local\n")
    assert folder.problems() == [
        "targets.csv:8: target alder, DE, x is also on line 5; keep one row per brand, country "
        "and channel"
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "US,x,PebbleMobile,local",
            "UK,x,PebbleMobile,local",
            "targets.csv:6: country 'UK' is not an ISO 3166-1 alpha-2 code; did you mean 'GB'?",
        ),
        (
            "US,x,PebbleMobile,local",
            "us,x,PebbleMobile,local",
            "targets.csv:6: country 'us' is not an ISO 3166-1 alpha-2 code; did you mean 'US'?",
        ),
        (
            "US,x,PebbleMobile,local",
            "FR,x,PebbleMobile,local",
            "targets.csv:6: country 'FR' is not in study.toml; add a [countries.FR] table with "
            "name, timezone and language",
        ),
        (
            "US,x,PebbleMobile,local",
            "US,X,PebbleMobile,local",
            "targets.csv:6: channel 'X' is not in study.toml's [channels]; did you mean 'x'?",
        ),
        (
            "US,x,PebbleMobile,local",
            "US,x,PebbleMobile,Local",
            "targets.csv:6: scope 'Local' is not local, global or none; did you mean 'local'?",
        ),
        (
            "US,x,PebbleMobile,local",
            "US,x,PebbleMobile,regional",
            "targets.csv:6: scope 'regional' is not local, global or none; "
            "see docs/study-folder.md",
        ),
        (
            "US,x,PebbleMobile,local",
            "US,x,,local",
            "targets.csv:6: handle is empty but scope is local; add the account's handle, or "
            "set the scope to none if the brand has no account here",
        ),
        (
            "DE,x,,none",
            "DE,x,PebbleMobile,none",
            "targets.csv:7: handle 'PebbleMobile' is given but scope is none; empty the handle, "
            "or set the scope to local or global",
        ),
        (
            "US,x,PebbleMobile,local",
            "US,x,@PebbleMobile,local",
            "targets.csv:6: handle '@PebbleMobile' starts with '@'; write it without: "
            "'PebbleMobile'",
        ),
        (
            "US,x,PebbleMobile,local",
            "US,x,PebbleMobileUSA_1,local",
            "targets.csv:6: handle 'PebbleMobileUSA_1' is not an X handle (1-15 letters, digits "
            "or '_'); copy it from the account's profile",
        ),
        (
            "US,x,PebbleMobile,local",
            "US,x,Pebble.Mobile,local",
            "targets.csv:6: handle 'Pebble.Mobile' is not an X handle (1-15 letters, digits "
            "or '_'); copy it from the account's profile",
        ),
    ],
)
def test_target_rules(folder: StudyFolder, old: str, new: str, problem: str) -> None:
    folder.edit("targets.csv", old, new)
    assert folder.problems() == [problem]


# --- scripts.csv --------------------------------------------------------------------------


def test_a_script_without_a_language_a_country_uses(folder: StudyFolder) -> None:
    text = folder.text("scripts.csv").splitlines(keepends=True)
    folder.write("scripts.csv", "".join(text[:4]))  # drops weekend's de row
    assert folder.problems() == [
        "scripts.csv: script 'weekend' has no text in 'de' (used by DE); "
        "add a row 'weekend,...,de,...'"
    ]


def test_a_language_used_by_several_countries_names_them_all(folder: StudyFolder) -> None:
    folder.append(
        "study.toml",
        '\n[countries.AT]\nname = "Austria"\ntimezone = "Europe/Vienna"\nlanguage = "de"\n',
    )
    folder.append("targets.csv", "alder,Alder Bank,banking,AT,x,AlderBank,global\n")
    folder.edit(
        "scripts.csv",
        'support hours,de,"{handle} Hallo, wenn',
        'support hours,fr,"{handle} Hallo, wenn',
    )
    assert folder.problems() == [
        "scripts.csv: script 'weekend' has no text in 'de' (used by AT, DE); "
        "add a row 'weekend,...,de,...'"
    ]


def test_a_country_with_only_unprobed_targets_still_needs_its_language(
    folder: StudyFolder,
) -> None:
    folder.append(
        "study.toml", '\n[countries.JP]\nname = "Japan"\ntimezone = "Asia/Tokyo"\nlanguage = "ja"\n'
    )
    folder.append("targets.csv", "pebble,Pebble Mobile,telecom,JP,x,,none\n")
    assert folder.problems() == [
        "scripts.csv: script 'address' has no text in 'ja' (used by JP); "
        "add a row 'address,...,ja,...'",
        "scripts.csv: script 'delivery' has no text in 'ja' (used by JP); "
        "add a row 'delivery,...,ja,...'",
        "scripts.csv: script 'weekend' has no text in 'ja' (used by JP); "
        "add a row 'weekend,...,ja,...'",
    ]


def test_a_duplicate_script_language_row(folder: StudyFolder) -> None:
    folder.append("scripts.csv", 'address,account,en,"{handle} Hi again."\n')
    assert folder.problems() == [
        "scripts.csv:8: script 'address' has a second text in 'en' (the first is on line 2); "
        "keep one row per script and language"
    ]


def test_a_category_that_differs_between_rows(folder: StudyFolder) -> None:
    folder.edit("scripts.csv", "address,account,de", "address,Konto,de")
    assert folder.problems() == [
        "scripts.csv:3: script 'address' has category 'Konto' here but 'account' on line 2; "
        "use one category on every row of a script"
    ]


def test_a_script_id_that_is_not_an_identifier(folder: StudyFolder) -> None:
    folder.write("scripts.csv", folder.text("scripts.csv").replace("weekend,", "weekend help,"))
    assert folder.problems() == [
        "scripts.csv:4: script 'weekend help' is not letters, digits, '-', '_'; "
        "use e.g. 'weekend-help'",
        "scripts.csv:5: script 'weekend help' is not letters, digits, '-', '_'; "
        "use e.g. 'weekend-help'",
    ]


def test_a_bad_language_in_scripts(folder: StudyFolder) -> None:
    folder.edit("scripts.csv", "address,account,de", "address,account,DE")
    assert folder.problems() == [
        # the row with the bad code cannot stand for German
        "scripts.csv: script 'address' has no text in 'de' (used by DE); "
        "add a row 'address,...,de,...'",
        "scripts.csv:3: language 'DE' is not an ISO 639-1 code; did you mean 'de'?",
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "I moved last month.",
            "I moved last month, write me at jo@example.org.",
            "scripts.csv:2: script 'address' (en) contains an e-mail address "
            "('jo@example.org'); remove personal data from scripts",
        ),
        (
            "I moved last month.",
            "I moved last month, call me on +1 212 555 0199.",
            "scripts.csv:2: script 'address' (en) contains a phone number ('+1 212 555 0199'); "
            "remove personal data from scripts",
        ),
        (
            "I can't find the option online.",
            "I can't find the option on northwind.com.",
            "scripts.csv:2: script 'address' (en) contains a URL ('northwind.com'); "
            "remove links from scripts",
        ),
        (
            "{handle} Hi, I moved",
            "Hi, I moved",
            "scripts.csv:2: script 'address' (en) does not contain {handle}; start the text "
            "with '{handle} ' so it names the account",
        ),
        (
            "I moved last month.",
            "I moved last month ({date}).",
            "scripts.csv:2: script 'address' (en) has an unknown placeholder '{date}'; "
            "the placeholders are {handle} and {country}",
        ),
        (
            "I moved last month.",
            "I moved last month." + " Please help." * 20,
            "scripts.csv:2: script 'address' (en) is 383 characters long as X counts them "
            "(with the longest handle), over the limit of 280; shorten it by 103",
        ),
    ],
)
def test_script_lint_problems_name_the_script_and_language(
    folder: StudyFolder, old: str, new: str, problem: str
) -> None:
    folder.edit("scripts.csv", old, new)
    assert folder.problems() == [problem]


def test_an_empty_script_text(folder: StudyFolder) -> None:
    folder.edit(
        "scripts.csv",
        '"{handle} Hello, if I have a problem on a Sunday, what is the quickest way to reach a '
        'person on your team?"',
        "",
    )
    assert folder.problems() == [
        "scripts.csv:4: script 'weekend' (en) has no text; write the inquiry after '{handle} '"
    ]


def test_problems_are_sorted_by_file_then_line(folder: StudyFolder) -> None:
    folder.edit("targets.csv", "DE,x,,none", "DE,x,Pebble,none")
    folder.edit("targets.csv", "US,x,AlderBank", "USA,x,AlderBank")
    folder.edit("study.toml", "seed = 20260302", "seed = 1.5")
    folder.edit("study.toml", "window_hours = 72", "window_hours = -1")
    folder.edit("scripts.csv", "address,account,de", "address,Konto,de")
    where = [p.split(": ")[0] for p in folder.problems()]
    assert where == [
        "scripts.csv:3",
        "study.toml:6",
        "study.toml:7",
        "targets.csv:4",
        "targets.csv:7",
    ]


def test_every_problem_in_one_table_is_reported(folder: StudyFolder) -> None:
    folder.edit("study.toml", 'name = "Germany"', "name = 3")
    folder.edit("study.toml", '"Europe/Berlin"', '"Asia/Tokio"')
    folder.edit("study.toml", 'language = "de"', 'language = "jp"')
    assert folder.problems() == [
        'study.toml:48: name must be a non-empty string, not 3; e.g. "Germany"',
        "study.toml:49: timezone 'Asia/Tokio' of DE is not an IANA time zone; "
        "did you mean 'Asia/Tokyo'?",
        "study.toml:50: language 'jp' of DE is not an ISO 639-1 code; did you mean 'ja'?",
    ]


def test_a_csv_saved_with_a_byte_order_mark_loads(folder: StudyFolder) -> None:
    path = folder.path / "targets.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert folder.problems() == []


def test_a_csv_that_is_not_utf8(folder: StudyFolder) -> None:
    path = folder.path / "scripts.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    assert folder.problems() == ['scripts.csv: is not UTF-8 text; save it as UTF-8 ("CSV UTF-8")']
