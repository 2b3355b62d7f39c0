"""Scrubbing secrets (known values, URL credentials) out of error text."""

from __future__ import annotations

import pytest

from shadow.secrets import scrub_secrets


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        pytest.param("HTTP 401: Incorrect API key provided: sk-abc123XYZ.", ["sk-abc123XYZ"],
                     "HTTP 401: Incorrect API key provided: [SECRET].", id="key"),
        pytest.param("密钥 sk-abc123XYZ 无效; again sk-abc123XYZ", ["sk-abc123XYZ"], "密钥 [SECRET] 无效; again [SECRET]",
                     id="every-occurrence"),
        pytest.param("GET https://user:hunter2@ch.example.com:8443/?query=1 failed", [],
                     "GET https://[SECRET]@ch.example.com:8443/?query=1 failed", id="url-userinfo"),
        pytest.param("http://token@gateway.local/v1", [None], "http://[SECRET]@gateway.local/v1", id="url-token"),
        pytest.param("abc appears in abcdef", ["abc"], "abc appears in abcdef", id="too-short-to-scrub"),
        pytest.param("nothing here", [None, ""], "nothing here", id="no-secrets"),
        pytest.param("mail me at jane@example.com", [], "mail me at jane@example.com", id="email-not-url"),
    ],
)  # fmt: skip
def test_scrub_secrets(text: str, secrets: list[str | None], expected: str) -> None:
    assert scrub_secrets(text, secrets) == expected
