"""Configuration: YAML + SHADOW_* environment + keyword overrides, precise errors, masked secrets."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from shadow.config import (
    CandidateSettings,
    ConfigError,
    RedactionRule,
    Settings,
    load_settings,
    read_api_key,
)
from shadow.events.models import Api

KAFKA_PASSWORD = "kafka-pw-Zq8x!r2"
CLICKHOUSE_PASSWORD = "ch-pw-Lm4t9#w"

BASE_CONFIG: dict[str, Any] = {
    "config_version": "2026-11-23.1",
    "kafka": {"bootstrap_servers": "broker-1:9092,broker-2:9092", "topic": "yaml.topic", "group_id": "yaml-group"},
    "clickhouse": {"dsn": "https://ch.example.com:8443", "database": "shadow"},
    "candidates": [
        {
            "name": "gpt-next",
            "provider": "openai",
            "base_url": "https://api.openai.com/v1/",
            "model": "gpt-4.1",
            "api_key_env": "SHADOW_TEST_OPENAI_KEY",
            "timeout_s": 20,
            "overrides": {"temperature": 0, "top_p": None},
            "workflows": ["support_chat"],
        },
        {
            "name": "claude",
            "provider": "anthropic",
            "base_url": "https://api.anthropic.com",
            "model": "claude-sonnet-4-5",
            "apis": ["anthropic.messages"],
        },
    ],
    "workflows": {"support_chat": {"sample_rate": 0.25}, "客服": {"sample_rate": 0.5}},
    "sampling": {"default_rate": 0.1, "salt": "q4"},
    "prices": {"gpt-4.1": {"input_per_mtok": 2.0, "output_per_mtok": 8.0}},
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SHADOW_* variables from the developer's shell leak into these tests."""
    for name in list(os.environ):
        if name.startswith("SHADOW_"):
            monkeypatch.delenv(name)


@pytest.fixture
def config_file_factory(tmp_path: Path) -> Callable[..., Path]:
    def make(data: dict[str, Any] | str | None = None, name: str = "shadow.yaml") -> Path:
        path = tmp_path / name
        if data is None:
            data = BASE_CONFIG
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return make


@pytest.fixture
def config_file(config_file_factory: Callable[..., Path]) -> Path:
    return config_file_factory()


def with_candidate(**changes: Any) -> dict[str, Any]:
    """BASE_CONFIG with the first candidate changed (a value of ``...`` deletes the key)."""
    data = orjson.loads(orjson.dumps(BASE_CONFIG))
    for key, value in changes.items():
        if value is ...:
            data["candidates"][0].pop(key)
        else:
            data["candidates"][0][key] = value
    return data


# --- loading ----------------------------------------------------------------------------------------------------------


def test_load_settings_from_yaml(config_file: Path) -> None:
    settings = load_settings(config_file)
    assert settings.config_version == "2026-11-23.1"
    assert settings.kafka.topic == "yaml.topic"
    assert settings.kafka.dlq_topic == "yaml.topic.dlq"
    gpt, claude = settings.candidates
    assert gpt.base_url == "https://api.openai.com/v1"  # trailing slash removed
    assert gpt.timeout_s == 20.0 and gpt.overrides == {"temperature": 0, "top_p": None}
    assert claude.max_retries == 2 and claude.role == "candidate"
    assert settings.sample_rate("support_chat") == 0.25
    assert settings.sample_rate("客服") == 0.5
    assert settings.sample_rate("unconfigured") == 0.1
    assert settings.prices["gpt-4.1"].output_per_mtok == 8.0


def test_defaults_without_a_file() -> None:
    settings = load_settings(None)
    assert settings.kafka.topic == "llm.mirror.v1"
    assert settings.candidates == []
    assert settings.sample_rate("anything") == 1.0


def test_empty_file_gives_defaults(config_file_factory: Callable[..., Path]) -> None:
    assert load_settings(config_file_factory("")).kafka.group_id == "shadow"


def test_settings_are_frozen(config_file: Path) -> None:
    settings = load_settings(config_file)
    with pytest.raises(Exception, match="frozen"):
        settings.kafka.topic = "other"  # type: ignore[misc]


