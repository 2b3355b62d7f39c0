"""Leaks and breakages a review found in the first version of the rules, each kept as a case."""

from __future__ import annotations

import re

import orjson
import pytest

from shadow.config import RedactionSettings
from shadow.redaction import Redactor

REDACT = Redactor.from_settings(RedactionSettings(), {"SHADOW_REDACTION_KEY": "test-key"})


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("exp 2027 4111 1111 1111 1111", "4111"),  # a group starting with 2-6 before the card
        ("CVV 456 4111-1111-1111-1111", "4111"),
        ("qty 2 4111111111111111", "4111111111111111"),
        ("DE89370400440532013000 NO9386011117947", "NO9386011117947"),  # an IBAN right after another
        ("Ref AB12 DE89 3704 0044 0532 0130 00", "3704"),  # after an IBAN-like group
        ("Tel +49 30 1234567 10115 Berlin", "1234567"),  # more digits than a phone number
        ("020 7946 0958 020 7946 0959", "0959"),  # two numbers in a row
        ("(+44) 20 7946 0958", "7946"),
        ('"key: \\nsk-abcdefghijklmnopqrstu"', "sk-abc"),  # after an escape letter
        ('"\\nAKIAIOSFODNN7EXAMPLE"', "AKIA"),
        ('"\\nBearer abcdefghijklmnopqrstuvwxyz"', "abcdefghijklmnop"),
        ('"IBAN:\\nDE89370400440532013000"', "DE89"),
        ("Karte:\\xa04111 1111 1111 1111, IBAN:\\xa0DE89370400440532013000", "4111"),  # a dead letter's escapes
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc and rk_test_abcdefghijkl", "4eC39"),  # Stripe
        ("josé@example.com, bob@bücher.de, müller@example.de", "@"),  # letters with diacritics
        ("authorization: bearer abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnop"),
    ],
)
def test_no_leak(text: str, secret: str) -> None:
    assert secret not in REDACT(text) and secret not in REDACT.cut(text, len(text) + 10)


def test_an_escape_before_an_address_stays_an_escape() -> None:
    redacted = REDACT('{"note": "Contact:\\nbob@example.com"}')
    assert orjson.loads(redacted)["note"].startswith("Contact:\n[EMAIL:")
    fenced = REDACT.cut('Here:\n```json\n{"note": "Contact:\\nbob@example.com"}\n```', 1000)
    assert orjson.loads(fenced.split("```json\n")[1].split("\n```")[0])["note"].startswith("Contact:\n[EMAIL:")
    assert REDACT("bob@example.com") in REDACT('"\\nbob@example.com"')  # the same address, the same token


def test_keys_that_are_one_value_written_two_ways_stay_apart() -> None:
    for document in ({"bob@example.com": 1, "BOB@example.com": 2}, {"+44 20 7946 0958": "a", "+442079460958": "b"}):
        redacted = orjson.loads(REDACT.cut(orjson.dumps(document).decode(), 1000))
        assert len(redacted) == 2 and list(redacted.values()) == list(document.values())


def test_a_json_document_that_fits_stays_valid_when_its_tokens_make_it_longer() -> None:
    text = '["+44 20 7946 0958"]'
    stored = REDACT.cut(text, len(text))
    assert re.fullmatch(r'\["\[PHONE:[a-p]{12}\]"\]', stored), stored


def test_an_escape_in_json_cannot_hide_a_token() -> None:
    assert "abcdefgh" not in REDACT.cut('{"auth": "Bearer abcdefgh\\/ijklmnopqrstuv"}', 1000)


def test_keys_below_a_json_path_pass_the_rules() -> None:
    redact = Redactor.from_settings(RedactionSettings(json_paths=["$.user"]), {"SHADOW_REDACTION_KEY": "k"})
    assert "bob@example.com" not in redact.cut('{"user": {"bob@example.com": "x"}}', 1000)


def test_a_jwt_cut_at_the_kept_length_is_not_kept_in_half() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9." + "eyJ1cG4iOiAiamFuZS5kb2VAY29u" + "A" * 1500 + ".sig"
    stored = REDACT.cut("x" * 150 + " " + jwt + " tail", 160)
    assert "eyJ" not in stored


def test_summary_and_report_data_never_meet_the_answers_json_paths() -> None:
    redact = Redactor.from_settings(
        RedactionSettings(json_paths=["$..score", "$..name"]), {"SHADOW_REDACTION_KEY": "k"}
    )
    gate = {"verdict": "promote", "score": 0.94, "rules": [{"name": "json_validity", "estimate": 0.99}]}
    assert redact.value(gate) == gate


def test_a_refusal_is_stored_redacted() -> None:
    from shadow.events.output import Output
    from shadow.sink.rows import RowContext, stored_output

    ctx = RowContext(config_version="t", redactor=REDACT, max_text_chars=1000)
    _, stored = stored_output(Output("", refusal="I won't move money for bob@example.com"), ctx)
    assert "bob@example.com" not in stored and "[EMAIL:" in orjson.loads(stored)["refusal"]


@pytest.mark.parametrize("text", ["NO9386011117947 NO9386011117947", "+14155552671.123-45-6789"])
def test_redacting_twice_changes_nothing(text: str) -> None:
    assert REDACT(REDACT(text)) == REDACT(text)


@pytest.mark.timeout(60)
def test_log_lines_with_long_words_are_scrubbed_in_linear_time() -> None:
    from shadow.secrets import scrub_url_credentials

    # Quadratic before (2 s for a 16 K-character word, so hours for this one); the timeout is the guard.
    word = "a" * 1_000_000
    assert scrub_url_credentials(word + " https://u:p@x.io") == word + " https://[SECRET]@x.io"


def test_a_cut_drops_a_token_fragment_but_keeps_a_bracket_of_the_text() -> None:
    from shadow.redaction import TRUNCATION_MARK

    assert REDACT.cut("see note [2 " + "x" * 50, 11) == "see note [2" + TRUNCATION_MARK
    assert REDACT.cut("line\n" + "x" * 50, 5) == "line\n" + TRUNCATION_MARK
