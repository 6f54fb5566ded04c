"""The script lint and the codes it and the loader rely on."""

from __future__ import annotations

import pytest

from study.countries import COUNTRIES, LANGUAGES, suggest_country, suggest_language
from study.lint import channel_length, grapheme_length, lint_text, longest, x_weighted_length

# --- the length X counts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("", 0),
        ("Hello, world!", 13),
        ("Grüße aus München", 17),  # Latin-1 and Latin Extended weigh 1
        ("こんにちは", 10),  # Japanese: 2 each
        ("안녕하세요", 10),  # Hangul syllables: 2 each
        ("注文", 4),
        ("\u201cquoted\u201d", 8),  # curly quotes are in the 8208-8223 range: 1 each
        ("\u2026", 2),  # the ellipsis (8230) is outside every light range
        ("e\u0301", 1),  # NFC turns e + combining acute into one code point
        ("👍", 2),
        ("👍🏽", 2),  # a skin-tone modifier does not add
        ("👨\u200d👩\u200d👧\u200d👦", 2),  # a ZWJ family of 7 code points is one emoji
        ("❤\ufe0f", 2),  # a variation selector does not add
        ("🇩🇪", 2),  # a flag: two regional indicators
        ("🇩🇪🇯🇵", 4),
        ("1\ufe0f\u20e3", 2),  # keycap
        ("©", 1),  # text presentation: a light character
        ("©\ufe0f", 2),  # emoji presentation
        ("https://example.com/a/very/long/path/that/goes/on?and=on", 23),
        ("see https://example.com.", 4 + 23 + 1),
        ("www.example.org", 23),
        ("example.com", 23),
        ("Hi こんにちは 👍 example.com", 3 + 10 + 1 + 2 + 1 + 23),
    ],
)
def test_x_weighted_length(text: str, length: int) -> None:
    assert x_weighted_length(text) == length


def test_the_limit_counts_the_longest_handle() -> None:
    # '@' + 15 characters + a space + 263 = 280: at the limit, not over it
    assert lint_text("{handle} " + "a" * 263, "x") == []
    assert lint_text("{handle} " + "a" * 264, "x") == [
        "is 281 characters long as X counts them (with the longest handle), over the limit of "
        "280; shorten it by 1"
    ]


def test_japanese_text_is_over_the_limit_at_half_the_characters() -> None:
    assert lint_text("{handle} " + "あ" * 131, "x") == []
    assert lint_text("{handle} " + "あ" * 132, "x") == [
        "is 281 characters long as X counts them (with the longest handle), over the limit of "
        "280; shorten it by 1"
    ]


def test_an_unknown_channel_has_no_length_limit() -> None:
    assert lint_text("{handle} " + "a" * 5000, "email") == []


@pytest.mark.parametrize("channel", ["email", "manual"])
def test_email_and_manual_have_no_length_limit(channel: str) -> None:
    assert lint_text("{handle} " + "a" * 5000, channel, handle="care@kaito.example") == []


@pytest.mark.parametrize(
    ("text", "graphemes"),
    [
        ("Hello", 5),
        ("e\u0301", 1),  # a combining accent joins its letter
        ("\u0915\u094d\u0937", 2),  # Devanagari: a virama (Mn) adds nothing
        ("❤\ufe0f", 1),  # a variation selector adds nothing
        ("👨\u200d👩\u200d👧", 3),  # ZWJ sequences count their pictographs (an overcount)
        ("こんにちは", 5),
    ],
)
def test_graphemes_are_code_points_but_marks_joiners_and_selectors(
    text: str, graphemes: int
) -> None:
    assert grapheme_length(text) == graphemes == channel_length("bluesky", text)


def test_mastodon_counts_characters_with_the_handle_given() -> None:
    handle = "kaito@mastodon.social"  # '@' + 21 + ' ' = 23
    assert lint_text("{handle} " + "あ" * 477, "mastodon", handle=handle) == []
    assert lint_text("{handle} " + "あ" * 478, "mastodon", handle=handle) == [
        "is 501 characters long as Mastodon counts them (with the longest handle), over the "
        "limit of 500; shorten it by 1"
    ]
    # not known: 30 characters stand in for the handle
    assert lint_text("{handle} " + "a" * 468, "mastodon") == []
    assert lint_text("{handle} " + "a" * 469, "mastodon") != []


