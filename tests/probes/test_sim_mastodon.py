"""The simulator's Mastodon face: the recorded shapes, its behaviour, its brand bots, and a
whole campaign through the Mastodon channel, the runner and the journal on a manual clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from probes.channels.mastodon.adapter import MastodonChannel
from probes.runner import Runner, RunnerConfig
from probes.sim import Faults, Ledger, XPlatform, read_ledger
from probes.sim.dispatch import Dispatch, faces_for
from probes.sim.faults import answer
from probes.sim.mastodon.face import MastodonPlatform
from probes.sim.mastodon.views import Budget
from probes.sim.profiles import parse_settings
from probes.sim.texts import TEMPLATES, Say
from study.clock import ManualClock
from study.journal.campaign import Journal
from study.load import load_study
from study.model import ChannelSettings, Country, Ethics, Scope, Slot, Study, Target
from study.paths import ledger_path
from study.plan import make_plan
from study.scaffold import init_study
from study.timeutil import parse_iso
from tests.probes.cassette import FIXTURES, load_cassette

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
INSTANCE = "mastodon.example"
BASE = "https://mastodon.example"
STATUSES = "/api/v1/statuses"
NOTES = "/api/v1/notifications"
ISO_RESET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
RATE_HEADERS = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}
COUNTRIES = (
    Country("DE", "Germany", "Europe/Berlin", "de"),
    Country("JP", "Japan", "Asia/Tokyo", "ja"),
    Country("US", "United States", "America/New_York", "en"),
)
ALWAYS = parse_settings(
    {"defaults": {"answer_rate": 1.0, "redirect_share": 0.0, "dm_share": 0.0, "days": "all",
                  "opens": "00:00", "closes": "24:00", "median_minutes": 30}},
    seed=1,
)  # fmt: skip


def small_study() -> Study:
    """acme: a local account per country (DE's on the probe's instance); globex: one global
    account for every country, on X and on Mastodon."""
    targets = [
        Target("acme", "Acme", "retail", "DE", "mastodon", f"acme_de@{INSTANCE}", Scope.LOCAL),
        Target("acme", "Acme", "retail", "JP", "mastodon", "acme_jp@social.example", Scope.LOCAL),
        Target("acme", "Acme", "retail", "US", "mastodon", "acme_us@social.example", Scope.LOCAL),
    ]
    for c in COUNTRIES:
        targets.append(Target("globex", "Globex", "air", c.code, "mastodon",
                              "globex@social.example", Scope.GLOBAL))  # fmt: skip
        targets.append(Target("globex", "Globex", "air", c.code, "x", "Globex", Scope.GLOBAL))
    return Study(
        name="mastodon sim test", seed=7, window_hours=72, start=date(2026, 3, 2),
        end=date(2026, 3, 13), probes_per_target=1, min_spacing_hours=2, ethics=Ethics(60, 4),
        slots=(Slot("business", frozenset(range(5)), time(9), time(17)),),
        channels=(ChannelSettings("mastodon", BASE, "replybench", "MASTODON_TOKEN"),
                  ChannelSettings("x", "https://api.x.test", "replybench", "X_TOKEN")),
        countries=COUNTRIES, targets=tuple(targets), scripts=(),
    )  # fmt: skip


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def platform(clock: ManualClock) -> MastodonPlatform:
    return MastodonPlatform(small_study(), clock, bots=False)


def client_for(platform: MastodonPlatform, token: str | None = "secret") -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    transport = httpx.MockTransport(platform.handle)
    return httpx.Client(transport=transport, base_url=BASE, headers=headers)


@pytest.fixture
def client(platform: MastodonPlatform) -> Iterator[httpx.Client]:
    with client_for(platform) as c:
        yield c


def post(client: httpx.Client, text: str, **more: str) -> dict[str, Any]:
    response = client.post(STATUSES, json={"status": text, **more})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def recorded(
    name: str, method: str, path: str, status: int | None = None
) -> tuple[int, dict[str, str], Any]:
    """(status, lower-case headers, JSON body) of the first such exchange of a cassette."""
    for r in load_cassette(FIXTURES / "mastodon" / name):
        if (r.method, r.path) == (method, path) and status in (None, r.status):
            return r.status, {k.lower(): v for k, v in r.headers}, r.json()
    raise LookupError(f"{name}: no {method} {path}")


def same_headers(ours: httpx.Response, theirs: dict[str, str]) -> None:
    assert set(theirs) >= RATE_HEADERS and set(ours.headers) >= RATE_HEADERS
    for reset in (theirs["x-ratelimit-reset"], ours.headers["x-ratelimit-reset"]):
        assert ISO_RESET.match(reset) and parse_iso(reset)
    assert ours.headers["content-type"] == theirs["content-type"]


# -- the recorded shapes ------------------------------------------------------------------


def test_accounts_have_the_recorded_keys(client: httpx.Client) -> None:
    status, headers, body = recorded(
        "test_account_lookup.yaml", "GET", "/api/v1/accounts/verify_credentials"
    )
    ours = client.get("/api/v1/accounts/verify_credentials")
    assert ours.status_code == status == 200
    assert list(ours.json()) == list(body)  # a CredentialAccount: source and role too
    same_headers(ours, headers)
    _, _, looked_up = recorded("test_account_lookup.yaml", "GET", "/api/v1/accounts/lookup", 200)
    local = client.get("/api/v1/accounts/lookup", params={"acct": f"acme_de@{INSTANCE}"})
    assert list(local.json()) == list(looked_up)
    assert local.json()["acct"] == "acme_de"  # local accounts go without their domain


def test_a_remote_account_is_found_once_resolved_by_webfinger(client: httpx.Client) -> None:
    """As on Mastodon: accounts/lookup knows only accounts this instance has seen; a search
    with resolve=true fetches one from its instance, and from then on it is known."""
    remote = {"acct": "acme_jp@social.example"}
    assert client.get("/api/v1/accounts/lookup", params=remote).status_code == 404
    query = {"q": "@acme_jp@social.example", "type": "accounts"}
    assert client.get("/api/v2/search", params=query).json()["accounts"] == []
    ghost = client.get("/api/v2/search", params={"q": "@ghost@social.example", "resolve": "true"})
    assert ghost.json() == {"accounts": [], "statuses": [], "hashtags": []}
    resolved = client.get("/api/v2/search", params={**query, "resolve": "true"})
    assert [a["acct"] for a in resolved.json()["accounts"]] == ["acme_jp@social.example"]
    found = client.get("/api/v1/accounts/lookup", params=remote)
    assert found.status_code == 200 and found.json() == resolved.json()["accounts"][0]
    assert client.get("/api/v2/search").status_code == 400


def test_posting_and_deleting_answer_as_recorded(client: httpx.Client) -> None:
    name = "test_status_post[None-public].yaml"
    status, headers, body = recorded(name, "POST", STATUSES)
    ours = client.post(STATUSES, data={"status": "Toot!", "visibility": "public"})  # a form
    assert ours.status_code == status == 200
    assert list(ours.json()) == list(body)
    assert ours.json()["content"] == body["content"] == "<p>Toot!</p>"
    same_headers(ours, headers)
    assert ours.headers["x-ratelimit-limit"] == headers["x-ratelimit-limit"] == "300"
    _, del_headers, deleted = recorded(name, "DELETE", f"{STATUSES}/{body['id']}")
    gone = client.delete(f"{STATUSES}/{ours.json()['id']}")
    assert list(gone.json()) == list(deleted)  # the source `text` instead of `content`
    assert gone.json()["text"] == "Toot!"
    assert gone.headers["x-ratelimit-limit"] == del_headers["x-ratelimit-limit"] == "30"
    assert client.get(f"{STATUSES}/{ours.json()['id']}").status_code == 404


def test_notifications_and_their_link_header_look_recorded(
    platform: MastodonPlatform, client: httpx.Client, clock: ManualClock
) -> None:
    name = "test_notifications_mentions_only.yaml"
    _, headers, body = recorded(name, "GET", NOTES)
    mine = post(client, f"@acme_de@{INSTANCE} hello!")
    platform.reply(mine["id"], "hello!", after=timedelta(minutes=5))
    clock.advance(600)
    ours = client.get(NOTES, params={"types[]": "mention"})
    [item] = ours.json()
    assert list(item) == list(body[0])
    assert list(item["status"]) == list(body[0]["status"])  # no `pinned`: not ours
    assert list(item["account"]) == list(body[0]["account"])
    same_headers(ours, headers)
    # The recorded mention's HTML, but for our accounts.
    theirs = body[0]["status"]["content"].replace("http://localhost:3000/@mastodonpy_test", "U")
    assert item["status"]["content"].replace(f"https://{INSTANCE}/@replybench", "U") == (
        theirs.replace("mastodonpy_test", "replybench")
    )
    link = ours.headers["link"].replace(f"{BASE}", "http://localhost:3000")
    assert link == headers["link"].replace("=21", f"={item['id']}")


def test_errors_have_the_recorded_bodies(platform: MastodonPlatform, client: httpx.Client) -> None:
    status, _, body = recorded(
        "test_home_tl_anonymous_throws.yaml", "GET", "/api/v1/timelines/home"
    )
    with client_for(platform, token=None) as anonymous:
        refused = anonymous.get("/api/v1/accounts/verify_credentials")
    assert (refused.status_code, refused.json()) == (status, body) == (401, refused.json())
    assert set(refused.headers) >= RATE_HEADERS
    status, _, body = recorded("test_account_lookup.yaml", "GET", "/api/v1/accounts/lookup", 404)
    missing = client.get("/api/v1/accounts/lookup", params={"acct": "nobody@nowhere.example"})
    assert (missing.status_code, missing.json()) == (status, body) == (404, missing.json())
    status, _, body = recorded("test_status_missing.yaml", "GET", f"{STATUSES}/0")
    nothing = client.get(f"{STATUSES}/0")
    assert (nothing.status_code, nothing.json()) == (status, body) == (404, nothing.json())
    status, _, body = recorded("test_status_empty.yaml", "POST", STATUSES)
    empty = client.post(STATUSES, json={"status": ""})
    assert empty.status_code == status == 422 and list(empty.json()) == list(body) == ["error"]
    too_long = client.post(STATUSES, json={"status": "x" * 501})
    assert too_long.status_code == 422 and "500" in too_long.json()["error"]
    orphan = client.post(STATUSES, json={"status": "hi", "in_reply_to_id": "42"})
    assert orphan.status_code == 404
    for injected, words in ((429, "Too many"), (500, "Internal"), (503, "temporary")):
        response = platform.refuse(httpx.Request("GET", f"{BASE}{NOTES}"), injected)
        assert response.status_code == injected and words in response.json()["error"]
    spent = platform.refuse(httpx.Request("POST", f"{BASE}{STATUSES}"), 429)
    assert spent.headers["x-ratelimit-remaining"] == "0"
    # Rack::Attack's 5-minute window, not the 3-hour one of new statuses.
    assert parse_iso(spent.headers["x-ratelimit-reset"]) == START + timedelta(minutes=5)


def test_only_mentioned_known_accounts_become_links(client: httpx.Client) -> None:
    body = post(
        client, "@acme_jp@social.example & @nobody@nowhere.example <3\nsee https://a.example/x"
    )
    content = body["content"]
    assert "@<span>acme_jp</span></a></span> &amp; @nobody@nowhere.example &lt;3<br />" in content
    assert 'href="https://a.example/x"' in content
    assert [m["acct"] for m in body["mentions"]] == ["acme_jp@social.example"]


# -- behaviour ----------------------------------------------------------------------------


def test_an_idempotency_key_returns_the_first_status(
    platform: MastodonPlatform, client: httpx.Client, clock: ManualClock, tmp_path: Path
) -> None:
    key = {"Idempotency-Key": "acme-DE-mastodon-r1"}
    first = client.post(STATUSES, json={"status": "@acme_de hi"}, headers=key).json()
    again = client.post(STATUSES, json={"status": "@acme_de hi"}, headers=key).json()
    assert again["id"] == first["id"]
    clock.advance(3601)  # Mastodon keeps a key for an hour
    later = client.post(STATUSES, json={"status": "@acme_de hi"}, headers=key).json()
    assert later["id"] != first["id"] and int(later["id"]) > int(first["id"])
    ids = [s.id for s in platform.world.statuses.values()]
    assert ids == sorted(ids) and len(ids) == 2


def test_ids_grow_with_virtual_time(client: httpx.Client, clock: ManualClock) -> None:
    a = post(client, "one")
    clock.advance(1.5)
    b = post(client, "two")
    assert int(b["id"]) > int(a["id"])
    assert (int(b["id"]) >> 16) - (int(a["id"]) >> 16) == 1500  # milliseconds
    assert parse_iso(b["created_at"]) == START + timedelta(seconds=1.5)


def test_notification_pages_follow_since_max_and_min_id(
    platform: MastodonPlatform, client: httpx.Client, clock: ManualClock
) -> None:
    mine = post(client, f"@acme_de@{INSTANCE} hello")
    for i in range(5):
        platform.reply(mine["id"], f"answer {i}", after=timedelta(minutes=i + 1))
    clock.advance(3600)
    everything = [n["id"] for n in client.get(NOTES).json()]
    assert everything == ["5", "4", "3", "2", "1"]  # newest first
    page = client.get(NOTES, params={"since_id": "2", "limit": "2"})
    assert [n["id"] for n in page.json()] == ["5", "4"]
    older = httpx.URL(page.links["next"]["url"])
    assert "since_id" not in older.params  # as Mastodon: only max_id and the kept params
    rest = client.get(NOTES, params={**dict(older.params), "since_id": "2"})
    assert [n["id"] for n in rest.json()] == ["3"]
    assert [n["id"] for n in client.get(NOTES, params={"min_id": "1", "limit": "2"}).json()] == [
        "3",
        "2",
    ]
    assert client.get(NOTES, params={"types[]": "follow"}).json() == []
    assert client.get(NOTES, params={"since_id": "5"}).headers.get("link") is None


def test_a_deleted_status_leaves_the_notifications(
    platform: MastodonPlatform, client: httpx.Client, clock: ManualClock
) -> None:
    platform.send_dm("acme_us@social.example", "Hello from support")
    clock.advance(1)
    filtered = {"include_filtered": "true"}  # a fresh account filters private mentions
    [item] = client.get(NOTES, params=filtered).json()
    assert item["status"]["visibility"] == "direct"
    me = platform.account("replybench")
    assert item["status"]["mentions"] == [
        {"id": me.id, "username": "replybench", "url": me.url, "acct": "replybench"}
    ]
    assert item["status"]["content"].endswith("Hello from support</p>")
    platform.world.delete(platform.world.statuses[int(item["status"]["id"])], clock.now())
    assert client.get(NOTES, params=filtered).json() == []


def test_budgets_run_out_and_reset_at_the_iso_instant(clock: ManualClock) -> None:
    platform = MastodonPlatform(
        small_study(), clock, bots=False, budgets={"api": Budget(2, timedelta(minutes=5))}
    )
    with client_for(platform) as client:
        assert [client.get(NOTES).status_code for _ in range(3)] == [200, 200, 429]
        refused = client.get(NOTES)
        assert refused.json() == {"error": "Too many requests"}
        assert refused.headers["x-ratelimit-remaining"] == "0"
        reset = parse_iso(refused.headers["x-ratelimit-reset"])
        assert reset == START + timedelta(minutes=5)  # windows align on the clock
        clock.set(reset)
        assert client.get(NOTES).status_code == 200


def test_any_bearer_token_or_exactly_the_given_one(clock: ManualClock) -> None:
    strict = MastodonPlatform(small_study(), clock, bots=False, token="right")
    with client_for(strict, token="wrong") as c:
        assert c.get("/api/v1/accounts/verify_credentials").status_code == 401
    with client_for(strict, token="right") as c:
        assert c.get("/api/v1/accounts/verify_credentials").json()["username"] == "replybench"


def test_the_ledger_has_every_status(clock: ManualClock, tmp_path: Path) -> None:
    platform = MastodonPlatform(small_study(), clock, bots=False, ledger=tmp_path / "l.jsonl")
    with client_for(platform) as client:
        mine = post(client, "@acme_jp@social.example hi", visibility="unlisted")
        platform.reply(mine["id"], "hello", after=timedelta(minutes=1))
        platform.send_dm("acme_jp@social.example", "a DM")
        clock.advance(120)
        client.get(NOTES)
        client.delete(f"{STATUSES}/{mine['id']}")
    entries = read_ledger(tmp_path / "l.jsonl")
    assert [e["kind"] for e in entries] == ["post", "post", "post", "deleted"]
    assert {e["channel"] for e in entries} == {"mastodon"}
    probe, dm, reply = entries[0], entries[1], entries[2]
    assert probe["author"] == f"replybench@{INSTANCE}" and probe["visibility"] == "unlisted"
    assert probe["role"] == "probe" and probe["conversation_id"] == probe["id"] == mine["id"]
    assert dm["visibility"] == "direct" and dm["recipient"] == f"replybench@{INSTANCE}"
    assert reply["in_reply_to_id"] == mine["id"] and reply["conversation_id"] == mine["id"]
    assert reply["author"] == "acme_jp@social.example"
    for e in entries:
        assert {"id", "author", "author_id", "text", "created_at", "in_reply_to_id"} <= set(e)


# -- brand bots ---------------------------------------------------------------------------


def bot_texts(platform: MastodonPlatform | XPlatform) -> list[str]:
    return [a.text for a in platform.pending() if a.brand is not None]


def answer_in(text: str, language: str) -> bool:
    return any(text.endswith(t) for t in TEMPLATES[language][Say.ANSWER])


@pytest.mark.parametrize(("country", "language"), [("DE", "de"), ("JP", "ja"), ("US", "en")])
def test_a_global_account_answers_in_the_probe_countrys_language(
    clock: ManualClock, country: str, language: str
) -> None:
    """globex serves three countries from one account: only the plan's text tells which.
    The X face and the Mastodon face answer alike."""
    text = f"@globex@social.example A question for {country}."
    x_text = f"@Globex A question for {country}."
    mastodon = MastodonPlatform(
        small_study(), clock, settings=ALWAYS, probe_index={text: ("globex", country)}
    )
    x = XPlatform(small_study(), clock, settings=ALWAYS, probe_index={x_text: ("globex", country)})
    with client_for(mastodon) as client:
        post(client, text)
    x.handle(httpx.Request("POST", "https://api.x.test/2/tweets", json={"text": x_text},
                           headers={"Authorization": "Bearer t"}))  # fmt: skip
    [on_mastodon], [on_x] = bot_texts(mastodon), bot_texts(x)
    assert answer_in(on_mastodon, language) and answer_in(on_x, language)
    assert on_mastodon.startswith(f"@replybench@{INSTANCE} ")
    [action] = [a for a in mastodon.pending() if a.brand]
    assert action.country == country


def test_simulator_toml_applies_per_brand_and_country(clock: ManualClock) -> None:
    settings = parse_settings(
        {**_always_doc(), "brands": {"globex": {"answers_only": ["DE"]}}}, seed=1
    )
    answered = {}
    for country in ("DE", "US"):
        text = f"@globex@social.example Question {country}"
        platform = MastodonPlatform(
            small_study(), clock, settings=settings, probe_index={text: ("globex", country)}
        )
        with client_for(platform) as client:
            post(client, text)
        answered[country] = bool(bot_texts(platform))
    assert answered == {"DE": True, "US": False}


def test_simulator_toml_applies_per_channel(clock: ManualClock) -> None:
    """globex never answers on Mastodon ([brands.globex.channels.mastodon]) but does on X."""
    doc = {**_always_doc(), "brands": {"globex": {"channels": {"mastodon": {"answer_rate": 0}}}}}
    settings = parse_settings(doc, seed=1)
    text, x_text = "@globex@social.example Question DE", "@Globex Question DE"
    mastodon = MastodonPlatform(
        small_study(), clock, settings=settings, probe_index={text: ("globex", "DE")}
    )
    x = XPlatform(small_study(), clock, settings=settings, probe_index={x_text: ("globex", "DE")})
    with client_for(mastodon) as client:
        post(client, text)
    x.handle(httpx.Request("POST", "https://api.x.test/2/tweets", json={"text": x_text},
                           headers={"Authorization": "Bearer t"}))  # fmt: skip
    assert (len(bot_texts(mastodon)), len(bot_texts(x))) == (0, 1)


def _always_doc() -> dict[str, Any]:
    return {"defaults": {"answer_rate": 1.0, "redirect_share": 0.0, "dm_share": 0.0,
                         "days": "all", "opens": "00:00", "closes": "24:00"}}  # fmt: skip


def test_an_unknown_text_to_a_one_country_account_uses_that_country(clock: ManualClock) -> None:
    platform = MastodonPlatform(small_study(), clock, settings=ALWAYS)
    with client_for(platform) as client:
        post(client, "@acme_jp@social.example not from the plan")
    [text] = bot_texts(platform)
    assert answer_in(text, "ja")


def test_faces_route_api_to_the_mastodon_face(clock: ManualClock, tmp_path: Path) -> None:
    study = load_study(mastodon_study(tmp_path / "s"))
    built = faces_for(study, clock, Ledger(tmp_path / "ledger.jsonl"))
    assert list(built) == ["/api/"] and isinstance(built["/api/"], MastodonPlatform)
    routes = Dispatch(XPlatform(study, clock, bots=False), built)
    request = httpx.Request("GET", f"{BASE}/api/v1/accounts/verify_credentials",
                            headers={"Authorization": "Bearer t"})  # fmt: skip
    assert routes.handle(request).json()["acct"] == "replybench"


# -- a whole campaign ---------------------------------------------------------------------

BRANDS = ("acorn", "birch", "cedar")


def mastodon_study(path: Path) -> Path:
    """One round on one weekday, short windows: acorn and birch with an account per country
    (acorn's on the probe account's own instance), cedar with one global account."""
    init_study(path)
    toml = (path / "study.toml").read_text(encoding="utf-8")
    for pattern, value in (
        (r"window_hours = \d+", "window_hours = 6"),
        (r"start = 2026-03-02", "start = 2026-03-03"),
        (r"end = 2026-03-22", "end = 2026-03-03"),
        (r"probes_per_target = \d+", "probes_per_target = 1"),
        (r"min_spacing_hours = \d+", "min_spacing_hours = 0"),
    ):
        toml = re.sub(pattern, value, toml)
    toml = re.sub(r"\[slots\.evening\].*?(?=\[channels)", "", toml, flags=re.S)
    toml += (
        f'\n[channels.mastodon]\napi_base = "{BASE}"\naccount = "replybench"\n'
        'token_env = "REPLYBENCH_MASTODON_TOKEN"\n'
    )
    (path / "study.toml").write_text(toml, encoding="utf-8")
    rows = ["brand,brand_name,sector,country,channel,handle,scope"]
    for country in ("US", "DE"):
        rows.append(
            f"acorn,Acorn,retail,{country},mastodon,acorn_{country.lower()}@{INSTANCE},local"
        )
        rows.append(
            f"birch,Birch,retail,{country},mastodon,birch_{country.lower()}@social.example,local"
        )
        rows.append(f"cedar,Cedar,retail,{country},mastodon,cedar@social.example,global")
    (path / "targets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (path / "simulator.toml").write_text(
        '[defaults]\nanswer_rate = 0.9\nmedian_minutes = 40\nsigma = 0.8\ndays = "all"\n'
        'opens = "00:00"\ncloses = "24:00"\nauto_ack_share = 0.3\nredirect_share = 0.25\n'
        "dm_share = 0.25\n\n[simulator]\nstranger_rate = 0.3\n",
        encoding="utf-8",
    )
    return path


async def run_campaign(
    study_dir: Path, fault_rate: float = 0.0, seed: int = 5
) -> tuple[Study, Journal]:
    study = load_study(study_dir)
    plan = make_plan(study)
    clock = ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    platform = MastodonPlatform.for_study(study, clock, ledger=ledger_path(study_dir))
    faults = Faults(fault_rate, seed=seed)

    def handle(request: httpx.Request) -> httpx.Response:
        return answer(platform, request, faults.next(request.method), sleep=None)

    journal = Journal.create_or_open(
        study_dir, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handle), base_url=BASE,
        headers={"Authorization": "Bearer test-token"},
    ) as client:  # fmt: skip
        channel = MastodonChannel(client, account="replybench", instance=INSTANCE, clock=clock)
        config = RunnerConfig(reconcile_after_real_s=0)
        runner = Runner(study, journal, {"mastodon": channel}, clock, config=config, seed=1)
        await runner.run()
    platform.close()
    return study, journal


def rows(journal: Journal, sql: str) -> list[dict[str, Any]]:
    journal.con.row_factory = None
    cur = journal.con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.mark.anyio
@pytest.mark.parametrize(("fault_rate", "seed"), [(0.0, 5), (0.3, 10)])
async def test_a_mastodon_campaign_closes_every_probe_and_agrees_with_the_ledger(
    tmp_path: Path, fault_rate: float, seed: int
) -> None:
    d = mastodon_study(tmp_path / "s")
    study, journal = await run_campaign(d, fault_rate, seed)
    outcomes = {r["outcome"] for r in rows(journal, "SELECT outcome FROM attempts")}
    # With faults, a post was applied and its connection dropped: found, not posted again.
    assert ("reconciled" in outcomes) == (fault_rate > 0)
    probes = rows(journal, "SELECT * FROM probes")
    assert len(probes) == 6 and {p["state"] for p in probes} == {"closed"}
    assert all(p["text"].startswith("@") for p in probes)  # `@user@instance ...`
    ledger = read_ledger(ledger_path(d))
    assert {e["channel"] for e in ledger} == {"mastodon"}
    own = [e for e in ledger if e["kind"] == "post" and e["role"] == "probe"]
    # Each probe posted once (faults dropped some posts after they were applied: those were
    # found among the account's statuses, not posted again), under the id the journal has.
    assert sorted(e["id"] for e in own) == sorted(p["message_id"] for p in probes)
    assert len({e["text"] for e in own}) == len(own)
    by_message = {p["message_id"]: p for p in probes}
    for p in probes:
        [entry] = [e for e in own if e["id"] == p["message_id"]]
        assert parse_iso(entry["created_at"]) == parse_iso(p["sent_at"])

    last_read = parse_iso(str(journal.meta("last_observation")))
    replies = {r["reply_id"]: r for r in rows(journal, "SELECT * FROM replies")}
    answers = [
        e for e in ledger if e["kind"] == "post" and e["role"] in ("brand", "stranger")
        and parse_iso(e["created_at"]) <= last_read
    ]  # fmt: skip
    assert answers and {e["id"] for e in answers} == set(replies)
    countries = {c.code: c.language for c in study.countries}
    for e in answers:
        r = replies[e["id"]]
        assert r["author"] == e["author"]  # user@instance, local accounts too
        assert r["created_at"] == e["created_at"]  # the platform's timestamp
        if e["role"] == "stranger":
            continue
        assert r["kind"] == e["reply_kind"]
        probe = by_message[e["probe_post_id"]]
        assert e["country"] == probe["country"]  # the bot knew which country asked ...
        words = e["text"].split(" ", 1)[1]  # after the mention of the probe account
        assert any(words in TEMPLATES[countries[e["country"]]][k] for k in Say)  # ... its words
        if e["in_reply_to_id"] is not None:
            assert r["probe_id"] == probe["probe_id"] and r["in_reply_to"] == e["in_reply_to_id"]
        else:  # a DM names no status: tied to its probe, or left unmatched and counted
            assert r["probe_id"] in (probe["probe_id"], None)
            ambiguous = rows(journal, "SELECT detail FROM events WHERE kind = 'ambiguous'")
            assert r["probe_id"] or any(e["id"] in a["detail"] for a in ambiguous)
    kinds = {r["kind"] for r in replies.values()}
    assert {"public_reply", "direct_message", "auto_ack"} <= kinds
    assert any(r["author"].endswith(f"@{INSTANCE}") for r in replies.values())  # local ones
    journal.close()