# --- precedence: keyword > env > YAML > defaults ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "overrides", "topic"),
    [
        ({}, {}, "yaml.topic"),
        ({"SHADOW_KAFKA__TOPIC": "env.topic"}, {}, "env.topic"),
        ({"SHADOW_KAFKA__TOPIC": "env.topic"}, {"kafka": {"topic": "kw.topic"}}, "kw.topic"),
        ({}, {"kafka": {"topic": "kw.topic"}}, "kw.topic"),
    ],
)
def test_precedence(
    monkeypatch: pytest.MonkeyPatch, config_file: Path, env: dict[str, str], overrides: dict[str, Any], topic: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(config_file, **overrides)
    assert settings.kafka.topic == topic
    # Overriding one nested key keeps the file's other keys of that section.
    assert settings.kafka.group_id == "yaml-group"
    assert settings.kafka.bootstrap_servers == "broker-1:9092,broker-2:9092"


def test_env_only_settings_and_types(monkeypatch: pytest.MonkeyPatch, config_file: Path) -> None:
    monkeypatch.setenv("SHADOW_KAFKA__MAX_POLL_RECORDS", "50")
    monkeypatch.setenv("SHADOW_PIPELINE__MAX_IN_FLIGHT", "8")
    monkeypatch.setenv("SHADOW_CLICKHOUSE__PASSWORD", CLICKHOUSE_PASSWORD)
    monkeypatch.setenv("SHADOW_LOG_LEVEL", "DEBUG")
    settings = load_settings(config_file)
    assert settings.kafka.max_poll_records == 50
    assert settings.pipeline.max_in_flight == 8
    assert settings.clickhouse.password is not None
    assert settings.clickhouse.password.get_secret_value() == CLICKHOUSE_PASSWORD
    assert settings.log_level == "DEBUG"


def test_env_list_as_json_replaces_yaml_list(monkeypatch: pytest.MonkeyPatch, config_file: Path) -> None:
    candidates = [{"name": "local", "provider": "openai", "base_url": "http://127.0.0.1:8000/v1", "model": "qwen2.5"}]
    monkeypatch.setenv("SHADOW_CANDIDATES", orjson.dumps(candidates).decode())
    settings = load_settings(config_file)
    assert [c.name for c in settings.candidates] == ["local"]


def test_unrelated_shadow_variables_are_ignored(monkeypatch: pytest.MonkeyPatch, config_file: Path) -> None:
    # CI sets SHADOW_REQUIRE_SERVICES for the test suite; it is not a setting.
    monkeypatch.setenv("SHADOW_REQUIRE_SERVICES", "1")
    assert load_settings(config_file).kafka.topic == "yaml.topic"


def test_bad_env_value_names_the_field(monkeypatch: pytest.MonkeyPatch, config_file: Path) -> None:
    monkeypatch.setenv("SHADOW_KAFKA__MAX_POLL_RECORDS", "many")
    with pytest.raises(ConfigError, match=r"kafka\.max_poll_records"):
        load_settings(config_file)


# --- errors -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "needles"),
    [
        pytest.param(with_candidate(timeout_s=-1), ["candidates.0.timeout_s", "greater than 0"], id="negative-timeout"),
        pytest.param(with_candidate(timeout_s="fast"), ["candidates.0.timeout_s"], id="timeout-text"),
        pytest.param(with_candidate(max_concurrency=0), ["candidates.0.max_concurrency"], id="zero-concurrency"),
        pytest.param(with_candidate(provider="gemini"), ["candidates.0.provider"], id="unknown-provider"),
        pytest.param(with_candidate(base_url="api.openai.com/v1"), ["candidates.0.base_url", "http"], id="bare-host"),
        pytest.param(with_candidate(name="gpt next"), ["candidates.0.name"], id="name-with-space"),
        pytest.param(with_candidate(name="模型"), ["candidates.0.name"], id="name-non-ascii"),
        pytest.param(with_candidate(timeout=5), ["candidates.0.timeout", "Extra inputs"], id="unknown-candidate-key"),
        pytest.param(with_candidate(model=None), ["candidates.0", "model is required", "control"], id="model-null"),
        pytest.param(with_candidate(model=...), ["candidates.0", "model is required"], id="model-missing"),
        pytest.param(with_candidate(apis=["openai.realtime"]), ["candidates.0.apis.0"], id="unknown-api"),
        pytest.param({**BASE_CONFIG, "kafka": {"topicc": "typo"}}, ["kafka.topicc", "Extra inputs"], id="kafka-typo"),
        pytest.param({**BASE_CONFIG, "kafak": {}}, ["kafak", "Extra inputs"], id="top-level-typo"),
        pytest.param({**BASE_CONFIG, "workflows": {"support_chat": {"sample_rate": 1.5}}},
                     ["workflows.support_chat.sample_rate"], id="rate-above-one"),
        pytest.param({**BASE_CONFIG, "workflows": {"客服": {"sample_rate": -0.1}}}, ["workflows.客服.sample_rate"],
                     id="chinese-workflow-rate"),
        pytest.param({**BASE_CONFIG, "workflows": {"w": {"output_schema": {}, "output_schema_file": "s.json"}}},
                     ["workflows.w", "not both"], id="two-schemas"),
        pytest.param({**BASE_CONFIG, "clickhouse": {"database": "shadow-prod"}}, ["clickhouse.database"],
                     id="database-not-identifier"),
        pytest.param({**BASE_CONFIG, "kafka": {"security_protocol": "TLS"}}, ["kafka.security_protocol"],
                     id="security-protocol"),
        pytest.param({**BASE_CONFIG, "redaction": {"rules": [{"name": "bad", "pattern": "([a-z"}]}},
                     ["redaction.rules.0.pattern", "regular expression"], id="bad-regex"),
        pytest.param({**BASE_CONFIG, "diff": {"refusal_patterns": ["(抱歉"]}}, ["diff.refusal_patterns"],
                     id="bad-refusal-regex"),
        pytest.param({**BASE_CONFIG, "prices": {"gpt-4.1": {"input_per_mtok": 2.0}}},
                     ["prices.gpt-4.1.output_per_mtok"], id="price-missing"),
    ],
)  # fmt: skip
def test_invalid_values_name_the_file_and_the_field(
    config_file_factory: Callable[..., Path], data: dict[str, Any], needles: list[str]
) -> None:
    path = config_file_factory(data)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message