def test_bluesky_counts_graphemes() -> None:
    handle = "kaito.bsky.social"  # '@' + 17 + ' ' = 19
    assert lint_text("{handle} " + "é" * 281, "bluesky", handle=handle) == []
    assert lint_text("{handle} " + "e\u0301" * 282, "bluesky", handle=handle) == [
        "is 301 graphemes long as Bluesky counts them (with the longest handle), over the "
        "limit of 300; shorten it by 1"
    ]


def test_the_x_limit_uses_the_handle_given() -> None:
    assert lint_text("{handle} " + "a" * 273, "x", handle="Kaito") == []  # 6 + 1 + 273
    assert lint_text("{handle} " + "a" * 274, "x", handle="Kaito") != []


def test_longest_is_by_the_channel_s_measure() -> None:
    assert longest("x", ["Deutschland", "대한민국"]) == "Deutschland"  # 11 against 8
    assert longest("x", ["Spain", "大韓民国"]) == "大韓民国"  # 5 against 8
    assert longest("mastodon", ["Spain", "大韓民国"]) == "Spain"  # 5 against 4
    assert longest("bluesky", []) is None


def test_longest_keeps_the_first_of_equals_among_repeated_candidates() -> None:
    assert longest("x", ["Kaito", "Nori", "Brenn", "Kaito", "Brenn"]) == "Kaito"
    assert longest("x", iter(["ab", "ab", "あ", "abc"])) == "abc"  # 2, 2, 2, 3


# --- personal data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("write to jo.doe+cs@example.co.uk please", "jo.doe+cs@example.co.uk"),
        ("mail: a@b.com", "a@b.com"),
    ],
)
def test_e_mail_addresses_are_refused(text: str, found: str) -> None:
    assert lint_text("{handle} " + text, "x") == [
        f"contains an e-mail address ({found!r}); remove personal data from scripts"
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("call me on +49 30 1234567.", "+49 30 1234567"),
        ("call me on +1 (212) 555-0199", "+1 (212) 555-0199"),
        ("Tel. 030 1234567", "030 1234567"),
        ("Tel. (030) 123-4567", "(030) 123-4567"),
        ("mon numéro : 01.23.45.67.89", "01.23.45.67.89"),
        ("ring 0800 123 456", "0800 123 456"),
        ("at 555-1234", "555-1234"),
        ("0301234567", "0301234567"),
        ("電話 090-1234-5678 まで", "090-1234-5678"),
    ],
)
def test_phone_numbers_are_refused(text: str, found: str) -> None:
    assert lint_text("{handle} " + text, "x") == [
        f"contains a phone number ({found!r}); remove personal data from scripts"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Are you open from 09:00 to 17:00?",
        "Öffnungszeiten 9.00 - 18.00 Uhr",
        "ouvert de 9h30 à 18h00",
        "I ordered in 2026.",
        "the 2025-2026 season",
        "between 2024 and 2026",
        "on 2026-03-02 at 10:15",
        "am 02.03.2026 um 14:00",
        "on 3/2/2026",
        "It cost €1.299,00",
        "It cost $1,299.99",
        "It cost 1.299.000 ₩ or 129 900 EUR",
        "order 123456 arrived",
        "order #48231190 arrived",
        "2 items, 3 weeks ago, 1 refund",
        "version 2.3.1",
        "I paid 49.99 twice",
        "注文番号は12345です",
        "2026年3月2日に注文しました",
    ],
)
def test_times_years_dates_prices_and_short_numbers_are_not_phone_numbers(text: str) -> None:
    assert lint_text("{handle} " + text, "x") == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("see https://example.com/help.", "https://example.com/help"),
        ("see HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
        ("see www.example.de!", "www.example.de"),
        ("on example.com, nothing", "example.com"),
        ("on shop.example.de/faq", "shop.example.de/faq"),
        ("(kaito.jp)", "kaito.jp"),
    ],
)
def test_urls_are_refused(text: str, found: str) -> None:
    assert lint_text("{handle} " + text, "x") == [
        f"contains a URL ({found!r}); remove links from scripts"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "e.g. this, i.e. that, z.B. dies, U.S. orders",
        "I ordered.My order is late",  # a missing space, not a link
        "It weighs 1.5kg",
        "Mr.Smith said so",
    ],
)
def test_abbreviations_and_missing_spaces_are_not_urls(text: str) -> None:
    assert lint_text("{handle} " + text, "x") == []


