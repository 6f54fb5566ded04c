"""The persona effect in words: sign, rounding, intervals that include no difference."""

from __future__ import annotations

import pytest

from study.effect_words import effect_sentence


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (
            ("language", "de", "en", 0.061, 0.012, 0.109),
            "Brands answered personas with language de 6 points (1–11) more often than "
            "those with language en.",
        ),
        (
            ("persona", "ben", "ana", -0.061, -0.109, -0.012),
            "Brands answered persona ben 6 points (1–11) less often than persona ana.",
        ),
        (
            ("persona", "ben", "ana", 0.03, -0.024, 0.084),
            "Brands answered persona ben 3 points (−2 to 8) more often than persona ana; "
            "the 95% interval includes no difference.",
        ),
        (
            ("gender", "f", "m", -0.012, -0.051, 0.027),
            "Brands answered personas with gender f 1 point (−3 to 5) less often than those "
            "with gender m; the 95% interval includes no difference.",
        ),
        (
            ("persona", "ben", "ana", 0.002, -0.04, 0.044),
            "Brands answered persona ben as often as persona ana (0 points, −4 to 4).",
        ),
        (
            ("persona", "ben", "ana", 0.0, None, None),
            "Brands answered persona ben as often as persona ana.",
        ),
        (
            ("persona", "ben", "ana", 0.1, None, None),
            "Brands answered persona ben 10 points more often than persona ana.",
        ),
        (
            ("country", "JP", "DE", None, None, None),
            "No brand was asked by both personas with country JP and those with country DE, "
            "so their response rates cannot be compared within brands.",
        ),
    ],
)
def test_effect_sentence(args: tuple[object, ...], sentence: str) -> None:
    assert effect_sentence(*args) == sentence  # type: ignore[arg-type]
