"""Which probe a DM answers: only what ties it decides; otherwise it stays unmatched.

The study: brand `globex` with one global Mastodon account asked from DE, JP, US and GB
(GB and US share English), and brand `acme` with local accounts in DE and US.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from probes.channels.base import Reply
from probes.language import language_of
from probes.matching import Match, Matcher
from probes.sim.texts import TEMPLATES, Say
from study.model import Country, Ethics, ReplyKind, Scope, Study, Target

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)
GLOBAL = "globex@social.globex.test"
GERMAN_DM = "Hallo, danke fürs Warten. Wir haben uns das angesehen: Alles ist unterwegs."
ENGLISH_DM = "Hi, thanks for waiting. We have looked into your question and sorted it out."
JAPANESE_DM = "お待たせいたしました。確認したところ、すべて手配済みです。"
REDIRECT = "Sorry to hear that! Please send us a DM so we can look into it."
UNCLEAR = "OK 👍"


SUPPORT = "acme_hilfe@a.test"  # acme's support account, answering for acme_de


def study(answers_from: tuple[str, ...] = ()) -> Study:
    countries = (
        Country("DE", "Germany", "Europe/Berlin", "de"),
        Country("GB", "United Kingdom", "Europe/London", "en"),
        Country("JP", "Japan", "Asia/Tokyo", "ja"),
        Country("US", "United States", "America/New_York", "en"),
    )
    targets = [
        Target("globex", "Globex", "retail", c.code, "mastodon", GLOBAL, Scope.GLOBAL)
        for c in countries
    ] + [
        Target("acme", "Acme", "retail", c, "mastodon", f"acme_{c.lower()}@a.test", Scope.LOCAL,
               answers_from=answers_from if c == "DE" else ())
        for c in ("DE", "US")
    ]  # fmt: skip
    return Study("t", 1, 72, date(2026, 3, 2), date(2026, 3, 6), 1, 0, Ethics(9, 9), (), (),
                 countries, tuple(targets), ())  # fmt: skip


class Inbox:
    """A matcher fed like the runner feeds it, with probes sent at hours after T0."""

    def __init__(self, answers_from: tuple[str, ...] = ()) -> None:
        self.matcher = Matcher(study(answers_from))
        self._n = 0

    def sent(self, country: str, hours: float, brand: str = "globex") -> str:
        handle = GLOBAL if brand == "globex" else f"acme_{country.lower()}@a.test"
        probe_id = f"{brand}-{country}-mastodon-r1"
        at = T0 + timedelta(hours=hours)
        self.matcher.add(probe_id=probe_id, brand=brand, channel="mastodon", handle=handle,
                         message_id=f"post-{probe_id}", sent_at=at, closes_at=at + WINDOW,
                         country=country)  # fmt: skip
        return probe_id

    def reply(
        self,
        hours: float,
        text: str,
        kind: ReplyKind = ReplyKind.DIRECT_MESSAGE,
        *,
        to: str | None = None,
        author: str = GLOBAL,
    ) -> Reply:
        self._n += 1
        return Reply(f"r{self._n}", "mastodon", author, "1", text, T0 + timedelta(hours=hours),
                     kind, to)  # fmt: skip

    def match(self, *args: object, **kwargs: object) -> Match:
        return self.matcher.match(self.reply(*args, **kwargs))  # type: ignore[arg-type]


def test_a_dm_goes_to_the_probe_that_asked_for_it_not_to_the_latest_probe() -> None:
    """Issue 9: DE got "please DM us", then a German DM came after the US probe was sent."""
    box = Inbox()
    de = box.sent("DE", 0)
    assert box.match(2, REDIRECT, ReplyKind.REDIRECT, to=f"post-{de}") == Match(de)
    us = box.sent("US", 5)
    box.sent("JP", 6)
    assert box.match(30, GERMAN_DM) == Match(de)
    # Without the German words the redirect alone settles it.
    box2 = Inbox()
    de2 = box2.sent("DE", 0)
    box2.match(2, REDIRECT, ReplyKind.REDIRECT, to=f"post-{de2}")
    box2.sent("US", 5)
    assert box2.match(30, UNCLEAR) == Match(de2)
    assert us != de


def test_the_text_s_language_ties_a_dm_that_nothing_else_ties() -> None:
    box = Inbox()
    de, jp, us = box.sent("DE", 0), box.sent("JP", 1), box.sent("US", 2)
    assert box.match(10, JAPANESE_DM) == Match(jp)
    assert box.match(11, GERMAN_DM) == Match(de)
    # US asked to move to DMs and waits for its DM: a Japanese DM is still Japan's.
    box.match(12, REDIRECT, ReplyKind.REDIRECT, to=f"post-{us}")
    assert box.match(13, JAPANESE_DM) == Match(jp)
    assert box.match(14, ENGLISH_DM) == Match(us)


def test_a_dm_that_several_probes_fit_is_left_unmatched_with_them_named() -> None:
    box = Inbox()
    us, gb = box.sent("US", 0), box.sent("GB", 1)
    assert box.match(5, ENGLISH_DM) == Match(None, (us, gb))  # both English, both open
    assert box.match(6, UNCLEAR) == Match(None, (us, gb))
    # A redirect on one of them settles the next one.
    box.match(7, REDIRECT, ReplyKind.REDIRECT, to=f"post-{gb}")
    assert box.match(8, ENGLISH_DM) == Match(gb)
    # ... and only that one: GB has had its DM.
    assert box.match(9, ENGLISH_DM) == Match(None, (us, gb))


def test_the_one_open_probe_of_an_account_takes_its_dm() -> None:
    box = Inbox()
    de = box.sent("DE", 0)
    assert box.match(1, UNCLEAR) == Match(de)
    us = box.sent("US", 80)  # DE's window closed at 72 h
    assert box.match(81, ENGLISH_DM) == Match(us)


def test_a_late_dm_in_a_closed_probe_s_language_is_not_given_to_the_open_one() -> None:
    box = Inbox()
    de = box.sent("DE", 0)
    us = box.sent("US", 80)
    assert box.match(90, GERMAN_DM) == Match(None, (us,))
    # A redirect keeps its probe waiting for the DM past its window.
    box = Inbox()
    de = box.sent("DE", 0)
    box.match(60, REDIRECT, ReplyKind.REDIRECT, to=f"post-{de}")
    box.sent("US", 80)
    assert box.match(95, GERMAN_DM) == Match(de)


def test_a_local_account_s_dm_goes_to_its_own_probe() -> None:
    box = Inbox()
    de = box.sent("DE", 0, brand="acme")
    box.sent("US", 5, brand="acme")
    assert box.match(30, ENGLISH_DM, author="acme_de@a.test") == Match(de)


def test_a_support_account_s_dm_goes_to_the_probe_of_the_account_it_answers_for() -> None:
    """targets.csv lists acme_hilfe in acme DE's answers_from: its DM answers the DE probe,
    though the US probe was sent later; unlisted, it is nobody's and ties nothing."""
    box = Inbox(answers_from=(SUPPORT,))
    de = box.sent("DE", 0, brand="acme")
    box.sent("US", 5, brand="acme")
    assert box.match(30, ENGLISH_DM, author=SUPPORT) == Match(de)
    unlisted = Inbox()
    unlisted.sent("DE", 0, brand="acme")
    unlisted.sent("US", 5, brand="acme")
    assert unlisted.match(30, ENGLISH_DM, author=SUPPORT) == Match(None)


