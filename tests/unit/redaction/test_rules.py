"""The built-in rules against references: phone numbers from libphonenumber's example numbers, card numbers and
IBANs checked with python-stdnum, and a corpus of look-alikes (dates, timestamps, ids, amounts) left alone."""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn

from shadow.config import BUILTIN_REDACTION_RULES, RedactionSettings
from shadow.redaction import Redactor
from shadow.redaction.rules import BUILTIN_RULE_NAMES, BUILTIN_RULES
from shadow.redaction.tokens import Pseudonyms, luhn_check_digit, luhn_valid

REDACT = Redactor.from_settings(RedactionSettings(), {"SHADOW_REDACTION_KEY": "test-key"})
TOKEN = re.compile(r"\[[A-Z_]+:[a-p]{12}\]")


def test_the_config_names_the_built_in_rules() -> None:
    assert BUILTIN_REDACTION_RULES == BUILTIN_RULE_NAMES


# --- phone numbers: every region's example numbers (libphonenumber) ----------------------------------


def example_numbers() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                numbers.append((region, number))
    return numbers


EXAMPLES = example_numbers()


def leaks(number: phonenumbers.PhoneNumber, redacted: str) -> bool:
    """Whether the redacted text still shows the number: its national digits, or any digit at all."""
    national = phonenumbers.national_significant_number(number)
    return national in re.sub(r"\D", "", redacted) or any(char.isdigit() for char in redacted)


@pytest.mark.parametrize("form", [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL], ids=["e164", "intl"])
def test_every_regions_example_numbers_in_international_form_are_redacted(form: int) -> None:
    assert len(EXAMPLES) > 400
    missed = []
    for region, number in EXAMPLES:
        written = phonenumbers.format_number(number, form)
        redacted = REDACT(f"call {written} today")
        if leaks(number, redacted) or not TOKEN.search(redacted):
            missed.append((region, written, redacted))
    assert missed == []


def test_national_forms_with_a_trunk_prefix_or_area_code_in_parentheses_are_redacted() -> None:
    """National forms of nine digits or more that start with 0 or "(", and North American ones.

    Shorter national forms (seven or eight digits, or grouped without a prefix, such as Angola's
    "222 123 456") cannot be told from amounts and dates by their shape: they are not claimed.
    """
    covered, missed = 0, []
    for region, number in EXAMPLES:
        written = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        digits = sum(char.isdigit() for char in written)
        if digits < 9 or not (written.startswith(("0", "(")) or number.country_code == 1):
            continue
        covered += 1
        if leaks(number, REDACT(f"call {written} today")):
            missed.append((region, written))
    assert covered > 150 and missed == []