# --- placeholders -------------------------------------------------------------------------


def test_a_text_without_the_handle() -> None:
    assert lint_text("Hello, where is my order?", "x") == [
        "does not contain {handle}; start the text with '{handle} ' so it names the account"
    ]


def test_unknown_placeholders() -> None:
    assert lint_text("{Handle} Hi {name} in {Country}, my order {order_id}?", "x") == [
        "does not contain {handle}; start the text with '{handle} ' so it names the account",
        "has an unknown placeholder '{Country}'; did you mean '{country}'?",
        "has an unknown placeholder '{Handle}'; did you mean '{handle}'?",
        "has an unknown placeholder '{name}'; the placeholders are {handle} and {country}",
        "has an unknown placeholder '{order_id}'; the placeholders are {handle} and {country}",
    ]


def test_the_country_is_a_known_placeholder() -> None:
    assert lint_text("{handle} Hi, I'm in {country}.", "x") == []


def test_the_limit_counts_the_longest_country_name_of_the_language() -> None:
    # '@' + 15 + ' ' + 'the UK' (6) + ' ' + 257 = 281 with the UK; 280 with "Spain"
    text = "{handle} {country} " + "a" * 257
    assert lint_text(text, "x", "Spain") == []
    assert lint_text(text, "x", "the UK") == [
        "is 281 characters long as X counts them (with the longest handle and country name), "
        "over the limit of 280; shorten it by 1"
    ]
    assert lint_text("{handle} {country} " + "a" * 232, "x") == []  # 30 when not known
    assert lint_text("{handle} {country} " + "a" * 233, "x") != []
    assert lint_text("{handle} {country} " + "a" * 254, "x", "대한민국") == []  # weighs 8
    assert lint_text("{handle} {country} " + "a" * 255, "x", "대한민국") != []


def test_several_problems_are_reported_together() -> None:
    assert lint_text("Hi, mail a@b.com or call +44 20 7946 0958", "x") == [
        "contains an e-mail address ('a@b.com'); remove personal data from scripts",
        "contains a phone number ('+44 20 7946 0958'); remove personal data from scripts",
        "does not contain {handle}; start the text with '{handle} ' so it names the account",
    ]


# --- codes --------------------------------------------------------------------------------


def test_every_iso_3166_code_is_there() -> None:
    assert len(COUNTRIES) == 249
    assert all(len(c) == 2 and c.isupper() for c in COUNTRIES)
    assert (COUNTRIES["GB"], COUNTRIES["DE"], COUNTRIES["KR"]) == (
        "United Kingdom",
        "Germany",
        "South Korea",
    )
    assert "UK" not in COUNTRIES and "EU" not in COUNTRIES
    assert len(LANGUAGES) == 183 and {"en", "de", "ja", "ko", "sv", "pt"} <= LANGUAGES


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("UK", "GB"),
        ("uk", "GB"),
        ("de", "DE"),
        ("EL", "GR"),
        ("USA", "US"),
        ("Germany", "DE"),
        ("germny", "DE"),
        ("JA", "JP"),
        ("QQ", None),
    ],
)
def test_suggest_country(given: str, meant: str | None) -> None:
    assert suggest_country(given) == meant


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("DE", "de"),
        ("de-DE", "de"),
        ("pt_BR", "pt"),
        ("jp", "ja"),
        ("SE", "sv"),
        ("KR", "ko"),
        ("xx", None),
    ],
)
def test_suggest_language(given: str, meant: str | None) -> None:
    assert suggest_language(given) == meant
