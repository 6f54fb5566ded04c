"""Personas in study.toml: read with their channel's defaults, every mistake named at its line."""

from __future__ import annotations

from study.load import load_study
from study.personas import BALANCED, Assignment, personas_of
from tests.e2e.studies import persona_tables
from tests.study.conftest import StudyFolder

PERSONAS = persona_tables(
    {
        "anna": {
            "channel": "x", "account": "anna_probe", "token_env": "ANNA_X_TOKEN",
            "country": "DE", "language": "de", "gender": "f", "name_signal": "german",
            "followers": 120,
        },
        "bob": {
            "channel": "x", "account": "bob_probe", "token_env": "BOB_X_TOKEN",
            "country": "US", "verified": False,
        },
    }
)  # fmt: skip


def test_personas_are_read_with_their_channel_defaults(folder: StudyFolder) -> None:
    folder.append("study.toml", PERSONAS)
    study = load_study(folder.path)
    assert study.assignment == Assignment("by_country", None)
    anna, bob = study.personas
    assert (anna.name, anna.channel, anna.account) == ("anna", "x", "anna_probe")
    assert anna.settings.token_env == "ANNA_X_TOKEN"
    assert anna.settings.api_base == "https://api.x.com"  # from [channels.x]
    assert anna.attributes == (
        ("country", "DE"),
        ("followers", "120"),
        ("gender", "f"),
        ("language", "de"),
        ("name_signal", "german"),
    )
    assert bob.attribute("verified") == "false"
    assert bob.country == "US"
    assert personas_of(study) == (anna, bob)


def test_a_study_without_personas_has_one_per_channel_named_after_it(folder: StudyFolder) -> None:
    study = load_study(folder.path)
    assert study.personas == ()
    [x] = personas_of(study)
    assert (x.name, x.channel, x.account, x.declared) == ("x", "x", "replybenchprobe", False)


def test_a_persona_on_a_channel_the_study_lacks(folder: StudyFolder) -> None:
    folder.append("study.toml", '\n[personas.carla]\nchannel = "mastodon"\naccount = "carla"\n')
    line = folder.line_of("study.toml", 'channel = "mastodon"')
    assert folder.problems() == [
        f"study.toml:{line}: persona 'carla': the study has no [channels.mastodon] table; add "
        "one (its keys are the defaults of its personas' keys)"
    ]


def test_a_persona_without_a_channel(folder: StudyFolder) -> None:
    folder.append("study.toml", '\n[personas.carla]\naccount = "carla"\n')
    line = folder.line_of("study.toml", "[personas.carla]")
    assert folder.problems() == [
        f"study.toml:{line}: [personas.carla] has no channel (the name of one of the study's "
        '[channels.*] tables); add it: e.g. "x"; the channel\'s table gives the defaults of '
        "the persona's keys"
    ]


def test_a_persona_named_like_a_channel_or_badly(folder: StudyFolder) -> None:
    folder.append(
        "study.toml", '\n[personas.x]\nchannel = "x"\n\n[personas."Anna B"]\nchannel = "x"\n'
    )
    assert folder.problems() == [
        f"study.toml:{folder.line_of('study.toml', '[personas.x]')}: persona 'x' is named like a "
        "channel, and a channel's name stands for its one account in a study without "
        "personas; call it e.g. 'x-x1'",
        f"study.toml:{folder.line_of('study.toml', 'Anna B')}: persona 'Anna B' is not a name of "
        "lower-case letters, digits, '-' and '_' (at most 40); call it e.g. 'anna-b'",
    ]


def test_a_misspelt_setting_is_not_taken_for_an_attribute(folder: StudyFolder) -> None:
    folder.append("study.toml", '\n[personas.carla]\nchannel = "x"\naccont = "carla_probe"\n')
    line = folder.line_of("study.toml", "accont")
    assert folder.problems() == [
        f"study.toml:{line}: persona 'carla': 'accont' is not a key of a x persona; did you mean "
        "'account'? (free attributes must not look like settings)"
    ]


