"""The Kafka source's settings: brokers, topic, consumer group, security and the dead-letter topic.

They live with the events stage that uses them; ``shadow.config`` includes them as ``kafka:``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from shadow.errors import ConfigError


class KafkaSettings(BaseModel):
    """The mirror topic, its consumer group and the dead-letter topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str = Field(default="127.0.0.1:9092", description="comma-separated host:port list")
    topic: str = Field(default="llm.mirror.v1", description="topic the mirror events are published to")
    group_id: str = Field(default="shadow", description="consumer group; workers with the same group share partitions")
    dead_letter_topic: str | None = Field(default=None, description="default: '<topic>.dlq'")
    client_id: str = Field(default="shadow-worker", description="client id shown in broker logs and metrics")
    auto_offset_reset: Literal["earliest", "latest"] = Field(
        default="earliest", description="where a new group starts reading"
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="how to talk to the brokers"
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None, description="SASL mechanism (default PLAIN when a SASL protocol is used)"
    )
    sasl_username: str | None = Field(default=None, description="SASL user")
    sasl_password: SecretStr | None = Field(
        default=None, description="SASL password, from SHADOW_KAFKA__SASL_PASSWORD only (refused in the file)"
    )
    sasl_password_file: Path | None = Field(
        default=None,
        description="file whose first line is the SASL password (a mounted secret); SHADOW_KAFKA__SASL_PASSWORD wins",
    )
    ssl_cafile: str | None = Field(default=None, description="CA bundle to verify the brokers (SSL protocols)")
    ssl_certfile: str | None = Field(default=None, description="client certificate (mutual TLS)")
    ssl_keyfile: str | None = Field(default=None, description="client private key (mutual TLS)")
    max_poll_records: int = Field(default=500, gt=0, description="most records fetched per poll")
    commit_interval_s: float = Field(default=1.0, gt=0, description="how often stored offsets are committed")
    session_timeout_ms: int = Field(default=30_000, gt=0, description="group session timeout")
    max_poll_interval_ms: int = Field(
        default=300_000, gt=0, description="longest pause between polls before the group evicts the worker"
    )
    control: bool = Field(
        default=True,
        description="follow the control topic (shadow ctl): candidates disabled or paused there are not called",
    )
    control_topic: str = Field(
        default="shadow.control",
        min_length=1,
        description="compacted topic holding each candidate's state, shared by every worker of every group; "
        "created (one partition, cleanup.policy=compact) when missing",
    )
    control_replication_factor: int = Field(
        default=1, ge=1, description="replication factor used when the control topic is created"
    )

    def sasl_password_value(self) -> str | None:
        """The SASL password: the environment's, else the first line of ``sasl_password_file``, else None.

        Raises:
            ConfigError: the file cannot be read or is empty (the password itself is never shown).
        """
        if self.sasl_password is not None:
            return self.sasl_password.get_secret_value()
        if self.sasl_password_file is None:
            return None
        try:
            lines = self.sasl_password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"kafka.sasl_password_file {self.sasl_password_file}: {exc.strerror or exc}") from None
        if not lines or not lines[0].strip():
            raise ConfigError(f"kafka.sasl_password_file {self.sasl_password_file}: the file is empty")
        return lines[0].strip()

    @property
    def dlq_topic(self) -> str:
        return self.dead_letter_topic or f"{self.topic}.dlq"