def test_a_reply_in_the_thread_of_a_tied_reply_follows_it() -> None:
    box = Inbox()
    de = box.sent("DE", 0)
    box.sent("US", 1)
    redirect = box.reply(2, REDIRECT, ReplyKind.REDIRECT, to=f"post-{de}")
    box.matcher.match(redirect)
    box.match(3, "Thanks for your message!", ReplyKind.AUTO_ACK)  # settles nothing
    assert box.match(4, ENGLISH_DM, to=redirect.reply_id) == Match(de)


def test_what_the_journal_holds_is_remembered_after_a_restart() -> None:
    box = Inbox()
    de = box.sent("DE", 0)
    box.sent("US", 5)
    redirect = box.reply(2, REDIRECT, ReplyKind.REDIRECT, to=f"post-{de}")
    box.matcher.remember(redirect, de)  # read back from the journal
    dm = box.reply(30, UNCLEAR)
    assert box.matcher.match(dm) == Match(de)
    # An item read twice (a crash before the cursor was stored) keeps its first decision.
    assert box.matcher.match(dm) == Match(de)


def test_a_dm_from_nobody_s_account_is_unmatched_and_not_ambiguous() -> None:
    box = Inbox()
    box.sent("DE", 0)
    assert box.match(1, GERMAN_DM, author="maria_k_83@mastodon.social") == Match(None)


def test_language_is_told_only_when_it_is_clear() -> None:
    assert language_of(GERMAN_DM, {"de", "en"}) == "de"
    assert language_of(JAPANESE_DM, {"de", "en", "ja"}) == "ja"
    assert language_of(ENGLISH_DM, {"de", "en", "fr"}) == "en"
    assert language_of(UNCLEAR, {"de", "en"}) is None
    assert language_of(GERMAN_DM, {"de"}) is None  # nothing to tell apart
    assert language_of(GERMAN_DM, {"de", "xx"}) is None  # an unknown candidate: no answer
    assert language_of("Danke!", {"de", "en"}) is None  # one word is not enough


def test_the_simulator_s_dms_are_told_apart_in_every_pair_of_its_languages() -> None:
    """Never a wrong language for any of the simulator's texts; a DM's always found."""
    for a, kinds in TEMPLATES.items():
        for b in TEMPLATES:
            for kind, texts in kinds.items():
                for text in texts:
                    found = language_of(text, {a, b}) if a != b else None
                    assert found in (a, None), (a, b, text)
                    if a != b and kind is Say.DM:
                        assert found == a, (a, b, text)
