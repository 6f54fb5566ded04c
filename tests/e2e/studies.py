"""Small study folders for end-to-end runs, built from the `init` scaffold, and the pieces a
personas study adds to one (`[personas.*]` tables, further wordings of the scripts)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import httpx

from study.scaffold import init_study

BRANDS = ["acorn", "birch", "cedar", "dune", "ember", "fjord", "grove", "heath"]


def short_study(path: Path, *, window_hours: float = 6, brands: int = 8) -> Path:
    """One round on one weekday, business hours only, short windows: a campaign of a few
    virtual hours, so a crash drill at moderate speed spans many kills."""
    init_study(path)
    toml = (path / "study.toml").read_text(encoding="utf-8")
    toml = re.sub(r"window_hours = \d+", f"window_hours = {window_hours}", toml)
    toml = re.sub(r"start = 2026-03-02", "start = 2026-03-03", toml)
    toml = re.sub(r"end = 2026-03-22", "end = 2026-03-03", toml)
    toml = re.sub(r"probes_per_target = \d+", "probes_per_target = 1", toml)
    toml = re.sub(r"min_spacing_hours = \d+", "min_spacing_hours = 0", toml)
    toml = re.sub(r"\[slots\.evening\].*?(?=\[channels)", "", toml, flags=re.S)
    (path / "study.toml").write_text(toml, encoding="utf-8")
    rows = ["brand,brand_name,sector,country,channel,handle,scope"]
    for b in BRANDS[:brands]:
        name = b.capitalize()
        rows.append(f"{b},{name} Co,retail,US,x,{name}_US,local")
        rows.append(f"{b},{name} Co,retail,DE,x,{name}_DE,local")
    (path / "targets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (path / "simulator.toml").write_text(
        """# Quick, talkative bots for end-to-end tests.
[defaults]
answer_rate = 0.7
median_minutes = 40
sigma = 0.8
days = "all"
opens = "00:00"
closes = "24:00"
auto_ack_share = 0.2
redirect_share = 0.2
dm_share = 0.2
""",
        encoding="utf-8",
    )
    return path


# -- the X credential ---------------------------------------------------------------------

# The OAuth 1.0a keys `init` (and the example studies) write in [channels.x], with their comment.
_OAUTH1_KEYS = re.compile(
    r"# OAuth 1\.0a user context.*?\naccess_token_secret_env = \"[A-Z0-9_]+\"\n", re.S
)
BEARER = 'token_env = "REPLYBENCH_X_TOKEN"'


def swap_x_credential(path: Path, lines: str = BEARER) -> Path:
    """The study with `lines` naming its X credential in place of init's OAuth 1.0a keys: by
    default a bearer token in REPLYBENCH_X_TOKEN (tests of a missing or refused token), or
    e.g. 'client_id_env = "..."' for OAuth 2.0."""
    toml = (path / "study.toml").read_text(encoding="utf-8")
    assert len(_OAUTH1_KEYS.findall(toml)) == 1, "the study names no OAuth 1.0a keys"
    toml = _OAUTH1_KEYS.sub(lambda _: lines + "\n", toml)
    (path / "study.toml").write_text(toml, encoding="utf-8")
    return path


# -- personas ------------------------------------------------------------------------------

Persona = Mapping[str, str | int | bool]  # a [personas.NAME] table's keys, in order
# A team of three on X: anna asks the German brands, ben and cleo the American ones.
TEAM: dict[str, Persona] = {
    "anna": {
        "channel": "x", "account": "anna_probe", "token_env": "ANNA_X_TOKEN",
        "country": "DE", "gender": "f",
    },
    "ben": {
        "channel": "x", "account": "ben_probe", "token_env": "BEN_X_TOKEN",
        "country": "US", "gender": "m",
    },
    "cleo": {
        "channel": "x", "account": "cleo_probe", "token_env": "CLEO_X_TOKEN",
        "country": "US", "gender": "f",
    },
}  # fmt: skip
NAMES = tuple(TEAM)
# A second wording of each English script of short_study: ben and cleo both post in English
# on X.
VARIANTS = """\
address,account,en,"{handle} Hello, I have a new postal address since last month. Where do I change it on my account?",2
weekend,support hours,en,"{handle} Hi, what is the fastest way to reach someone from your team on a Sunday if something goes wrong?",2
delivery,order status,en,"{handle} Hello, my online order from last week has not arrived and I have had no news. Where is it?",2
""".splitlines()  # noqa: E501


def persona_tables(personas: Mapping[str, Persona], *, design: str | None = "by_country") -> str:
    """study.toml text: an [assignment] table with `design` (none when None), then one
    [personas.NAME] table per persona with its keys in order."""
    parts = [f'\n[assignment]\ndesign = "{design}"\n'] if design is not None else []
    for name, keys in personas.items():
        lines = [f"{k} = {_toml_value(v)}" for k, v in keys.items()]
        parts.append(f"\n[personas.{name}]\n" + "".join(line + "\n" for line in lines))
    return "".join(parts)


def _toml_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)


def add_personas(
    path: Path,
    personas: Mapping[str, Persona],
    *,
    channels: str = "",
    design: str | None = "by_country",
) -> Path:
    """Append `channels` (further [channels.*] tables, as text) and the personas' tables to
    the study folder's study.toml."""
    with (path / "study.toml").open("a", encoding="utf-8") as f:
        f.write(channels + persona_tables(personas, design=design))
    return path


