"""A synthetic TWCS-format corpus shaped like the real one, for the benchmark and the tests.

The real "Customer Support on Twitter" file (2,811,774 rows; its first 5,000 rows are in
../shared/fixtures/twcs, which may not be copied here) was studied for: customers named by
numbers from 115712 up and brands by handles in mixed case (`AmazonHelp`, `Uber_Support`,
`sprintcare`), few brands holding most inquiries, texts of 6-390 characters (median about
106) with @mentions, t.co links, emoji, curly quotes, `&amp;`, agents' signatures (`^MS`,
`-KC`, `*AMC`) and some other languages, times to the second, conversations of an inquiry,
the brand's response and follow-ups, about 6% of inquiries unanswered, a fifth of responses
asking for a DM, response times from half a minute to days (median about 12 minutes). Rows
are listed conversation by conversation as in the real file, which carries a leading unnamed
index column, `in_response_to_tweet_id` as floats, comma lists in `response_tweet_id`, a
few texts with bare carriage returns outside quotes, and quoted texts over several lines.

Everything is drawn from one seeded numpy generator, so a size and seed give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

ROWS = 2_811_774
BRANDS = 100
SEED = 20171031
START = np.datetime64("2017-10-01T00:00:00")
DAYS = 62

_PREFIXES = [
    "Amazon", "Apple", "Uber", "Spotify", "Delta", "Comcast", "Xbox", "PlayStation", "Tesco",
    "Sprint", "Hulu", "Virgin", "Chipotle", "PayPal", "Verizon", "Spectrum", "Alaska", "Sainsbury",
    "Southwest", "British", "Airbnb", "Nike", "Adobe", "Dropbox", "Netflix", "Walmart", "Target",
    "Argos", "Boots", "Ryanair", "Jet", "Asda", "Morrisons", "Sky", "Vodafone", "O2", "Three",
    "Tmobile", "ATT", "Dell", "HP", "Lenovo", "Microsoft", "Google", "Square", "Venmo", "Lyft",
    "Doordash", "Postmates", "Grubhub", "Fedex", "UPS", "USPS", "Royal", "Hermes", "Ikea",
    "Zappos", "Etsy", "Ebay", "Steam", "Nintendo", "Blizzard", "Twitch", "Yahoo", "Wells", "Chase",
]  # fmt: skip
_SUFFIXES = ["Help", "Support", "Cares", "_Support", "Care", "", "_Help", "Service", "Assist"]
_OPENERS = [
    "", "hey ", "Hi, ", "why is it that ", "so ", "ugh ", "Hello! ", "seriously ", "@115714 ",
    "Is there a reason ", "can someone tell me why ", "I’m done. ", "Good morning, ",
]  # fmt: skip
_PROBLEMS = [
    "my order hasn't arrived and it's been 2 weeks", "the app keeps crashing since the update",
    "I was charged twice for the same ride", "my flight got delayed again and no one at the gate knows anything",  # noqa: E501
    "my package says delivered but it's not here", "I can't log into my account",
    "the wifi on this train is not working", "my refund still hasn't come through",
    "your customer service is a joke", "I've been on hold for an hour",
    "my phone won't update to iOS 11", "the battery drains so fast after the update",
    "the driver cancelled and I still got charged", "my bag never made it to Denver",
    "there's no signal in my area since Tuesday", "the random password reset emails won't stop",
    "improve your delivery times please", "the company keeps sending me the wrong item",
    "my download is stuck at 99%", "the admin panel shows an error", "why is my bill so high",
    "I need to change my seat", "the playlist I made disappeared", "the game won't launch",
    "my card was declined but the money left my account", "the store had no stock again",
    "mi pedido no ha llegado todavía", "la app no funciona desde ayer", "注文した商品が届きません",
    "ma commande n’est toujours pas arrivée", "meine Bestellung ist nicht angekommen",
    "the command centre told me to call back tomorrow", "is the outage in Chicago fixed yet",
    "amp up your game, the new menu is terrible", "love the new update!! 😍",
    "thanks for the quick help yesterday", "the MD of your company should read this",
    "my PM at work says your API is down", "the queue at the airport is insane",
]  # fmt: skip
_DETAILS = [
    "", "", " 😡", " 🙄", " 😤😤", " !!!", "?", " #fail", " #customerservice", " smh",
    " https://t.co/0G98RtNxPK", " what do I do now?", " this is ridiculous", " 💯",
    " I’ve tried everything", " order #{n}", " &amp; nobody replies", " 🤥 💯",
    " (third time this month)", " help?", " ...", " pls fix",
]  # fmt: skip
_GREETINGS = [
    "", "Hi there! ", "Hey, ", "Hello! ", "We're sorry to hear that. ", "Oh no! ",
    "Sorry to hear that, ", "Thanks for reaching out. ", "That's not good. ", "Hi Carrie. ",
    "We hear you. ", "Good evening Solomon. ", "Yikes! ", "We’re sorry for the trouble. ",
]  # fmt: skip
_ANSWERS = [
    "Can you tell us which device you're using?", "Have you tried restarting the app?",
    "Which version of iOS are you on?", "Flight #6353 is set to depart at 8 p.m.",
    "Your refund was issued and should show within 3-5 business days.",
    "We'd like to help with this. What error are you seeing?",
    "Our team is working on a fix right now.", "Let us know if that helps!",
    "You can change your seat here: https://t.co/nrhUDiEk7G",
    "Please check Settings &gt; General &gt; Software Update.",
    "This should be resolved now. Let us know if you still see it.",
    "We've passed this on to the store manager.", "Glad we could help, have a great weekend!",
    "Could you confirm the email address on the account?",
    "We understand your concerns and we're looking into it for you.",
    "Thanks for the feedback, we'll share it with the team.",
    "What's your zip code? We'll check for outages.",
    "We're sorry for the delay; the package is on its way.",
    "Lamentamos las molestias, ¿nos indicas tu número de pedido?",
    "Das tut uns leid. Wir kümmern uns darum.", "ご不便をおかけして申し訳ございません。",
    "Tell us more about what happened at the counter.",
]  # fmt: skip
_REDIRECTS = [
    "Please DM us your order number.", "Send us a DM with your account email.",
    "Could you send us a private message with the details?", "Please shoot us a DM, so that we can look into this for you.",  # noqa: E501
    "Let's meet up in DM to gather some specifics.", "DM us here: https://t.co/GDrqU22YpT",
    "Please send us a Direct Message so we can assist.", "Pls, DM your confirmation number for assistance.",  # noqa: E501
    "Envíanos un mensaje directo con tu número de pedido.", "DMにてご連絡ください。",
]  # fmt: skip
_ACKS = [
    "Thanks for reaching out! Our team will get back to you shortly.",
    "This is an automated reply: we have received your message.",
    "We've received your message and will reply within 24 hours.",
]
_SIGNATURES = ["", "", "", " ^MS", " -KC", " *AMC", " -AA", " ^Teresa", " -EG", " *QB", " -Shawn"]
_FOLLOWUPS = [
    "I did.", "still nothing", "ok thanks", "Done, sent you a DM", "It's the iPhone 7",
    "that didn't work", "thank you so much!! 🙏", "order number is {n}", "how long will it take?",
    "and how do you propose we do that", "It's been 3 days now",
]  # fmt: skip
_REPLIES_AGAIN = [
    "Thanks! We've got it from here.",
    "Got it, we'll follow up in DM.",
    "Sorry about that. Let's try a reset next.",
    "Happy to help!",
    "We'll look into it.",
]


def brand_handles(n: int, rng: np.random.Generator) -> list[str]:
    """`n` distinct handles (also without case) in the real file's styles."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        name = str(rng.choice(_PREFIXES)) + str(rng.choice(_SUFFIXES))
        style = rng.integers(0, 4)
        name = name.lower() if style == 0 else name
        name = f"Ask{name}" if style == 1 and not name.startswith("Ask") else name
        if len(out) > 60:
            name = f"{name}{rng.integers(2, 99)}"
        if name.lower() not in seen and len(name) <= 15:
            seen.add(name.lower())
            out.append(name)
    return out


