"""Telling a "please DM us" redirect and an automatic acknowledgement from an answer.

Brands often answer a public inquiry by asking the customer to move to private messages
(UXalliance counted these separately), and some accounts fire an automatic "we received your
message" reply. Both are recognised by their wording, in the languages the example study uses.
Channels with a machine-readable signal (e-mail's Auto-Submitted header) use that first.
"""

from __future__ import annotations

import re

from study.model import ReplyKind

# Phrases that ask the customer to continue in private. Matched case-insensitively.
REDIRECT_PATTERNS = [
    r"\bDM\b",
    r"\bdirect message",
    r"\bprivate message",
    r"\bsend us a (?:private |direct )?message",
    r"\bDirektnachricht",
    r"\bprivate Nachricht",
    r"\bPN\b",
    r"\bmessage privé",
    r"\bMP\b",
    r"\bmensaje (?:directo|privado)",
    r"\bMD\b",
    r"\bmessaggio (?:privato|diretto)",
    r"\bprivébericht",
    r"\bdirect bericht",
    r"\bprivat(?:a|)meddelande",
    r"\bDM:a\b",
    r"\bwiadomoś[ćc] prywatn",
    r"\bprywatnej wiadomości",
    r"\bözel mesaj",
    r"\bmensagem (?:direta|privada)",
    r"ダイレクトメッセージ",
    r"\bDMにて",
    r"다이렉트 메시지",
    r"\bDM으로",
]

# Phrases of automatic acknowledgements ("we have received your message").
AUTO_ACK_PATTERNS = [
    r"\bthis is an automat",
    r"\bautomatic reply",
    r"\bauto-?reply",
    r"\bwe(?:'ve| have) received your (?:message|request|inquiry)",
    r"\bthanks for (?:your message|reaching out)[.!]? (?:we|our team) will (?:get back|reply)",
    r"\bautomatische Antwort",
    r"\bréponse automatique",
    r"\brespuesta automática",
    r"\brisposta automatica",
    r"\bautomatisch antwoord",
    r"\bautomatiskt svar",
    r"\bautomatyczna odpowiedź",
    r"\botomatik yanıt",
    r"\bresposta automática",
    r"自動返信",
    r"자동 응답",
]

_REDIRECT_RE = re.compile("|".join(REDIRECT_PATTERNS), re.IGNORECASE)
_AUTO_ACK_RE = re.compile("|".join(AUTO_ACK_PATTERNS), re.IGNORECASE)


def classify_public_text(text: str) -> ReplyKind:
    """Kind of a public reply from its wording: auto-acknowledgement, redirect, or answer."""
    if _AUTO_ACK_RE.search(text):
        return ReplyKind.AUTO_ACK
    if _REDIRECT_RE.search(text):
        return ReplyKind.REDIRECT
    return ReplyKind.PUBLIC_REPLY


def classify_private_text(text: str) -> ReplyKind:
    """Kind of a direct message: auto-acknowledgement or a real answer."""
    if _AUTO_ACK_RE.search(text):
        return ReplyKind.AUTO_ACK
    return ReplyKind.DIRECT_MESSAGE