def test_bad_attributes_are_named_with_the_fix(folder: StudyFolder) -> None:
    folder.append(
        "study.toml",
        '\n[personas.carla]\nchannel = "x"\naccount = "carla_probe"\ncountry = "UK"\n'
        'followers = -3\nhobbies = ["chess"]\n',
    )
    got = folder.problems()
    assert got == [
        f"study.toml:{folder.line_of('study.toml', 'UK')}: persona 'carla': "
        "country 'UK' is not an ISO 3166-1 alpha-2 code; did you mean 'GB'?",
        f"study.toml:{folder.line_of('study.toml', 'followers')}: persona 'carla': followers "
        "must be a whole number >= 0, not -3; write the account's follower count when the "
        "study is set up (the runner records it at each send where the platform shows it)",
        f"study.toml:{folder.line_of('study.toml', 'hobbies')}: persona 'carla': hobbies must "
        "be a text, a number or true/false, not ['chess']; e.g. hobbies = \"f\"",
    ]


def test_two_personas_on_one_account(folder: StudyFolder) -> None:
    folder.append(
        "study.toml",
        '\n[personas.carla]\nchannel = "x"\n\n[personas.dora]\nchannel = "x"\n',
    )
    line = folder.line_of("study.toml", "[personas.dora]")
    assert folder.problems() == [
        f"study.toml:{line}: personas carla and dora both send from x account @replybenchprobe; "
        "give each persona its own account (account = ...): one account per persona is what "
        "keeps caps and the platforms' limits per account"
    ]


def test_a_credential_written_in_a_persona_is_never_shown(folder: StudyFolder) -> None:
    secret = (
        "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2X"
        + "zMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
    )
    folder.append("study.toml", f'\n[personas.carla]\nchannel = "x"\ntoken_env = "{secret}"\n')
    got = folder.problems()
    assert len(got) == 1 and secret not in got[0] and "not shown" in got[0]


def test_an_assignment_with_an_unknown_design(folder: StudyFolder) -> None:
    folder.append("study.toml", '\n[assignment]\ndesign = "random"\n')
    line = folder.line_of("study.toml", 'design = "random"')
    assert folder.problems() == [
        f"study.toml:{line}: design must be one of by_country, balanced, not 'random'; write "
        '"by_country" (each country\'s brands asked by its own personas) or "balanced" '
        "(every brand asked by each persona equally often)"
    ]
    folder.edit("study.toml", '"random"', f'"{BALANCED}"\nmax_per_brand = 2')
    assert load_study(folder.path).assignment == Assignment(BALANCED, 2)


def test_a_persona_inherits_only_its_own_credential_schemes_keys(folder: StudyFolder) -> None:
    """init's [channels.x] names OAuth 1.0a keys: a persona with a bearer token must not sign
    with them, and one with its own access token keeps the app's consumer keys."""
    folder.append(
        "study.toml",
        persona_tables(
            {
                "anna": {"channel": "x", "account": "anna_probe", "token_env": "ANNA_X_TOKEN"},
                "bob": {
                    "channel": "x",
                    "account": "bob_probe",
                    "access_token_env": "BOB_AT",
                    "access_token_secret_env": "BOB_ATS",
                },
            },
            design=None,
        ),  # fmt: skip
    )
    anna, bob = load_study(folder.path).personas
    assert anna.settings.token_env == "ANNA_X_TOKEN"
    assert not [k for k, _ in anna.settings.options if k.endswith("_env")]
    assert {k: v for k, v in bob.settings.options if k.endswith("_env")} == {
        "access_token_env": "BOB_AT",
        "access_token_secret_env": "BOB_ATS",
        "consumer_key_env": "REPLYBENCH_X_CONSUMER_KEY",
        "consumer_secret_env": "REPLYBENCH_X_CONSUMER_SECRET",
    }
