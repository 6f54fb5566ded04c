"""OAuth 1.0a signatures against the worked examples of RFC 5849 and of X's documentation."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from authlib.oauth1.rfc5849.signature import construct_base_string

from probes.channels.x.oauth1 import (
    OAuth1Auth,
    OAuth1Credentials,
    base_url,
    parse_authorization,
    request_params,
    signature,
)
from study.clock import ManualClock


def _signed(
    request: httpx.Request, credentials: OAuth1Credentials, at: int, nonce: str
) -> dict[str, str]:
    auth = OAuth1Auth(
        credentials, clock=ManualClock(datetime.fromtimestamp(at, UTC)), nonce=lambda: nonce
    )
    flow = auth.sync_auth_flow(request)
    signed = next(flow)
    fields = parse_authorization(signed.headers["authorization"])
    assert fields is not None
    return fields


def test_rfc5849_section_3_4_1_1_base_string_from_a_request() -> None:
    # RFC 5849 3.4.1.1: query and form body both signed, parameters sorted and double-encoded.
    request = httpx.Request(
        "POST",
        "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=b"c2&a3=2+q",
    )
    oauth = [
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
    ]
    base = construct_base_string("POST", base_url(request), request_params(request) + oauth)
    assert base == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D"
        "%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce"
        "%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26"
        "oauth_token%3Dkkk9d7dh3k39sjv7"
    )


def test_rfc5849_section_1_2_photos_example() -> None:
    # RFC 5849 1.2: the signed GET of the photo; its oauth_signature is given percent-encoded
    # as "MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D" (no oauth_version in that example).
    params = [
        ("file", "vacation.jpg"),
        ("size", "original"),
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ]
    sig = signature(
        "GET", "http://photos.example.net/photos", params, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"
    )
    assert sig == "MdpQcU8iPSUjWoN/UDMsK2sui9I="


X_EXAMPLE = OAuth1Credentials(
    "xvz1evFS4wEEPTGEFPHBog",
    "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
)


def test_x_documentation_creating_a_signature_example_through_the_auth() -> None:
    # https://developer.twitter.com/en/docs/basics/authentication/guides/creating-a-signature
    # (now docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature): the
    # signature "hCtSmYh+iHYCEqBWrE7C7hYmtUk=" was computed for the api.twitter.com URL.
    request = httpx.Request(
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=b"status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21",
    )
    fields = _signed(request, X_EXAMPLE, 1318622958, "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg")
    assert fields["oauth_signature"] == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
    assert fields["oauth_consumer_key"] == "xvz1evFS4wEEPTGEFPHBog"
    assert fields["oauth_version"] == "1.0"


def test_a_json_body_is_sent_whole_and_not_signed() -> None:
    # X API v2 takes JSON: only the query and oauth_* parameters are signed, and the body
    # reaches the server unchanged (authlib's httpx OAuth1Auth would send it empty).
    request = httpx.Request("POST", "https://api.x.com/2/tweets", json={"text": "hello"})
    fields = _signed(request, X_EXAMPLE, 1318622958, "n0nce")
    oauth = [(k, v) for k, v in fields.items() if k != "oauth_signature"]
    expected = signature(
        "POST",
        "https://api.x.com/2/tweets",
        oauth,
        X_EXAMPLE.consumer_secret,
        X_EXAMPLE.access_token_secret,
    )
    assert fields["oauth_signature"] == expected
    assert request.content == b'{"text":"hello"}'


def test_credentials_never_show_their_secrets() -> None:
    shown = repr(X_EXAMPLE)
    assert all(secret not in shown for secret in X_EXAMPLE.secrets()[1:])
    assert X_EXAMPLE.user_id() == "370773112"