def test_duplicate_candidate_names(config_file_factory: Callable[..., Path]) -> None:
    data = orjson.loads(orjson.dumps(BASE_CONFIG))
    data["candidates"].append({**data["candidates"][1], "base_url": "https://proxy.example.com"})
    path = config_file_factory(data)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert "unique" in str(info.value) and "claude" in str(info.value)
    assert "gpt-next" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("kafka: [\n", "not valid YAML", id="unclosed-flow"),
        pytest.param("kafka:\n  topic: a\n topic: b\n", "not valid YAML", id="bad-indent"),
        pytest.param("- a\n- b\n", "mapping", id="top-level-list"),
        pytest.param("just a string\n", "mapping", id="top-level-string"),
    ],
)
def test_unreadable_files(config_file_factory: Callable[..., Path], text: str, needle: str) -> None:
    path = config_file_factory(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "shadow.yaml"
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_settings(path)
    assert str(path) in str(info.value)


def test_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path))):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    ("options", "ok"),
    [
        ({"model": None, "role": "control", "control_models": ["gpt-4o-2024-08-06"]}, True),
        ({"role": "control", "control_models": ["gpt-4o-2024-08-06"]}, True),
        ({"model": None}, False),
        ({"model": None, "role": "candidate"}, False),
        ({"model": "gpt-4o", "role": "control"}, True),
    ],
)
def test_model_null_only_for_control(options: dict[str, Any], ok: bool) -> None:
    fields = {"name": "c", "provider": "openai", "base_url": "https://api.openai.com/v1", **options}
    if ok:
        assert CandidateSettings.model_validate(fields).role == "control"
    else:
        with pytest.raises(ValueError, match="model is required"):
            CandidateSettings.model_validate(fields)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        pytest.param({"model": None, "role": "control"}, "needs control_models", id="control-without-models"),
        pytest.param({"control_models": ["gpt-4o"]}, "only for a control lane", id="models-without-control"),
        pytest.param({"allow_params": ["service_tier", "n"]}, "n cannot be allowed", id="allow-n"),
        pytest.param({"allow_params": ["stream"]}, "stream cannot be allowed", id="allow-stream"),
        pytest.param({"overrides": {"n": 3}}, "n cannot be", id="override-n"),
        pytest.param({"overrides": {"stream": True}}, "stream cannot be", id="override-stream"),
        pytest.param({"overrides": {"max_tokens": 8000}}, "overrides.max_tokens (8000) is above max_output_tokens",
                     id="override-over-cap"),
        pytest.param({"max_output_tokens": 256, "overrides": {"max_completion_tokens": 300}},
                     "above max_output_tokens (256)", id="override-over-lowered-cap"),
        pytest.param({"max_output_tokens": 0}, "max_output_tokens", id="zero-cap"),
        pytest.param({"max_response_bytes": 0}, "max_response_bytes", id="zero-response-bytes"),
    ],
)  # fmt: skip
def test_request_and_response_guards_are_validated(options: dict[str, Any], needle: str) -> None:
    fields = {"name": "c", "provider": "openai", "base_url": "https://api.openai.com/v1", "model": "m", **options}
    with pytest.raises(ValueError, match=re.escape(needle)):
        CandidateSettings.model_validate(fields)


