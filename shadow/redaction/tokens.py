"""Stable pseudonyms: a keyed hash of a redacted value, so equal values stay equal and different ones differ.

A token is ``[LABEL:xxxxxxxxxxxx]``: twelve letters (48 bits) of HMAC-SHA256 over the label and the
value, keyed with ``SHADOW_REDACTION_KEY`` (or ``redaction.key_file``). The letters are ``a``-``p`` (the
hexadecimal digits moved to letters) so a token holds no digit and no rule matches it again: redacting
twice gives the same text. Without a configured key each process draws a random one: tokens are then
comparable within one worker's run only (enough for a row's diff and for ``shadow rescore``, which
compares the two sides of one row), not across workers or restarts.

A card number written as bare digits (a JSON number, say) becomes digits too: ``9`` and then digits of
the hash, as long as the original and failing the Luhn check, so a JSON number stays a number and the
pseudonym is never taken for a card number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
TOKEN_CHARS = 12


class Pseudonyms:
    """Keyed-hash tokens for redacted values."""

    __slots__ = ("_key", "random_key")

    def __init__(self, key: bytes | None = None) -> None:
        self.random_key = not key
        self._key = key or secrets.token_bytes(32)

    def _digest(self, label: str, value: str) -> bytes:
        message = label.encode() + b"\0" + value.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def token(self, label: str, value: str) -> str:
        """``[LABEL:letters]`` for ``value``: equal for equal (label, value), different otherwise."""
        return f"[{label}:{self._digest(label, value).hex()[:TOKEN_CHARS].translate(_LETTERS)}]"

    def digits(self, label: str, value: str) -> str:
        """A string of ``len(value)`` digits for ``value`` (at least 2): ``9`` first, Luhn check failing."""
        digest = self._digest(label, value)
        while len(digest) < len(value):
            digest += hashlib.sha256(digest).digest()
        body = "9" + "".join(str(b % 10) for b in digest[: len(value) - 2])
        check = luhn_check_digit(body)
        return body + str((check + 1) % 10)


def luhn_check_digit(body: str) -> int:
    """The digit that, appended to ``body``, makes a number pass the Luhn check."""
    total = 0
    for i, char in enumerate(reversed(body)):
        digit = ord(char) - 48
        if i % 2 == 0:  # doubled: the rightmost digit of body sits left of the check digit
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    """Whether ``number`` (ASCII digits) passes the Luhn check."""
    return len(number) > 1 and luhn_check_digit(number[:-1]) == ord(number[-1]) - 48