def add_wordings(path: Path, rows: Iterable[str], *, first: str = "1") -> Path:
    """Give scripts.csv a variant column (`first` on its rows: "" reads as 1) and append
    `rows` (each ending in its variant)."""
    scripts = (path / "scripts.csv").read_text(encoding="utf-8").splitlines()
    lines = [scripts[0] + ",variant", *(r + "," + first for r in scripts[1:]), *rows]
    (path / "scripts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def add_targets(path: Path, rows: Iterable[str], *, replace: bool = False) -> Path:
    """Append `rows` to targets.csv (or, with `replace`, put them under its header)."""
    old = (path / "targets.csv").read_text(encoding="utf-8").splitlines()
    lines = [*(old[:1] if replace else old), *rows]
    (path / "targets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def team_study(path: Path) -> Path:
    """short_study with TEAM (by_country) and the English scripts worded twice."""
    return add_wordings(add_personas(short_study(path), TEAM), VARIANTS)


# -- one global account per channel, asked from three countries ---------------------------

GLOBAL_BRANDS = ("acorn", "birch", "cedar", "dune", "ember", "fjord")
COUNTRIES = {  # code: (name, zone, language)
    "DE": ("Germany", "Europe/Berlin", "de"),
    "JP": ("Japan", "Asia/Tokyo", "ja"),
    "US": ("United States", "America/New_York", "en"),
}
SCRIPTS = """script,category,language,text
delivery,order status,en,"{handle} Hi, I ordered online a week ago and have heard nothing since. Where is my order?"
delivery,order status,de,"{handle} Hallo, ich habe vor einer Woche online bestellt und seitdem nichts gehört. Wo ist meine Bestellung?"
delivery,order status,ja,"{handle} こんにちは。一週間前にオンラインで注文しましたが、その後連絡がありません。注文はどうなっていますか？"
account,account help,en,"{handle} Hi, I can't log in to my account and the reset e-mail never arrives. What can I do?"
account,account help,de,"{handle} Hallo, ich komme nicht in mein Konto und die E-Mail zum Zurücksetzen kommt nie an. Was kann ich tun?"
account,account help,ja,"{handle} こんにちは。アカウントにログインできず、リセットのメールも届きません。どうすればよいですか？"
"""  # noqa: E501
# Redirects followed by a DM hours later, and answers by DM alone: every DM of a global
# account arrives while its other countries' probes are open.
BOTS = """[defaults]
answer_rate = 0.9
median_minutes = 240
sigma = 0.8
days = "all"
opens = "00:00"
closes = "24:00"
auto_ack_share = 0.1
redirect_share = 0.5
redirect_dm_rate = 1.0
dm_followup_minutes = 900
dm_share = 0.3

[simulator]
stranger_rate = 0.1
"""


def global_accounts_study(
    path: Path, *, window_hours: int = 72, separate_windows: bool = False
) -> Path:
    """Six brands, each with one global account per channel, asked from DE, JP and US in
    each of two rounds (two scripts, a week each), business hours, and bots that answer
    mostly by redirect and DM (tests/e2e/test_dm_attribution.py)."""
    path.mkdir(parents=True)
    countries = "".join(
        f'[countries.{code}]\nname = "{name}"\ntimezone = "{zone}"\nlanguage = "{lang}"\n\n'
        for code, (name, zone, lang) in COUNTRIES.items()
    )
    (path / "study.toml").write_text(
        f"""[study]
name = "Global accounts answering by DM (test)"
seed = 424242
window_hours = {window_hours}
separate_windows = {str(separate_windows).lower()}
start = 2026-03-02
end = 2026-03-13
probes_per_target = 2
min_spacing_hours = 1

[ethics]
max_probes_per_account = 6
max_probes_per_account_per_day = 4

[slots.business]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "17:00"

[channels.x]
api_base = "https://api.x.com"
account = "replybenchprobe"
token_env = "REPLYBENCH_X_TOKEN"

[channels.mastodon]
api_base = "https://mastodon.social"
account = "replybench"
token_env = "REPLYBENCH_MASTODON_TOKEN"

{countries}""",
        encoding="utf-8",
    )
    rows = ["brand,brand_name,sector,country,channel,handle,scope"]
    for b in GLOBAL_BRANDS:
        for c in COUNTRIES:
            rows.append(f"{b},{b.capitalize()} Co,retail,{c},x,{b.capitalize()},global")
            rows.append(f"{b},{b.capitalize()} Co,retail,{c},mastodon,{b}@social.{b}.test,global")
    (path / "targets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (path / "scripts.csv").write_text(SCRIPTS, encoding="utf-8")
    (path / "simulator.toml").write_text(BOTS, encoding="utf-8")
    return path


Handler = Callable[[httpx.Request], httpx.Response]


def counting(handle: Handler, statuses: Counter[int]) -> Handler:
    """`handle`, counting its answers by status (the runner must never meet a 429: it paces
    itself to the platforms' limits, probes.pacing)."""

    def counted(request: httpx.Request) -> httpx.Response:
        response = handle(request)
        statuses[response.status_code] += 1
        return response

    return counted