def test_guard_defaults_and_harmless_overrides() -> None:
    fields = {"name": "c", "provider": "openai", "base_url": "https://api.openai.com/v1", "model": "m"}
    settings = CandidateSettings.model_validate(
        {**fields, "overrides": {"n": 1, "stream": False, "stream_options": None, "max_tokens": 4096}}
    )
    assert (settings.max_output_tokens, settings.allow_params, settings.control_models) == (4096, [], [])
    assert (settings.max_response_bytes, settings.max_response_decompressed_bytes) == (4 << 20, 8 << 20)
    assert settings.retry_timeouts is False


@pytest.mark.parametrize(
    ("workflows", "apis", "enabled", "workflow", "api", "expected"),
    [
        ([], [], True, "support_chat", "openai.chat.completions", True),
        ([], [], False, "support_chat", "openai.chat.completions", False),
        (["support_chat"], [], True, "refund_flow", "openai.chat.completions", False),
        (["support_chat", "退款流程"], [], True, "退款流程", "anthropic.messages", True),
        ([], ["anthropic.messages"], True, "support_chat", "openai.chat.completions", False),
        (["support_chat"], ["openai.chat.completions"], True, "support_chat", "openai.chat.completions", True),
    ],
)
def test_candidate_replays(workflows, apis, enabled, workflow, api, expected) -> None:
    settings = CandidateSettings.model_validate(
        {"name": "c", "provider": "openai", "base_url": "http://x", "model": "m", "workflows": workflows,
         "apis": apis, "enabled": enabled}
    )  # fmt: skip
    assert settings.replays(workflow, Api(api)) is expected


def test_redaction_rule_rejects_bad_pattern() -> None:
    with pytest.raises(ValueError, match="regular expression"):
        RedactionRule(name="x", pattern="(unclosed")