def _pick(rng: np.random.Generator, bank: list[str], size: int) -> pa.Array:
    return pa.array(np.asarray(bank, dtype=object)[rng.integers(0, len(bank), size)])


def corpus_table(rows: int, *, brands: int = BRANDS, seed: int = SEED) -> pa.Table:
    """The parts of each tweet (ids, authors, times, text pieces) as one Arrow table."""
    rng = np.random.default_rng(seed)
    handles = brand_handles(brands, rng)
    zipf = 1.0 / np.arange(1, brands + 1)
    n_conv = int(rows / 3.0) + 1
    brand = rng.choice(brands, size=n_conv, p=zipf / zipf.sum())
    customer = 115712 + rng.integers(0, n_conv // 2 + 1, n_conv)
    day_second = rng.normal(15.5 * 3600, 4.5 * 3600, n_conv).astype(np.int64) % 86400
    asked = rng.integers(0, DAYS, n_conv) * 86400 + day_second
    speed = np.exp(rng.normal(0, 0.6, brands))[brand]
    slow = rng.random(n_conv) < 0.15
    delay = np.where(
        slow, rng.lognormal(np.log(20000), 1.0, n_conv), rng.lognormal(np.log(500), 1.1, n_conv)
    )
    delay = np.maximum(20, (delay * speed).astype(np.int64))
    fate = rng.random(n_conv)  # < 0.06 unanswered, < 0.08 answered by another brand
    responder = np.where(fate < 0.08, (brand + 1 + rng.integers(0, brands - 1, n_conv)) % brands,
                         brand)  # fmt: skip
    answered = fate >= 0.06
    follow = np.where(answered, rng.geometric(0.64, n_conv) - 1, 0)
    size = 1 + answered + 2 * follow
    conv = np.repeat(np.arange(n_conv), size)
    k = np.arange(len(conv)) - np.repeat(np.cumsum(size) - size, size)  # 0 = inquiry
    first_id = 1 + np.cumsum(size) - size
    tweet_id = first_id[conv] + k
    steps = np.maximum(20, rng.lognormal(np.log(300), 1.2, len(conv)).astype(np.int64))
    at = asked[conv] + np.where(k == 0, 0, delay[conv]) + np.where(k >= 2, steps * (k - 1), 0)
    inbound = k % 2 == 0
    handle = np.asarray(handles, dtype=object)
    author = np.where(inbound, customer[conv].astype(str).astype(object),
                      handle[np.where(k == 1, responder[conv], brand[conv])])  # fmt: skip
    n = len(conv)
    mention_kind = rng.random(n)
    to_brand = np.where(mention_kind < 0.05, np.char.lower(handle[brand[conv]].astype(str)),
                        handle[brand[conv]].astype(str))  # fmt: skip
    lead = np.where((mention_kind > 0.05) & (mention_kind < 0.07), "@115714 ", "")
    extra = np.where(mention_kind > 0.97, " @" + handle[rng.integers(0, brands, n)].astype(str), "")
    kind_roll = rng.random(n)
    reply_bank = np.where(kind_roll < 0.2, 1, np.where(kind_roll < 0.203, 2, 0))
    reply_text = np.where(
        reply_bank == 1,
        np.asarray(_REDIRECTS, dtype=object)[rng.integers(0, len(_REDIRECTS), n)],
        np.where(reply_bank == 2, np.asarray(_ACKS, dtype=object)[rng.integers(0, len(_ACKS), n)],
                 np.asarray(_ANSWERS, dtype=object)[rng.integers(0, len(_ANSWERS), n)]),
    )  # fmt: skip
    return pa.table(
        {
            "row": pa.array(np.arange(n)),
            "tweet_id": pa.array(tweet_id),
            "k": pa.array(k),
            "size": pa.array(size[conv]),
            "author": pa.array(author.astype(str)),
            "inbound": pa.array(inbound),
            "ts": pa.array((START + at.astype("timedelta64[s]")).astype("datetime64[us]")),
            "to_brand": pa.array(to_brand.astype(str)),
            "extra": pa.array(extra.astype(str)),
            "lead": pa.array(lead.astype(str)),
            "customer": pa.array(customer[conv]),
            "opener": _pick(rng, _OPENERS, n),
            "problem": _pick(rng, _PROBLEMS, n),
            "detail": _pick(rng, _DETAILS, n),
            "more": _pick(rng, _PROBLEMS, n),
            "greeting": _pick(rng, _GREETINGS, n),
            "also": _pick(rng, _ANSWERS, n),
            "reply": pa.array(reply_text.astype(str)),
            "signature": _pick(rng, _SIGNATURES, n),
            "followup": _pick(rng, _FOLLOWUPS, n),
            "again": _pick(rng, _REPLIES_AGAIN, n),
            "number": pa.array(rng.integers(1000, 99_999_999, n)),
            "quirk": pa.array(rng.random(n)),
        }
    ).slice(0, rows)


LINES_SQL = """
-- One CSV line per tweet, in the real file's layout (quoting only where a field needs it).
WITH t AS (
    SELECT *,
        CASE
            WHEN k = 0 THEN lead || '@' || to_brand || extra || ' ' || opener || problem
                || replace(detail, '{n}', number::VARCHAR)
                || CASE WHEN quirk < 0.6 THEN ' ' || more ELSE '' END
            WHEN inbound THEN '@' || to_brand || ' ' || replace(followup, '{n}', number::VARCHAR)
            WHEN k = 1 THEN '@' || customer || ' ' || greeting || reply
                || CASE WHEN quirk < 0.6 THEN ' ' || also ELSE '' END || signature
            ELSE '@' || customer || ' ' || again || signature
        END AS body
    FROM parts
), q AS (
    SELECT *,
        CASE WHEN quirk < 0.00002 AND k = 0  -- bare CRs (in a text without commas or quotes)
                THEN replace(regexp_replace(body, '[,"]', '', 'g'), ' ', chr(13))
             WHEN quirk > 0.999 THEN '"' || replace(body, '. ', '.' || chr(10)) || '"'
             WHEN body ~ '[",\\n]' THEN '"' || replace(body, '"', '""') || '"'
             ELSE body END AS field,
        CASE WHEN k + 1 < size THEN (tweet_id + 1)::VARCHAR ELSE '' END AS responses,
        CASE WHEN k = 0 THEN '' ELSE (tweet_id - 1)::VARCHAR || '.0' END AS parent
    FROM t
)
SELECT concat_ws(',', row::VARCHAR, tweet_id::VARCHAR, author,
                 CASE WHEN inbound THEN 'True' ELSE 'False' END,
                 strftime(ts, '%a %b %d %H:%M:%S +0000 %Y'), field,
                 CASE WHEN k = 0 AND quirk < 0.1 AND size > 1
                      THEN '"' || responses || ',' || (tweet_id + 999999999)::VARCHAR || '"'
                      ELSE responses END,
                 parent) || chr(10) AS line
FROM q ORDER BY row
"""
HEADER = ",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"


def write_corpus(path: Path, rows: int = ROWS, *, brands: int = BRANDS, seed: int = SEED) -> None:
    """Write the synthetic corpus of `rows` tweets to `path`."""
    parts = corpus_table(rows, brands=brands, seed=seed)
    con = duckdb.connect()
    try:
        con.register("parts", parts)
        reader = con.sql(LINES_SQL).to_arrow_reader(500_000)
        with path.open("wb") as f:
            f.write(HEADER.encode())
            for batch in reader:
                lines = batch.column(0)
                offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
                start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
                f.write(memoryview(lines.buffers()[2])[start:end])
    finally:
        con.close()