LOOK_ALIKES = [
    "released 2024-01-15, patched 15.01.2024 and 01/15/2024 at 12:30:45",
    "version 1.2.3 build 20240115 on 192.168.100.200 and 10.0.0.1",
    "epoch ms 1733011200000 and ns 1733011200000000000, id 18446744073709551615",
    "order ORD-12345678 for $1,234,567.89 (1 234 567,89 EUR), 12345678 units",
    "uuid 123e4567-e89b-12d3-a456-426614174000, isbn 978-3-16-148410-0",
    "coordinates 48.8566, 2.3522; ratio 0.75; 3.14159265358979",
    "card-like but not Luhn: 4111 1111 1111 1112, 5500000000000005",
    "Luhn-valid but not a card prefix: 8000000000000000009, 1234567812345670",
    "IBAN-like without the checksum: DE89370400440532013002, AB12 CDEF GHIJ KLMN",
    '{"ts": 1733011200000, "count": 42, "price": 19.99, "ids": [1000000001, 1000000002]}',
    "tracking 1Z999AA10123456784, SKU AB-1234-CD",
    "call extension 1234 or room 101",
    "sk-short and Bearer short and ghp_short are not keys",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert REDACT(text) == text


# --- card numbers: Luhn (python-stdnum as the reference) ---------------------------------------------


@settings(max_examples=2000, deadline=None)
@given(st.text(st.sampled_from("0123456789"), min_size=2, max_size=19))
def test_luhn_agrees_with_stdnum(number: str) -> None:
    assert luhn_valid(number) == stdnum_luhn.is_valid(number)
    assert stdnum_luhn.is_valid(number[:-1] + str(luhn_check_digit(number[:-1])))


# Issuers' published test numbers.
CARDS = [
    "4111111111111111", "4012888888881881", "4222222222222", "5555555555554444", "5105105105105100",
    "2223003122003222", "378282246310005", "371449635398431", "6011111111111117", "6011000990139424",
    "3530111333300000", "3566002020360505", "36227206271667", "6200000000000005",
]  # fmt: skip


@pytest.mark.parametrize("number", CARDS)
@pytest.mark.parametrize(
    "written",
    [
        lambda n: n,
        lambda n: " ".join(n[i : i + 4] for i in range(0, len(n), 4)),
        lambda n: "-".join(n[i : i + 4] for i in range(0, len(n), 4)),
    ],
    ids=["bare", "spaced", "dashed"],
)
def test_card_numbers_are_redacted_however_written(number: str, written) -> None:  # type: ignore[no-untyped-def]
    assert stdnum_luhn.is_valid(number)
    text = written(number)
    redacted = REDACT(f"paid with {text}, thanks")
    assert number not in redacted.replace(" ", "").replace("-", "") and text not in redacted
    if text == number:  # bare digits stay digits: a pseudonym failing Luhn, 9 first, as long as the original
        pseudonym = re.search(r"\d+", redacted)
        assert pseudonym is not None and len(pseudonym.group()) == len(number)
        assert pseudonym.group()[0] == "9" and not stdnum_luhn.is_valid(pseudonym.group())
    else:
        assert TOKEN.search(redacted)


def test_a_card_followed_by_more_digits_is_still_found() -> None:
    assert "4111" not in REDACT("card 4111 1111 1111 1111 1234 exp")


# --- IBAN: mod-97 and the country's format (python-stdnum) -------------------------------------------

IBANS = [
    "DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606", "NL91ABNA0417164300",
    "ES9121000418450200051332", "IT60X0542811101000000123456", "BE71096123456769", "CH9300762011623852957",
    "AT611904300234573201", "PL61109010140000071219812874", "SE4550000000058398257466", "NO9386011117947",
    "DK5000400440116243", "FI2112345600000785", "IE29AIBK93115212345678", "PT50000201231234567890154",
    "MT84MALT011000012345MTLCAST001S", "SA0380000000608010167519", "QA58DOHB00001234567890ABCDEFG",
    "BR9700360305000010009795493P1", "KZ86125KZT5004100100", "LC55HEMM000100010012001200023015",
]  # fmt: skip


@pytest.mark.parametrize("iban", IBANS)
def test_ibans_are_redacted_compact_and_grouped(iban: str) -> None:
    assert stdnum_iban.is_valid(iban)
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    for text in (iban, grouped):
        redacted = REDACT(f"send it to {text} by Friday")
        assert redacted.startswith("send it to [IBAN:") and redacted.endswith("] by Friday"), redacted


def test_an_iban_whose_national_check_fails_is_still_redacted() -> None:
    assert not stdnum_iban.is_valid("BE68539007547034")  # the Belgian account check fails; mod-97 holds
    assert REDACT("BE68539007547034").startswith("[IBAN:")


def test_an_iban_with_a_wrong_check_digit_is_left() -> None:
    rng = random.Random(7)
    for iban in IBANS:
        i = rng.randrange(4, len(iban))
        wrong = iban[:i] + ("1" if iban[i] != "1" else "2") + iban[i + 1 :]
        if not stdnum_iban.is_valid(wrong):
            assert REDACT(wrong) == wrong


# --- keys and tokens, social security numbers ----------------------------------------------------------

SECRETS = [
    "sk-proj-abcdefghijklmnop1234", "sk-ant-api03-abcdefghijklmnopqrstu", "rk_live_is_not_matched",
    "Bearer abcdefghijklmnopqrstuvwxyz", "AKIAIOSFODNN7EXAMPLE", "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "ghp_" + "a1" * 18, "github_pat_" + "B" * 30, "xoxb-1234567890-abcdefghij",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc+/=\n-----END RSA PRIVATE KEY-----",
]  # fmt: skip


@pytest.mark.parametrize("secret", SECRETS)
def test_keys_and_tokens_are_redacted(secret: str) -> None:
    redacted = REDACT(f"config: {secret} ok")
    if secret == "rk_live_is_not_matched":
        assert redacted == f"config: {secret} ok"
    else:
        assert redacted.startswith("config: ") and secret not in redacted and "[SECRET:" in redacted, redacted


@pytest.mark.parametrize("end", [".", ",", ";", ")", "!", ""])
def test_a_phone_number_at_the_end_of_a_sentence(end: str) -> None:
    for number in ("0170 3000015", "+44 20 7946 0958", "(020) 7946 0958", "415-555-0123"):
        assert REDACT(f"call {number}{end}") == f"call {REDACT(number)}{end}" != f"call {number}{end}"


def test_us_social_security_numbers_of_issued_areas() -> None:
    assert REDACT("ssn 123-45-6789.").startswith("ssn [SSN:")
    for unissued in ("000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"):
        assert "[SSN:" not in REDACT(unissued)  # (the phone rule may still take one with a trunk 0)


# --- the pre-filters: a rule skipped for a text could not have matched it ------------------------------


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["a", "9", "0", "4", "+", "(", ")", "-", " ", ".", "@", "sk-", "Bearer ", "x" * 16, "ghp_", "eyJ", "中",
             "4111", "1111", "555", "12", "DE89", "AKIA"]
        ),
        max_size=24,
    ).map("".join)
)  # fmt: skip
def test_every_replaced_match_holds_a_needle(text: str) -> None:
    names = Pseudonyms(b"k")
    for rule in BUILTIN_RULES:
        for match in rule.pattern.finditer(text):
            if rule.replace(match.group(), match, names) == match.group():
                continue  # its check failed: left as it was, whether the rule runs or not
            if rule.needles is not None:
                assert any(n in match.group() for n in rule.needles), (rule.name, match.group())