# --- secrets ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def secret_settings(config_file_factory: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Settings:
    # Secrets come from the environment (a config file holding them is refused, see below).
    monkeypatch.setenv("SHADOW_KAFKA__SASL_PASSWORD", KAFKA_PASSWORD)
    monkeypatch.setenv("SHADOW_CLICKHOUSE__PASSWORD", CLICKHOUSE_PASSWORD)
    data = {
        **BASE_CONFIG,
        "kafka": {**BASE_CONFIG["kafka"], "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                  "sasl_username": "shadow"},
        "clickhouse": {**BASE_CONFIG["clickhouse"], "username": "shadow_writer"},
    }  # fmt: skip
    return load_settings(config_file_factory(data))


@pytest.mark.parametrize(("section", "key"), [("kafka", "sasl_password"), ("clickhouse", "password")])
def test_a_secret_in_the_config_file_is_refused(config_file_factory: Callable[..., Path], section: str,
                                               key: str) -> None:  # fmt: skip
    data = {**BASE_CONFIG, section: {**BASE_CONFIG[section], key: "in-the-file-1234"}}
    with pytest.raises(ConfigError, match=f"{section}.{key} is a secret") as caught:
        load_settings(config_file_factory(data))
    assert "in-the-file-1234" not in str(caught.value)


def test_secrets_are_readable_where_needed(secret_settings: Settings) -> None:
    assert secret_settings.kafka.sasl_password is not None
    assert secret_settings.kafka.sasl_password.get_secret_value() == KAFKA_PASSWORD
    assert secret_settings.clickhouse.password is not None
    assert secret_settings.clickhouse.password.get_secret_value() == CLICKHOUSE_PASSWORD


def test_masked_hides_secrets(secret_settings: Settings) -> None:
    masked = secret_settings.masked()
    assert masked["kafka"]["sasl_password"] == "**********"
    assert masked["clickhouse"]["password"] == "**********"
    assert masked["kafka"]["sasl_username"] == "shadow"  # not a secret, still shown
    dumped = orjson.dumps(masked).decode()
    assert KAFKA_PASSWORD not in dumped and CLICKHOUSE_PASSWORD not in dumped


def test_masked_is_plain_json_data(secret_settings: Settings) -> None:
    masked = secret_settings.masked()
    assert orjson.loads(orjson.dumps(masked)) == masked
    assert masked["candidates"][1]["apis"] == ["anthropic.messages"]


@pytest.mark.parametrize("render", [str, repr, lambda s: str(s.kafka), lambda s: repr(s.clickhouse), format])
def test_secrets_never_in_str_or_repr(secret_settings: Settings, render: Callable[[Any], str]) -> None:
    text = render(secret_settings)
    assert KAFKA_PASSWORD not in text
    assert CLICKHOUSE_PASSWORD not in text


def test_masked_hides_password_in_clickhouse_dsn(config_file_factory: Callable[..., Path]) -> None:
    # clickhouse-connect accepts credentials in the DSN, so a DSN can carry the password too.
    data = {**BASE_CONFIG, "clickhouse": {"dsn": f"https://shadow_writer:{CLICKHOUSE_PASSWORD}@ch.example.com:8443"}}
    settings = load_settings(config_file_factory(data))
    dumped = orjson.dumps(settings.masked()).decode()
    assert CLICKHOUSE_PASSWORD not in dumped
    assert "ch.example.com:8443" in dumped


def test_read_api_key(monkeypatch: pytest.MonkeyPatch, config_file: Path) -> None:
    monkeypatch.setenv("SHADOW_TEST_OPENAI_KEY", "sk-proj-abcdefghijklmnopqrstuvwx")
    settings = load_settings(config_file)
    key = read_api_key(settings.candidates[0])
    assert key is not None and key.get_secret_value() == "sk-proj-abcdefghijklmnopqrstuvwx"
    assert "sk-proj" not in repr(key)
    assert read_api_key(settings.candidates[1]) is None  # names no variable


@pytest.mark.parametrize("value", [None, ""])
def test_read_api_key_missing_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, config_file: Path, value: str | None
) -> None:
    monkeypatch.setenv("SHADOW_TEST_UNRELATED_SECRET", "do-not-print-me-123")
    if value is not None:
        monkeypatch.setenv("SHADOW_TEST_OPENAI_KEY", value)
    settings = load_settings(config_file)
    with pytest.raises(ConfigError) as info:
        read_api_key(settings.candidates[0])
    message = str(info.value)
    assert "SHADOW_TEST_OPENAI_KEY" in message and "gpt-next" in message
    assert "do-not-print-me-123" not in message
