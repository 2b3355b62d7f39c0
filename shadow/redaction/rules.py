"""The built-in redaction rules: what each finds, how a match is checked, and what replaces it.

Each rule is one or more linear-time regular expressions plus a check in Python: a card number must pass the
Luhn check and start as card numbers do (2-6), an IBAN must pass its mod-97 checksum and its country's
format (python-stdnum), a US social security number must use an issued area. A match that fails its
check is left as it was, so order ids, millisecond timestamps and amounts stay. Patterns use
possessive quantifiers where a later check could otherwise make the engine backtrack.

``needles`` names substrings one of which every match contains (an e-mail address has "@"): a text
with none of them skips the rule with a substring search (about 1 µs per KB instead of a scan).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from shadow.redaction.tokens import Pseudonyms, luhn_valid

# What replaces a match: the replacement text (the match itself when its check fails). It gets the
# matched text as the original has it (``value``; a match found in the ASCII stand-in has the same
# span), the match (for its groups) and the keyed-hash tokens.
Replace = Callable[[str, re.Match[str], Pseudonyms], str]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    replace: Replace
    needles: tuple[str, ...] | None = None
    # Every match lies in a digit region (DIGIT_REGION, nine digits or more): the rule scans those only.
    regional: bool = False
    # Its pattern matches ASCII characters only (never "?"): it may scan the text's ASCII stand-in.
    ascii_only: bool = False


def _email(value: str, match: re.Match[str], names: Pseudonyms) -> str:
    return names.token("EMAIL", value.lower())


def _secret(value: str, match: re.Match[str], names: Pseudonyms) -> str:
    return names.token("SECRET", value)


_SEPARATOR = re.compile(r"[ \-]")


def _card(value: str, match: re.Match[str], names: Pseudonyms) -> str:
    """Every card number in the matched run of digit groups, replaced.

    A card starts where a group starts and ends where a group ends, so a run such as
    ``exp 2027 4111 1111 1111 1111`` is tried from each group on; from each start only the ends
    within 19 digits are tried (the longest valid one wins), so the work is linear in the run.
    """
    bounds = [0] + [m.end() for m in _SEPARATOR.finditer(value)]  # where groups start
    ends = [m.start() for m in _SEPARATOR.finditer(value)] + [len(value)]  # where groups end
    parts: list[str] = []
    pos = 0
    for i, start in enumerate(bounds):
        if start < pos or value[start] not in "23456":
            continue
        found = None
        for j in range(i, len(ends)):
            end = ends[j]
            number = _SEPARATOR.sub("", value[start:end])
            if len(number) > 19:
                break
            if len(number) >= 13 and number.isascii() and luhn_valid(number):
                found = (end, number)
        if found is not None:
            end, number = found
            head = value[start:end]
            parts += (value[pos:start], names.digits("CARD", number) if head == number else names.token("CARD", number))
            pos = end
    return "".join((*parts, value[pos:])) if parts else value


def _iban_formats() -> dict[str, tuple[int, re.Pattern[str]]]:
    """Each country's IBAN length and format (country code, check digits, BBAN), from python-stdnum's copy
    of the SWIFT IBAN registry: a BBAN of ``4!n4!n12!c`` is four digits, four digits, twelve letters or digits."""
    kinds = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Z0-9]", "e": " "}
    formats = {}
    text = resources.files("stdnum").joinpath("iban.dat").read_text(encoding="utf-8")
    for line in text.splitlines():
        structure = re.search(r'bban="([^"]*)"', line)
        if structure and re.match(r"[A-Z]{2} ", line):
            parts = re.findall(r"(\d+)!([nace])", structure.group(1))
            bban = "".join(f"{kinds[kind]}{{{count}}}" for count, kind in parts)
            length = 4 + sum(int(count) for count, _ in parts)
            formats[line[:2]] = (length, re.compile(f"{line[:2]}[0-9]{{2}}{bban}"))
    return formats


IBAN_FORMATS = _iban_formats()
_IBAN_START = re.compile(r"(?<![A-Z0-9])[A-Z]{2}[0-9]{2}")


def _iban(value: str, match: re.Match[str], names: Pseudonyms) -> str:
    """Every IBAN in the matched run (grouped or compact), replaced.

    Each candidate is checked once, at its country's length: the checksum (mod 97) and the country's
    format. Not the national check digits: a typo there is still an IBAN.
    """
    parts: list[str] = []
    pos = 0
    for start_match in _IBAN_START.finditer(value):
        start = start_match.start()
        if start < pos:
            continue
        known = IBAN_FORMATS.get(value[start : start + 2])
        if known is None:
            continue
        length, form = known
        end, kept = start, 0
        while end < len(value) and kept < length:
            kept += value[end] != " "
            end += 1
        compact = value[start:end].replace(" ", "")
        if len(compact) == length and _mod97(compact) and form.fullmatch(compact):
            parts += (value[pos:start], names.token("IBAN", compact))
            pos = end
    return "".join((*parts, value[pos:])) if parts else value


def _mod97(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _phone(value: str, match: re.Match[str], names: Pseudonyms) -> str:
    """A phone number with enough digits. A run longer than a phone number (E.164: 15 digits) is replaced
    whole: it holds one or more numbers, and their boundaries cannot be told."""
    digits = "".join(char for char in value if "0" <= char <= "9")
    international = "+" in value[:2]
    if len(digits) < (7 if international else 9):
        return value
    return names.token("PHONE", ("+" if international else "") + digits)


def _ssn(value: str, match: re.Match[str], names: Pseudonyms) -> str:
    area, group, serial = value[:3], match.group(2), match.group(3)
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return value
    return names.token("SSN", area + group + serial)


# A digit region: a maximal run of digits and separators that starts with a digit and holds nine
# digits or more. Every match of the card rule, the SSN rule and the national phone patterns is made
# of these characters, starts with a digit and holds at least nine digits (their checks refuse
# fewer), so it lies in a region. The text is scanned for regions once; those rules then scan the
# regions only (most prose has none, a JSON answer a few), instead of the whole text each.
DIGIT_REGION = re.compile(r"[0-9](?:[ \-().]*+[0-9]){8}[0-9 \-().]*+")  # possessive: no backtracking


def _key(pattern: str, *needles: str, flags: int = 0) -> Rule:
    return Rule("api_key", re.compile(pattern, flags), _secret, needles)


# Patterns start with a literal or a character class (a look-behind comes after the first character):
# the engine then skips ahead to candidate positions instead of trying each one.
BUILTIN_RULES: tuple[Rule, ...] = (
    Rule(
        "email",
        # The look-behind starts a match only where a run of address characters starts: without it,
        # a long run without "@" is rescanned from each of its characters (quadratic).
        # Letters with diacritics (josé@, bücher.de) are written "a" in the ASCII stand-in, so they match.
        re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
        _email,
        ("@",),
    ),
    # Lookarounds instead of \b: a key written against Chinese text has no word boundary.
    _key(r"[spr]k-(?<![A-Za-z0-9_-][spr]k-)[A-Za-z0-9_-]{16,}", "sk-", "pk-", "rk-"),  # OpenAI, Anthropic
    _key(r"[spr]k_(?<![A-Za-z0-9_-][spr]k_)(?:live|test)_[A-Za-z0-9]{10,}", "k_live_", "k_test_"),  # Stripe
    _key(r"(?i:bearer)(?<![A-Za-z0-9_]......)[ \t]+[A-Za-z0-9._~+/=-]{16,}", "Bearer", "bearer", "BEARER"),
    _key(r"A(?<![A-Za-z0-9]A)(?:KIA|SIA)[0-9A-Z]{16}(?![0-9A-Z])", "AKIA", "ASIA"),  # AWS access key ids
    _key(r"AIza(?<![A-Za-z0-9_-]AIza)[0-9A-Za-z_-]{35}", "AIza"),  # Google API keys
    _key(
        r"g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{36,}|ithub_pat_[A-Za-z0-9_]{22,})",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
    ),
    _key(r"xox(?<![A-Za-z0-9-]xox)[abposr]-[A-Za-z0-9-]{10,}", "xox"),  # Slack
    # JWT; the signature is optional so that a token cut at a kept text's end is still found.
    _key(r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)?", "eyJ"),
    # A private key block: the header, then its base64 body (possessive: each character read once, and
    # a body never holds "-", so a text of many headers stays linear), then the footer when there is one.
    # Backslashes let a body written inside a JSON string ("\\n" between lines) be taken whole.
    _key(
        r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[A-Za-z0-9+/= \t\r\n\\]*+(?:-----END [A-Z ]{0,20}PRIVATE KEY-----)?",
        "PRIVATE KEY",
    ),
    Rule(
        "iban",
        # The whole run of groups (possessive: read once); _iban finds each IBAN in it.
        re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z][0-9]{2}(?: ?[A-Z0-9]){11,}+"),
        _iban,
    ),
    Rule(
        "card_number",
        # A run of digit groups that starts with 2-6 (card numbers do; millisecond timestamps, 1..., are
        # not even candidates), read whole (possessive); _card finds each card in it. The look-behind
        # comes after the first digit so the engine skips ahead to digits.
        re.compile(r"[2-6](?<![0-9][2-6])(?:[ -]?[0-9]){12,}+"),
        _card,
        regional=True,
    ),
    # Phone numbers: four patterns, each starting with a literal or a class so the engine skips ahead.
    # International: +, a country code (in parentheses too: (+44) 20 ...), then digits in groups.
    Rule("phone", re.compile(r"\+(?:[0-9]{1,4}\))?(?:[ .\-]?+(?:\([0-9]{1,4}+\)|[0-9])){6,}+"), _phone, ("+",)),
    # An area code in parentheses: (555) 123-4567, (02) 1234 5678, (010) 123456, (06 1) 234 5678.
    Rule(
        "phone",
        re.compile(
            r"\((?<![0-9+]\()[0-9](?:[ \-]?[0-9]){0,5}\)[ \-]?[0-9]{2,10}+(?:[ .\-][0-9]{2,10}+){0,4}+(?![0-9])"
        ),
        _phone,
        ("(",),
    ),
    # North American national: 555-123-4567, 555.123.4567, 555 123 4567.
    Rule(
        "phone",
        re.compile(r"[0-9](?<![0-9+][0-9])[0-9]{2}[ .\-][0-9]{3}[ .\-][0-9]{4}(?![0-9\-])"),
        _phone,
        regional=True,
    ),
    # National with a trunk 0, in groups: 020 7946 0958, 030 1234567, 06 12 34 56 78, 0170-1234567.
    Rule(
        "phone",
        re.compile(r"0(?<![0-9+]0)(?<![0-9][.,]0)[0-9]{1,5}(?:[ \-][0-9]{2,10}+)++(?![0-9]|[.,][0-9])"),
        _phone,
        regional=True,
    ),
    Rule(
        "us_ssn",
        re.compile(r"[0-9](?<![0-9\-][0-9])([0-9]{2})-([0-9]{2})-([0-9]{4})(?![0-9\-])"),
        _ssn,
        ("-",),
        regional=True,
    ),
)

# Every built-in pattern matches ASCII characters only, and never "?" (see Redactor's ASCII stand-in).
BUILTIN_RULES = tuple(dataclasses.replace(rule, ascii_only=True) for rule in BUILTIN_RULES)
BUILTIN_RULE_NAMES = tuple(dict.fromkeys(rule.name for rule in BUILTIN_RULES))


def configured_rule(name: str, pattern: str, replacement: str | None) -> Rule:
    """A rule from the configuration: a fixed replacement (backreferences allowed) or a token labelled by name."""
    compiled = re.compile(pattern)
    if replacement is not None:
        return Rule(name, compiled, lambda _value, match, _names: match.expand(replacement))
    label = re.sub(r"[^A-Z_]", "_", name.upper()) or "REDACTED"  # no digit: no rule matches a token again
    return Rule(name, compiled, lambda value, _match, names: names.token(label, value))