# --- tokens ----------------------------------------------------------------------------------------------


def test_tokens_are_stable_per_key_and_tell_values_apart() -> None:
    one, same, other = Pseudonyms(b"k1"), Pseudonyms(b"k1"), Pseudonyms(b"k2")
    assert one.token("EMAIL", "a@x.io") == same.token("EMAIL", "a@x.io") != one.token("EMAIL", "b@x.io")
    assert one.token("EMAIL", "a@x.io") != other.token("EMAIL", "a@x.io")
    assert not any(char.isdigit() for char in one.token("EMAIL", "a@x.io"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["jane@example.com ", "4111 1111 1111 1111 ", "+44 20 7946 0958 ", "x "]), max_size=8))
def test_redacting_twice_changes_nothing_more(parts: list[str]) -> None:
    once = REDACT("".join(parts))
    assert REDACT(once) == once


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["a", "9", "0", "4", "+", "(", "-", " ", ".", "@", "中", "😀", "\u3000", "٣", "?", "x@y.io",
             "4111 1111 1111 1111", "+44 20 7946 0958", "GB82WEST12345698765432", "sk-" + "k" * 16, "Bearer ",
             "t" * 16, "123-45-6789", "(020) 7946 0958", "555-123-4567", "0170 3000015", "2024-01-15", "1", "12",
             "3000", ",", "0", "4111111111111111"]
        ),
        max_size=24,
    ).map("".join)
)  # fmt: skip
def test_the_ascii_stand_in_and_the_digit_regions_find_what_a_whole_scan_finds(text: str) -> None:
    import dataclasses

    plain = tuple(dataclasses.replace(r, ascii_only=False, regional=False) for r in REDACT.rules)
    direct = dataclasses.replace(REDACT, rules=plain)
    assert all(rule.ascii_only for rule in REDACT.rules) and any(rule.regional for rule in REDACT.rules)
    assert REDACT(text) == direct(text)
    assert REDACT.cut(text, 25) == direct.cut(text, 25)
