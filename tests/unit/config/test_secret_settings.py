"""Secret-bearing settings (issue 12): header values and the ClickHouse password come from the
environment or a file, never from the config file, and never show in settings or error texts."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
from pydantic import SecretStr

from shadow.config import CandidateSettings, ClickHouseSettings, load_settings, read_secret_headers
from shadow.errors import ConfigError
from shadow.events.models import MirrorEvent
from shadow.replay.client import CandidateClient
from tests.factories import make_event

GATEWAY_KEY = "gw-key-4f1c9a7e2b8d6053"


def candidate(**extra: object) -> CandidateSettings:
    return CandidateSettings.model_validate(
        {"name": "azure", "provider": "openai", "base_url": "http://candidate.test/v1", "model": "gpt-4o", **extra}
    )


@pytest.mark.parametrize("header", ["api-key", "Authorization", "x-goog-api-key", "X-Auth-Token", "Cookie"])
def test_a_credential_in_plain_headers_is_refused_without_echoing_it(tmp_path: Path, header: str) -> None:
    config = tmp_path / "shadow.yaml"
    entry = {
        "name": "a",
        "provider": "openai",
        "base_url": "http://x/v1",
        "model": "m",
        "headers": {header: GATEWAY_KEY},
    }
    config.write_text(orjson.dumps({"candidates": [entry]}).decode())
    with pytest.raises(ConfigError, match="secret_headers_env") as caught:
        load_settings(config)
    assert GATEWAY_KEY not in str(caught.value)


def test_plain_headers_that_are_not_credentials_stay_allowed() -> None:
    assert candidate(headers={"anthropic-beta": "tools-2024", "x-request-source": "shadow"}).headers


def test_secret_headers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = candidate(secret_headers_env={"api-key": "AZURE_GATEWAY_KEY"})
    monkeypatch.delenv("AZURE_GATEWAY_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"AZURE_GATEWAY_KEY .*is not set"):
        read_secret_headers(settings)
    monkeypatch.setenv("AZURE_GATEWAY_KEY", GATEWAY_KEY)
    assert read_secret_headers(settings)["api-key"].get_secret_value() == GATEWAY_KEY
    assert GATEWAY_KEY not in orjson.dumps(settings.model_dump(mode="json")).decode()


async def test_a_secret_header_is_sent_and_scrubbed_from_error_texts() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("api-key"))
        # A gateway that echoes the credential it refused in its error text.
        return httpx.Response(401, json={"error": f"key {GATEWAY_KEY} is not valid for this deployment"})

    settings = candidate(secret_headers_env={"api-key": "AZURE_GATEWAY_KEY"}, max_retries=0)
    client = CandidateClient(settings, transport=httpx.MockTransport(handler),
                             secret_headers={"api-key": SecretStr(GATEWAY_KEY)})  # fmt: skip
    try:
        result = await client.replay(MirrorEvent.model_validate(make_event()))
    finally:
        await client.aclose()
    assert seen == [GATEWAY_KEY]
    assert result.http_status == 401 and GATEWAY_KEY not in result.error_message
    assert "[SECRET]" in result.error_message, result.error_message


def test_the_clickhouse_password_is_refused_in_the_file(tmp_path: Path) -> None:
    config = tmp_path / "shadow.yaml"
    config.write_text(orjson.dumps({"clickhouse": {"dsn": "http://ch:8123", "password": "hunter2-long"}}).decode())
    with pytest.raises(ConfigError, match="SHADOW_CLICKHOUSE__PASSWORD") as caught:
        load_settings(config)
    assert "hunter2-long" not in str(caught.value)


def test_the_clickhouse_password_from_a_file_or_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-the-file\n")
    assert ClickHouseSettings(password_file=secret).password_value() == "from-the-file"
    both = ClickHouseSettings(password=SecretStr("from-env"), password_file=secret)
    assert both.password_value() == "from-env"
    assert ClickHouseSettings().password_value() == ""
    with pytest.raises(ConfigError, match="password_file"):
        ClickHouseSettings(password_file=tmp_path / "missing").password_value()


# --- every secret also from a file (a mounted secret) ---------------------------------------------------


def test_the_api_key_from_a_file_or_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shadow.config import read_api_key

    key_file = tmp_path / "key"
    key_file.write_text("sk-from-the-file-0123456789\n")
    monkeypatch.delenv("SHADOW_TEST_KEY", raising=False)
    both = candidate(api_key_env="SHADOW_TEST_KEY", api_key_file=str(key_file))
    assert read_api_key(both) == SecretStr("sk-from-the-file-0123456789")
    monkeypatch.setenv("SHADOW_TEST_KEY", "sk-from-the-environment-01234")
    assert read_api_key(both) == SecretStr("sk-from-the-environment-01234")  # the variable wins when set
    assert read_api_key(candidate(api_key_file=str(key_file))) == SecretStr("sk-from-the-file-0123456789")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    for path, message in ((empty, "is empty"), (tmp_path / "missing", "No such file")):
        with pytest.raises(ConfigError, match=message) as caught:
            read_api_key(candidate(api_key_file=str(path)))
        assert "api_key_file" in str(caught.value)


def test_secret_headers_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header_file = tmp_path / "gateway"
    header_file.write_text(GATEWAY_KEY + "\n")
    settings = candidate(secret_headers_file={"api-key": str(header_file)})
    assert read_secret_headers(settings) == {"api-key": SecretStr(GATEWAY_KEY)}
    monkeypatch.setenv("SHADOW_TEST_GW", "from-env-value")
    both = candidate(
        secret_headers_file={"api-key": str(header_file)}, secret_headers_env={"api-key": "SHADOW_TEST_GW"}
    )
    assert read_secret_headers(both) == {"api-key": SecretStr("from-env-value")}


def test_the_kafka_sasl_password_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shadow.events.settings import KafkaSettings

    secret = tmp_path / "sasl"
    secret.write_text("sasl-secret-value\n")
    assert KafkaSettings(sasl_password_file=secret).sasl_password_value() == "sasl-secret-value"
    assert KafkaSettings(sasl_password=SecretStr("env-wins"), sasl_password_file=secret).sasl_password_value() == (
        "env-wins"
    )
    with pytest.raises(ConfigError, match="sasl_password_file"):
        KafkaSettings(sasl_password_file=tmp_path / "missing").sasl_password_value()
