"""Redaction of stored text: the default rules in English and Chinese, custom rules, switching it off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shadow.config import RedactionSettings
from shadow.redaction import Redactor


@pytest.fixture
def redactor_factory() -> Callable[..., Redactor]:
    def make(**options: Any) -> Redactor:
        return Redactor.from_settings(RedactionSettings.model_validate(options))

    return make


@pytest.fixture
def redactor(redactor_factory: Callable[..., Redactor]) -> Redactor:
    return redactor_factory()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Contact me at jane.doe+orders@example.co.uk please", "Contact me at [EMAIL] please", id="email"),
        pytest.param("请联系 zhang.san@example.com 获取帮助", "请联系 [EMAIL] 获取帮助", id="email-chinese-spaced"),
        pytest.param("联系zhang.san@example.com谢谢", "联系[EMAIL]谢谢", id="email-chinese-adjacent"),
        pytest.param("my key is sk-proj-abcdefghijklmnop1234 ok", "my key is [SECRET] ok", id="openai-key"),
        pytest.param("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def", "Authorization: [SECRET]", id="bearer"),
        pytest.param("card 4111 1111 1111 1111 expired", "card [CARD] expired", id="card-spaced"),
        pytest.param("card 4111-1111-1111-1111.", "card [CARD].", id="card-dashes"),
        pytest.param("卡号 4111111111111111 已冻结", "卡号 [CARD] 已冻结", id="card-chinese-spaced"),
        pytest.param("卡号4111111111111111已冻结", "卡号[CARD]已冻结", id="card-chinese-adjacent"),
        pytest.param("密钥sk-proj-abcdefghijklmnop1234请保管", "密钥[SECRET]请保管", id="key-chinese-adjacent"),
        pytest.param("Order 12345 shipped to 北京", "Order 12345 shipped to 北京", id="short-number-kept"),
        pytest.param("sk-short is fine", "sk-short is fine", id="short-sk-kept"),
        pytest.param("", "", id="empty"),
    ],
)  # fmt: skip
def test_default_redaction_rules(redactor: Redactor, text: str, expected: str) -> None:
    assert redactor(text) == expected


def test_redaction_disabled(redactor_factory: Callable[..., Redactor]) -> None:
    text = "jane@example.com 4111 1111 1111 1111"
    assert redactor_factory(enabled=False)(text) == text


def test_custom_rules_apply_in_order(redactor_factory: Callable[..., Redactor]) -> None:
    redact = redactor_factory(
        rules=[
            {"name": "phone_cn", "pattern": r"1[3-9]\d{9}", "replacement": "[PHONE]"},
            {"name": "tag", "pattern": r"\[PHONE\]", "replacement": "<phone>"},
        ]
    )
    assert redact("电话13812345678, email a@b.co") == "电话<phone>, email a@b.co"


def test_custom_rules_replace_the_defaults(redactor_factory: Callable[..., Redactor]) -> None:
    redact = redactor_factory(rules=[{"name": "id", "pattern": r"ORD-\d+"}])
    assert redact("ORD-991 from jane@example.com") == "[REDACTED] from jane@example.com"
