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

from stdnum import iban as stdnum_iban

from shadow.redaction.tokens import Pseudonyms, luhn_valid

# What replaces a match: the replacement text (the match itself when its check fails).
Replace = Callable[[re.Match[str], Pseudonyms], str]


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


def _email(match: re.Match[str], names: Pseudonyms) -> str:
    return names.token("EMAIL", match.group().lower())


def _secret(match: re.Match[str], names: Pseudonyms) -> str:
    return names.token("SECRET", match.group())


_SEPARATED = re.compile(r"[ \-]")


def _card(match: re.Match[str], names: Pseudonyms) -> str:
    """The longest prefix of the match that is a card number (ends where a group ends), replaced."""
    text = match.group()
    ends = [m.start() for m in _SEPARATED.finditer(text)] + [len(text)]
    for end in reversed(ends):
        number = _SEPARATED.sub("", text[:end])
        if 13 <= len(number) <= 19 and number[0] in "23456" and number.isascii() and luhn_valid(number):
            head = text[:end]
            replaced = names.digits("CARD", number) if head == number else names.token("CARD", number)
            return replaced + text[end:]
    return text


def _iban_lengths() -> dict[str, int]:
    """Each country's IBAN length, from python-stdnum's copy of the SWIFT IBAN registry (its BBAN structure + 4)."""
    lengths = {}
    text = resources.files("stdnum").joinpath("iban.dat").read_text(encoding="utf-8")
    for line in text.splitlines():
        structure = re.search(r'bban="([^"]*)"', line)
        if structure and re.match(r"[A-Z]{2} ", line):
            lengths[line[:2]] = 4 + sum(int(n) for n in re.findall(r"(\d+)!", structure.group(1)))
    return lengths


IBAN_LENGTHS = _iban_lengths()


def _iban(match: re.Match[str], names: Pseudonyms) -> str:
    """The match's first IBAN-length characters (its country's), when they are a valid IBAN, replaced.

    One check per candidate: the length comes from the country code, so a long run of
    IBAN-like text costs one mod-97 per match, not one per possible length.
    """
    text = match.group()
    length = IBAN_LENGTHS.get(text[:2])
    if length is None:
        return text
    end, kept = 0, 0
    while end < len(text) and kept < length:
        kept += text[end] != " "
        end += 1
    compact = text[:end].replace(" ", "")
    if len(compact) != length or not _mod97(compact):
        return text
    # The country's format too; not its national check digits (a typo there is still an IBAN).
    if not stdnum_iban.is_valid(compact, check_country=False):
        return text
    return names.token("IBAN", compact) + text[end:]


def _mod97(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _phone(match: re.Match[str], names: Pseudonyms) -> str:
    text = match.group()
    digits = "".join(char for char in text if char.isdigit())
    international = text.startswith("+")
    if not (7 if international else 9) <= len(digits) <= 15:
        return text
    return names.token("PHONE", ("+" if international else "") + digits)


def _ssn(match: re.Match[str], names: Pseudonyms) -> str:
    text = match.group()
    area, group, serial = text[:3], match.group(2), match.group(3)
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return match.group()
    return names.token("SSN", area + group + serial)


# A digit region: a maximal run of digits and separators that starts with a digit and holds nine
# digits or more. Every match of the card rule, the SSN rule and
# the national phone patterns is made of these characters, starts with a digit and holds at least nine
# digits (their checks refuse fewer), so it lies in a region with nine digits or more. The text is
# scanned for regions once; those rules then scan the regions only (most prose has none, a JSON
# answer a few), instead of the whole text each.
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
        re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
        _email,
        ("@",),
    ),
    # Lookarounds instead of \b: a key written against Chinese text has no word boundary.
    _key(r"[spr]k-(?<![A-Za-z0-9_-][spr]k-)[A-Za-z0-9_-]{16,}", "sk-", "pk-", "rk-"),  # OpenAI, Anthropic, Stripe
    _key(r"Bearer(?<![A-Za-z0-9_]Bearer)[ \t]+[A-Za-z0-9._~+/=-]{16,}", "Bearer"),
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
    _key(r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+", "eyJ"),  # JWT
    # A private key block: the header, then its base64 body (possessive: each character read once, and
    # a body never holds "-", so a text of many headers stays linear), then the footer when there is one.
    # Backslashes let a body written inside a JSON string ("\\n" between lines) be taken whole.
    _key(
        r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[A-Za-z0-9+/= \t\r\n\\]*+(?:-----END [A-Z ]{0,20}PRIVATE KEY-----)?",
        "PRIVATE KEY",
    ),
    Rule(
        "iban",
        re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z][0-9]{2}(?: ?[A-Z0-9]){11,30}+"),
        _iban,
    ),
    Rule(
        "card_number",
        # = (?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9]), the look-behind after the first digit: card
        # numbers start with 2-6 (so millisecond timestamps, 1..., are not even candidates).
        re.compile(r"[2-6](?<![0-9][2-6])(?:[ -]?[0-9]){12,18}(?![0-9])"),
        _card,
        regional=True,
    ),
    # Phone numbers: four patterns, each starting with a literal or a class so the engine skips ahead.
    # International: +, a country code, then digits in groups (7-15 digits in all, E.164).
    Rule("phone", re.compile(r"\+[0-9](?:[ .\-]?+(?:\([0-9]{1,4}+\)|[0-9])){6,20}+"), _phone, ("+",)),
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
        re.compile(r"0(?<![0-9+]0)(?<![0-9][.,]0)[0-9]{1,5}(?:[ \-][0-9]{2,10}+){1,5}+(?![0-9]|[.,][0-9])"),
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
        return Rule(name, compiled, lambda match, _names: match.expand(replacement))
    label = re.sub(r"[^A-Z0-9_]", "_", name.upper()) or "REDACTED"
    return Rule(name, compiled, lambda match, names: names.token(label, match.group()))
