"""Redaction of stored text: the rules in English and Chinese, JSON kept JSON, JSON paths, custom rules added to the
built-in ones, switching it off or storing no text, bounded work."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadow.config import RedactionSettings
from shadow.redaction import REDACTION_MARGIN_CHARS, TRUNCATION_MARK, Redactor

KEY = {"SHADOW_REDACTION_KEY": "test-key"}
# A token: a label and twelve letters (no digit, so no rule matches it again).
T = r"\[[A-Z_]+:[a-p]{12}\]"


def masked(text: str) -> str:
    """The text with every token written as its label alone: [EMAIL:abc...] -> [EMAIL]."""
    return re.sub(r"\[([A-Z_]+):[a-p]{12}\]", r"[\1]", text)


@pytest.fixture
def redactor_factory() -> Callable[..., Redactor]:
    def make(**options: Any) -> Redactor:
        return Redactor.from_settings(RedactionSettings.model_validate(options), KEY)

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
        pytest.param("卡号 4111 1111 1111 1111 已冻结", "卡号 [CARD] 已冻结", id="card-chinese-spaced"),
        pytest.param("卡号4111-1111-1111-1111已冻结", "卡号[CARD]已冻结", id="card-chinese-adjacent"),
        pytest.param("电话 +86 138 1234 5678 谢谢", "电话 [PHONE] 谢谢", id="phone-chinese"),
        pytest.param("IBAN: GB82 WEST 1234 5698 7654 32.", "IBAN: [IBAN].", id="iban"),
        pytest.param("密钥sk-proj-abcdefghijklmnop1234请保管", "密钥[SECRET]请保管", id="key-chinese-adjacent"),
        pytest.param("Order 12345 shipped to 北京", "Order 12345 shipped to 北京", id="short-number-kept"),
        pytest.param("sk-short is fine", "sk-short is fine", id="short-sk-kept"),
        pytest.param("", "", id="empty"),
    ],
)  # fmt: skip
def test_default_redaction_rules(redactor: Redactor, text: str, expected: str) -> None:
    assert masked(redactor(text)) == expected


def test_redaction_disabled(redactor_factory: Callable[..., Redactor]) -> None:
    text = "jane@example.com 4111 1111 1111 1111"
    assert redactor_factory(enabled=False)(text) == text


def test_custom_rules_apply_in_order_after_the_built_in_ones(redactor_factory: Callable[..., Redactor]) -> None:
    redact = redactor_factory(
        rules=[
            {"name": "phone_cn", "pattern": r"1[3-9]\d{9}", "replacement": "[MOBILE]"},
            {"name": "tag", "pattern": r"\[MOBILE\]", "replacement": "<phone>"},
        ]
    )
    assert masked(redact("电话13812345678, email a@b.co")) == "电话<phone>, email [EMAIL]"


def test_custom_rules_add_to_the_built_in_ones(redactor_factory: Callable[..., Redactor]) -> None:
    redact = redactor_factory(rules=[{"name": "order id", "pattern": r"ORD-\d+"}])
    redacted = redact("ORD-991 from jane@example.com")
    assert re.fullmatch(r"\[ORDER_ID:[a-p]{12}\] from \[EMAIL:[a-p]{12}\]", redacted), redacted
    assert redact("ORD-991") == redact("ORD-991") != redact("ORD-992")  # stable tokens for custom rules too


def test_built_in_rules_can_be_chosen(redactor_factory: Callable[..., Redactor]) -> None:
    redact = redactor_factory(defaults=["email"])
    assert masked(redact("jane@example.com 4111 1111 1111 1111")) == "[EMAIL] 4111 1111 1111 1111"
    with pytest.raises(ValueError, match="unknown built-in rule"):
        RedactionSettings.model_validate({"defaults": ["emails"]})


# --- bounded redaction: only what is stored is redacted, and no secret is cut in half ---------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a" * 40_000, id="40k-without-at"),
        pytest.param("a." * 200_000, id="dots-without-at"),
        pytest.param("x@" + "a." * 200_000, id="at-then-domain-without-tld"),
        pytest.param("Bearer " * 50_000, id="bearer-words"),
        pytest.param("+1" + " 1" * 200_000, id="plus-then-endless-digit-groups"),
        pytest.param("0 " * 200_000, id="zeros"),
        pytest.param("(0 " * 100_000, id="open-parentheses"),
        pytest.param("AB12 " * 100_000, id="iban-starts"),
        pytest.param("-----BEGIN PRIVATE KEY-----" * 20_000, id="key-headers-without-footer"),
        pytest.param("1-" * 200_000, id="digits-and-dashes"),
    ],
)
def test_default_rules_are_linear_on_hostile_texts(redactor: Redactor, text: str) -> None:
    redacted = redactor(text)
    if text.startswith("-----BEGIN"):  # the key headers are one secret
        assert "PRIVATE KEY" not in redacted
    elif text.startswith("+1"):  # a run of digit groups after "+": one phone-shaped run, replaced whole
        assert re.fullmatch(r"\[PHONE:[a-p]{12}\]", redacted)
    else:  # no secret at all
        assert redacted == text


OLD_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from("ab9._%+-@ \n中"), max_size=40))
def test_the_email_rule_finds_what_it_found_before(text: str) -> None:
    from shadow.redaction.rules import BUILTIN_RULES

    rule = next(r for r in BUILTIN_RULES if r.name == "email")
    assert rule.pattern.sub("[EMAIL]", text) == OLD_EMAIL.sub("[EMAIL]", text)


def test_runs_of_card_digits_and_dashes_are_redacted_in_linear_time(redactor: Redactor) -> None:
    redacted = redactor("4-" * 200_000)
    assert redacted.count("[CARD:") > 10_000  # 4444 4444 4444 4444 passes the Luhn check
    assert redactor(redacted) == redacted  # what is left holds no card number


def test_cut_keeps_a_prefix_of_the_whole_text_redacted(redactor: Redactor) -> None:
    text = "mail jane@example.com " * 100
    kept = redactor.cut(text, 50).removesuffix(TRUNCATION_MARK)
    assert redactor(text).startswith(kept)
    # What the first 50 characters become; a token the cut would split is dropped, not kept in half.
    assert masked(kept) == "mail [EMAIL] mail "
    assert masked(redactor.cut("short jane@example.com", 50)) == "short [EMAIL]"


def test_cut_never_keeps_half_of_a_secret_at_the_window_end(redactor: Redactor) -> None:
    limit = 100
    # A card number straddling the end of the redacted window: its first digits alone match no rule.
    for offset in range(1, 19):
        text = "x" * (limit + REDACTION_MARGIN_CHARS - offset) + "4111 1111 1111 1111" + " tail" * 10
        stored = redactor.cut(text, limit)
        assert "4111" not in stored
        assert len(stored) <= limit + len(TRUNCATION_MARK)


def test_cut_work_is_bounded_by_the_kept_length(redactor: Redactor) -> None:
    text = "jane@example.com " + "a" * 5_000_000
    assert re.fullmatch(T + " a*" + re.escape(TRUNCATION_MARK), redactor.cut(text, 30))
    assert len(redactor.cut(text, 30)) <= 30 + len(TRUNCATION_MARK)


def test_a_shrinking_redaction_keeps_what_is_safe(redactor: Redactor) -> None:
    token = "Bearer " + "t" * 5_000
    assert re.fullmatch(r"\[SECRET:[a-p]{12}\]" + re.escape(TRUNCATION_MARK), redactor.cut(token + " after", 100))


# --- rows: stored texts, tool calls, paths and errors pass the redaction and its caps ---------------


def stored_row(redactor: Redactor, production_text: str, candidate_text: str, calls: int = 0) -> dict[str, Any]:
    from datetime import UTC, datetime

    from shadow.config import Settings
    from shadow.diff import DiffContext, compare
    from shadow.events.decode import decode_event
    from shadow.events.output import Output, ToolCall
    from shadow.events.records import Position
    from shadow.replay.result import ReplayResult
    from shadow.sink.rows import EventColumns, RowContext, build_comparison_row
    from tests.factories import event_bytes, make_event

    ctx = RowContext(config_version="t", redactor=redactor, max_text_chars=200, max_tool_calls=3)
    decoded = decode_event(event_bytes(make_event()), max_bytes=1 << 20)
    tool_calls = tuple(ToolCall("lookup", orjson.dumps({"email": f"u{i}@example.com"}).decode()) for i in range(calls))
    production = Output(production_text, tool_calls)
    candidate = Output(candidate_text, tool_calls[::-1])
    settings = Settings.model_validate(
        {"candidates": [{"name": "c", "provider": "openai", "base_url": "http://x", "model": "m"}]}
    )
    result = ReplayResult(candidate="c", model="m", output=candidate, error_message="failed for jane@example.com")
    context = DiffContext()
    return build_comparison_row(
        event=decoded.event,
        position=Position("kafka", "t", 0, 0),
        candidate=settings.candidates[0],
        shared=EventColumns.of(production, context, ctx, decoded.event),
        result=result,
        comparison=compare(production, candidate, context),
        ctx=ctx,
        compared_at=datetime.now(UTC),
    )


def test_stored_texts_are_cut_then_redacted(redactor: Redactor) -> None:
    row = stored_row(redactor, "write to jane@example.com " + "x" * 1_000_000, "ok")
    assert masked(row["production_text"]).startswith("write to [EMAIL] xxx")
    assert row["production_text"].endswith(TRUNCATION_MARK) and len(row["production_text"]) <= 200 + 20
    assert masked(row["error_message"]) == "failed for [EMAIL]"


def test_stored_tool_calls_are_those_compared_and_redacted(redactor: Redactor) -> None:
    row = stored_row(redactor, "", "", calls=5)
    stored = orjson.loads(row["candidate_output"])["tool_calls"]
    assert len(stored) == 3
    assert all("[EMAIL:" in call["arguments"] and orjson.loads(call["arguments"]) for call in stored)
    assert row["production_tool_calls"] == 5


def test_differing_paths_quote_answer_keys_redacted() -> None:
    from shadow.config import RedactionSettings
    from shadow.diff import compare
    from shadow.events.output import Output
    from shadow.sink.rows import diff_columns

    production, candidate = Output('{"jane@example.com": 1}'), Output('{"jane@example.com": 2}')
    assert diff_columns(compare(production, candidate))["json_diff_paths"] == ['$["jane@example.com"]']
    row = stored_row(
        Redactor.from_settings(RedactionSettings(), KEY), '{"jane@example.com": 1}', '{"jane@example.com": 2}'
    )
    assert [masked(path) for path in row["json_diff_paths"]] == ['$["[EMAIL]"]']
    assert row["caps"] == []
