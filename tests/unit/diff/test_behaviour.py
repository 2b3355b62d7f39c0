"""Behaviour: refusals in English and Chinese, provider-declared refusals, truncation."""

from __future__ import annotations

import pytest

from shadow.diff import compare
from shadow.diff.behaviour import DEFAULT_REFUSAL_DETECTOR, RefusalDetector
from shadow.events.wire import parse_anthropic_response, parse_openai_response
from tests.factories import anthropic_response, openai_response
from tests.unit.diff.values import out


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("I'm sorry, but I can't help with that.", True),
        ("I’m sorry, but I cannot assist with this request.", True),
        ("I can't help with that request.", True),
        ("As an AI language model, I cannot provide medical advice.", True),
        ("抱歉，我无法协助处理这个请求。", True),
        ("Thanks for asking. I must decline to share internal pricing.", True),
        ("I won't comply with that request.", True),
        ("我无法协助处理这个请求。", True),
        ("申し訳ございませんが、その件はお手伝いできません。", True),
        ("Sure! I can help with that.", False),
        ("很抱歉，我不能提供这方面的信息。", True),
        ("I'm sorry for the delay! Your order ships today.", False),
        ("I can't find order A-12 in our system; could you double-check the number?", False),
        ("抱歉让您久等了，您的订单今天发货。", False),
    ],
)
def test_refusals_in_english_and_chinese(text, refusal) -> None:
    assert DEFAULT_REFUSAL_DETECTOR(out(text)) is refusal


def test_provider_declared_refusal_counts() -> None:
    output = parse_openai_response(openai_response(None, refusal="I can't help with that."))
    assert DEFAULT_REFUSAL_DETECTOR(output)
    assert RefusalDetector.from_patterns([r"^nope"])(out("Nope, not doing that"))


def test_truncation_is_a_stop_to_length_change() -> None:
    production = parse_anthropic_response(anthropic_response("A full answer."))
    candidate = parse_anthropic_response(anthropic_response("A full", stop_reason="max_tokens"))
    result = compare(production, candidate)
    assert result.pair.truncated and result.pair.finish_reason_changed
    assert result.candidate.finish_reason == "length"
