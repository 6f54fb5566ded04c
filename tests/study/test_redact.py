"""Credentials kept out of sight: token-shaped values refused, echoed secrets scrubbed."""

from __future__ import annotations

import base64
import random
import string
from urllib.parse import quote

import pytest

from study.redact import REDACTED, looks_like_token, scrub

SECRET = "Zk9qWm1_Lp3xQ7vB8nR2sT4u"  # letters, digits and '_': passes as a variable's name


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        SECRET.lower(),
        SECRET.upper(),
        base64.b64encode(SECRET.encode()).decode(),
        base64.b64encode(SECRET.encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(SECRET.encode()).decode(),
        base64.b64encode(SECRET.lower().encode()).decode(),
        quote(SECRET + "/+=", safe=""),
        quote(SECRET + "/+=", safe="").lower(),
    ],
    ids=["as-is", "lower", "upper", "base64", "base64-unpadded", "base64-urlsafe",
         "base64-of-lower", "percent", "percent-lower-hex"],
)  # fmt: skip
def test_every_form_of_a_secret_is_scrubbed(form: str) -> None:
    secret = SECRET + "/+=" if "%" in form else SECRET
    text = f"server said: invalid credential {form}; try again"
    assert scrub(text, [secret]) == f"server said: invalid credential {REDACTED}; try again"


@pytest.mark.parametrize("before", ["", "p", "pr", "probe:"])
def test_a_secret_inside_a_longer_base64_text_is_scrubbed(before: str) -> None:
    for after in ("", "!", "!!", " tail"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            echoed = encode(f"{before}{SECRET}{after}".encode()).decode()
            scrubbed = scrub(f"Basic {echoed}", [SECRET])
            assert scrubbed.count(REDACTED) == 1
            # What is left is the encoding of what was around the secret, give or take the
            # characters that mix its bits with theirs (at most 2 a side) and the padding.
            left = len(scrubbed) - len("Basic ") - len(REDACTED)
            assert left <= (len(before) + len(after)) * 4 / 3 + 6


def test_short_values_and_other_text_are_left_alone() -> None:
    assert scrub("the token abc is wrong", ["abc"]) == "the token abc is wrong"
    assert scrub("nothing secret here", [SECRET, ""]) == "nothing secret here"


NAMES = [
    "REPLYBENCH_X_TOKEN", "REPLYBENCH_MASTODON_TOKEN", "REPLYBENCH_BLUESKY_PASSWORD",
    "MASTODON_SOCIAL_ACCESS_TOKEN_FOR_PROBE_ACCOUNT_2", "ReplybenchMastodonToken1",
    "replybench_mastodon_token_2026_spring", "MY_STUDY_2026_DE_AT_CH_MASTODON_TOKEN",
    "A1_B2_C3_D4_E5_F6_G7_H8", "TOKEN_V2_PROBE3_ACCOUNT4B", "MASTODON_TOKEN_DE2AT3CH4",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_names_of_variables_are_not_taken_for_tokens(name: str) -> None:
    assert not looks_like_token(name)


def test_tokens_that_pass_as_names_are_recognised() -> None:
    rng = random.Random(14)
    urlsafe = string.ascii_letters + string.digits + "-_"
    name_like: list[str] = []
    while len(name_like) < 2000:  # Mastodon's tokens: 43 characters of base64url
        token = "".join(rng.choice(urlsafe) for _ in range(43))
        if "-" not in token and not token[0].isdigit():
            name_like.append(token)
    missed = [t for t in name_like if not looks_like_token(t)]
    assert len(missed) <= 4  # 0.04% measured over 20,000
    hex_token = "a" + "".join(rng.choice("0123456789abcdef") for _ in range(63))
    assert looks_like_token(hex_token) and looks_like_token(hex_token[:40])
