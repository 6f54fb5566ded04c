"""The RE2 form of study.kinds' patterns classifies every text as Python's `re` does."""

from __future__ import annotations

import re
import sys

import duckdb
import numpy as np
import pytest

from analysis import sql_kinds
from analysis.sql_kinds import auto_ack_re2, re2_pattern, redirect_re2, same_letter
from benchmarks.twcs_corpus import corpus_table
from study.kinds import AUTO_ACK_PATTERNS, REDIRECT_PATTERNS, classify_public_text

KIND_SQL = """
SELECT CASE WHEN regexp_matches(text, $auto_ack) THEN 'auto_ack'
            WHEN regexp_matches(text, $redirect) THEN 'redirect'
            ELSE 'public_reply' END
FROM unnest($texts) WITH ORDINALITY AS t(text, i) ORDER BY i
"""
# A text each pattern matches, to vary one character at a time.
EXAMPLES = [
    "DM", "direct message", "private message", "send us a private message", "Direktnachricht",
    "private Nachricht", "PN", "message privé", "MP", "mensaje directo", "MD",
    "messaggio privato", "privébericht", "direct bericht", "privatameddelande", "DM:a",
    "wiadomość prywatn", "prywatnej wiadomości", "özel mesaj", "mensagem direta",
    "ダイレクトメッセージ", "DMにて", "다이렉트 메시지", "DM으로", "this is an automat",
    "automatic reply", "auto-reply", "we've received your request",
    "thanks for reaching out! our team will get back", "automatische Antwort",
    "réponse automatique", "respuesta automática", "risposta automatica",
    "automatisch antwoord", "automatiskt svar", "automatyczna odpowiedź", "otomatik yanıt",
    "resposta automática", "自動返信", "자동 응답",
]  # fmt: skip


def sql_kinds_of(texts: list[str]) -> list[str]:
    con = duckdb.connect()
    try:
        params = {"texts": texts, "auto_ack": auto_ack_re2(), "redirect": redirect_re2()}
        return [k for (k,) in con.execute(KIND_SQL, params).fetchall()]
    finally:
        con.close()


def python_kinds_of(texts: list[str]) -> list[str]:
    return [classify_public_text(t).value for t in texts]


def every_char(astral_step: int = 1) -> list[str]:
    """Every code point but the surrogates (above U+FFFF only every `astral_step`-th)."""
    points = [
        *range(0xD800),
        *range(0xE000, 0x10000),
        *range(0x10000, sys.maxunicode + 1, astral_step),
    ]
    return [chr(c) for c in points]


def test_every_example_matches_its_kind_both_ways() -> None:
    kinds = sql_kinds_of(EXAMPLES)
    assert kinds == python_kinds_of(EXAMPLES)
    assert kinds.count("redirect") == len(REDIRECT_PATTERNS)
    assert kinds.count("auto_ack") == len(AUTO_ACK_PATTERNS)


def test_realistic_replies_are_classified_alike() -> None:
    parts = corpus_table(20_000, seed=5).to_pydict()
    texts = [
        f"@{c} {g}{r} {a}{s}"
        for c, g, r, a, s in zip(
            parts["customer"], parts["greeting"], parts["reply"], parts["again"],
            parts["signature"], strict=True,
        )
    ] + parts["problem"] + parts["followup"]  # fmt: skip
    kinds = sql_kinds_of(texts)
    assert kinds == python_kinds_of(texts)
    assert {"redirect", "auto_ack", "public_reply"} <= set(kinds)


EDGES = [
    "", "DM", "dm", "Dm us", "éDM", "DMé", "_DM", "DM_", "1DM", "DM1", "(DM)", "DM\n", "\nDM",
    "a\u0301DM", "DM\u0301", "ＤＭ", "ｄｍ", "DM\u200b", "\u200bDM", "😀DM😀", "random admin",
    "prıvate message", "PRİVATE MESSAGE", "priVATE MESSAGE", "ſend us a message",
    "otomatik yanit", "OTOMATIK YANIT", "özel mesaj", "ÖZEL MESAJ", "xözel mesaj",
    "DM:A", "DM:ab", "DMにて", "dmにて", "xDMにて", "DM으로", "自動返信です", "K",
    "automatic\nreply",
    "we have received your inquiry", "WE'VE RECEIVED YOUR MESSAGE", "auto reply", "autoreply",
    "thanks for your message. we will reply", "thanks for your message we will reply",
    "mensaje privado", "MENSAJE PRIVADO", "wiadomośc prywatnej", "messaggio diretto",
]  # fmt: skip


def test_edge_cases_of_case_and_word_boundaries() -> None:
    assert sql_kinds_of(EDGES) == python_kinds_of(EDGES)


def test_every_character_beside_a_word_boundary() -> None:
    """Before and after a pattern that starts or ends with \\b, every code point of the BMP
    and every 11th above it."""
    chars = every_char(astral_step=11)
    texts = (
        [c + "DM" for c in chars] + ["DM" + c for c in chars] + [c + "özel mesaj" for c in chars]
    )
    assert sql_kinds_of(texts) == python_kinds_of(texts)


def test_every_cased_character_in_place_of_each_letter() -> None:
    """Each letter of the patterns, in one example that holds it, replaced by every character
    that has another case (or that Python's IGNORECASE folds) and by a sample of all others."""
    rng = np.random.default_rng(3)
    chars = every_char()
    cased = [c for c in chars if c.lower() != c or c.upper() != c or c.casefold() != c]
    others = [chars[i] for i in rng.integers(0, len(chars), 300)]
    texts = []
    done: set[str] = set()
    for example in EXAMPLES:
        for i, letter in enumerate(example):
            if letter.isalpha() and letter.lower() not in done:
                done.add(letter.lower())
                texts += [example[:i] + c + example[i + 1 :] for c in cased + others]
    assert len(done) > 50
    assert sql_kinds_of(texts) == python_kinds_of(texts)


def test_the_letter_classes_equal_a_search_per_letter() -> None:
    """`same_letter` looks only at characters found by one search for all letters at once."""
    every = "".join(every_char())
    letters = {c for p in AUTO_ACK_PATTERNS + REDIRECT_PATTERNS for c in p if c != "\\"}
    for letter in letters:
        found = set(re.findall(re.escape(letter), every, re.IGNORECASE))
        assert same_letter(letter) == found, letter


def test_mixtures_are_classified_alike() -> None:
    rng = np.random.default_rng(12)
    pieces = EXAMPLES + EDGES + [" ", ".", "x", "ı", "İ", "_", "😀"]
    texts = []
    for _ in range(3000):
        chosen = [pieces[i] for i in rng.integers(0, len(pieces), rng.integers(1, 6))]
        texts += ["".join(chosen), " ".join(chosen), "".join(chosen).upper()]
    assert sql_kinds_of(texts) == python_kinds_of(texts)


@pytest.mark.parametrize(
    "pattern", [r"a.b", r"[a-z]", r"x\bDM", r"\d", r"(a)", r"a*", r"\b ", r"[^a]"]
)
def test_syntax_it_cannot_translate_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="not supported|only supported|must stand|only"):
        re2_pattern([pattern])


def test_the_word_characters_are_pythons() -> None:
    words = sql_kinds.word_chars()
    assert {"a", "_", "é", "٣", "中"} <= words
    assert not {" ", "-", "\u0301", "😀"} & words
