"""A study on several channels shows them side by side; a study on one never mentions them."""

from __future__ import annotations

import json

from tests.reports.conftest import Site
from tests.reports.studies import HOSTILE

LABELS = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky", "manual": "By hand"}


def data(site: Site, name: str) -> dict:
    return json.loads((site.root / "data" / name).read_text(encoding="utf-8"))


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def section(html: str, ident: str) -> str:
    start = html.index(f'<section id="{ident}">')
    return html[start : html.index("</section>", start)]


def test_the_index_puts_the_channels_side_by_side(multichannel_site: Site) -> None:
    html = section(multichannel_site.page("index.html"), "by-channel")
    assert "<h2>By channel</h2>" in html
    rows = {r["channel"]: r for r in data(multichannel_site, "metrics.json")["groups"]["channel"]}
    assert sorted(rows) == sorted(LABELS)
    for channel, r in rows.items():
        rate = f'{pct(r["response_rate"])}<span class="sub">'
        rate += f"{pct(r['response_rate_low'])[:-1]}\u2013{pct(r['response_rate_high'])}</span>"
        assert (
            f'<tr><th scope="row">{LABELS[channel]}</th><td class="num">'
            f"{6 if channel != 'bluesky' else 4}</td>"
            f'<td class="num">{r["probes"]}</td><td class="num">{rate}</td>'
        ) in html
    assert [rows[c]["probes"] for c in ("x", "mastodon", "bluesky", "manual")] == [36, 32, 24, 34]
    assert 'src="charts/index-channels.svg"' in html
    assert "Response rate on each of the study&#39;s 4 channels" in html
    assert (multichannel_site.root / "charts" / "index-channels.svg").is_file()


def test_the_index_has_a_cell_per_brand_and_channel(multichannel_site: Site) -> None:
    html = section(multichannel_site.page("index.html"), "by-channel")
    table = html[html.index("<caption>Response rate by brand and channel</caption>") :]
    kaito = table[table.index(">Kaito Motors</a>") :].split("</tr>")[0]
    assert kaito.count("<td") == 4
    assert kaito.count('100%<span class="sub">6/6</span>') == 3
    assert '0%<span class="sub">0/6</span>' in kaito
    brenner = table[table.index(">Brenner Automobile</a>") :].split("</tr>")[0]
    assert '<td class="none">no account</td>' in brenner  # no Bluesky account
    novatel = table[table.index(">Novatelle Electronics</a>") :].split("</tr>")[0]
    assert '<span class="sub">1/2</span>' in novatel  # Mastodon in Germany only


def test_a_company_page_has_its_channels_and_says_where_it_is_silent(
    multichannel_site: Site,
) -> None:
    html = multichannel_site.page("companies/kaito.html")
    table = section(html, "channels")
    assert "<caption>Kaito Motors by channel</caption>" in table
    assert "@KaitoMotors_DE, @KaitoMotors_FR, @KaitoMotors_US" in table
    assert "@kaitomotors_de@mastodon.social" in table
    assert "https://www.kaito.example/de/kontakt" in table
    assert (
        '<tr><th scope="row">Mastodon</th>' in table
        and '<td class="num">6</td><td class="num">0</td><td class="num">0%' in table
    )
    assert (
        "Uneven across channels: answers on X (100%, 6 of 6; 95% interval 61\u2013100%) but "
        "never on Mastodon (0%, 0 of 6; 95% interval 0\u201339%)." in html
    )
    novatel = section(multichannel_site.page("companies/novatel.html"), "channels")
    assert "local account in 1 country; no account in 2 countries" in novatel
    parcelly = multichannel_site.page("companies/parcelly.html")
    assert "across channels" not in parcelly  # every channel at 50%: nothing to claim


def test_the_method_lists_the_channels(multichannel_site: Site) -> None:
    html = multichannel_site.page("methodology.html")
    for channel, label in LABELS.items():
        assert f'<th scope="row">{label}<span class="sub">{channel}</span></th>' in html


def test_a_single_channel_study_never_mentions_channels(example_site: Site) -> None:
    for page in ("index.html", "companies/kaito.html", "methodology.html"):
        html = example_site.page(page)
        assert "By channel" not in html and "by-channel" not in html, page
        assert "<caption>Channels</caption>" not in html, page
    assert not (example_site.root / "charts" / "index-channels.svg").exists()


def test_channel_names_from_outside_are_escaped(hostile_site: Site) -> None:
    html = hostile_site.page("index.html")
    assert '<th scope="row">&lt;b&gt;chan&lt;/b&gt;</th>' in html
    assert "<b>" not in html and HOSTILE not in html
