"""Configuration: one YAML file plus ``SHADOW_*`` environment overrides.

Precedence, highest first: keyword arguments to :func:`load_settings` (the CLI's
flags) > environment variables (``SHADOW_KAFKA__BOOTSTRAP_SERVERS=…``; nested keys
joined by ``__``, lists and maps as JSON) > the YAML file > defaults.

Secrets are never in the file: candidate API keys are read from the environment
variable a candidate names (``api_key_env``), passwords are ``SecretStr`` and
print masked. Relative paths are relative to the working directory.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from shadow.config.base import _Section
from shadow.config.candidate import CandidateSettings as CandidateSettings
from shadow.config.candidate import ScopeSkip as ScopeSkip
from shadow.errors import ConfigError
from shadow.events.settings import KafkaSettings
from shadow.jsonpath import parse_path
from shadow.secrets import scrub_url_credentials


class SourceSettings(_Section):
    """Where mirror events come from."""

    kind: Literal["kafka", "ndjson"] = Field(
        default="kafka", description="kafka (consumer group) or ndjson (file/stdin)"
    )
    path: str | None = Field(default=None, description="NDJSON file for kind=ndjson; '-' reads stdin")
    dead_letter_path: str = Field(
        default=".shadow/dead-letters.ndjson",
        description="NDJSON file that receives bad lines of an NDJSON source",
    )


class ClickHouseSettings(_Section):
    """Where comparison rows go: a ClickHouse server or the embedded chDB engine."""

    dsn: str = Field(
        default="chdb:.shadow/chdb",
        description="http(s)://host:port for a server; chdb:///abs/path or chdb:relative/path for embedded chDB",
    )
    database: str = Field(default="shadow", description="database holding the comparisons and ingest_log tables")
    username: str | None = Field(default=None, description="ClickHouse user (servers only)")
    password: SecretStr | None = Field(
        default=None,
        description="ClickHouse password, from SHADOW_CLICKHOUSE__PASSWORD only (refused in the file)",
    )
    password_file: Path | None = Field(
        default=None,
        description="a file whose first line is the ClickHouse password (a mounted secret); "
        "SHADOW_CLICKHOUSE__PASSWORD wins over it",
    )

    def password_value(self) -> str:
        """The password: the environment's, else the first line of ``password_file``, else empty.

        Raises:
            ConfigError: ``password_file`` cannot be read (the password itself is never shown).
        """
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is None:
            return ""
        try:
            lines = self.password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"clickhouse.password_file {self.password_file}: {exc.strerror or exc}") from None
        return lines[0].strip() if lines else ""

    batch_rows: int = Field(default=1000, gt=0, description="flush when this many rows are buffered")
    flush_interval_s: float = Field(default=1.0, gt=0, description="flush at least this often")
    max_pending_rows: int = Field(
        default=20_000,
        gt=0,
        description="rows handed over by finished events and not stored yet (waiting for a flush or being written); "
        "past this, reading waits (backpressure) — replay slots are not held while rows wait",
    )
    max_pending_bytes: int = Field(
        default=64 * 1024 * 1024,
        gt=0,
        description="like max_pending_rows, in bytes of the rows' texts (an estimate of their size)",
    )
    ttl_days: int = Field(default=180, gt=0, description="rows older than this are dropped by ClickHouse")
    max_text_chars: int = Field(default=8000, gt=0, description="texts stored in rows are cut to this length")
    rollup_refresh_minutes: int = Field(
        default=5, gt=0, description="how often ClickHouse recomputes the hourly rollups (set at migrate time)"
    )
    rollup_lookback_hours: int = Field(
        default=72, gt=0, description="how many recent hours each rollup refresh recomputes (set at migrate time)"
    )
    settings: dict[str, str | int | float] = Field(default_factory=dict, description="ClickHouse session settings")
    cluster: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$",
        description="a cluster of the servers' remote_servers: shadow migrate makes ON CLUSTER DDL, "
        "Replicated*MergeTree <table>_local tables and Distributed <table> tables over them, and inserts wait "
        "until rows are on their shard; null: one server (servers only)",
    )
    replica_path: str = Field(
        default="/clickhouse/tables/{shard}/{database}/{table}",
        pattern=r"^[^'\\]+$",
        description="cluster mode: the Keeper path of each Replicated*MergeTree table; the {shard} and {replica} "
        "macros must be defined on every server ({database} and {table} are filled in by ClickHouse)",
    )
    replica_name: str = Field(
        default="{replica}",
        pattern=r"^[^'\\]+$",
        description="cluster mode: the replica name of each Replicated*MergeTree table (unique within a shard)",
    )

    @field_validator("database")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", value):
            raise ValueError("must be a plain identifier (letters, digits, underscore)")
        return value


class WorkflowSettings(_Section):
    """Per-workflow sampling and the JSON Schema its outputs must follow."""

    sample_rate: float | None = Field(default=None, ge=0, le=1, description="default: sampling.default_rate")
    output_schema: dict[str, Any] | None = Field(default=None, description="JSON Schema of the answer text")
    output_schema_file: str | None = Field(default=None, description="file holding output_schema")

    @model_validator(mode="after")
    def _one_schema(self) -> WorkflowSettings:
        if self.output_schema is not None and self.output_schema_file is not None:
            raise ValueError("set output_schema or output_schema_file, not both")
        return self


class SamplingSettings(_Section):
    """Sticky sampling: one conversation (subject) is in or out as a whole."""

    default_rate: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="share of events replayed when a workflow sets none; set it: left unset it is 1.0 and each "
        "workflow replayed at 100% that way logs a warning",
    )
    salt: str = Field(default="", description="change to draw a different sample at the same rate")


class PriceSettings(_Section):
    """USD per million tokens."""

    input_per_mtok: float = Field(ge=0, description="USD per million input (prompt) tokens")
    output_per_mtok: float = Field(ge=0, description="USD per million output (completion) tokens")


class RedactionRule(_Section):
    """A regular expression whose matches are replaced before texts leave the process (adds to the built-in rules)."""

    name: str = Field(description="label of the rule (its tokens read [NAME:...])")
    pattern: str = Field(description="Python regular expression")
    replacement: str | None = Field(
        default=None,
        description="text put in place of each match (backreferences allowed); default: a stable token "
        "[NAME:letters], equal for equal matches",
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


# The built-in rules (shadow.redaction.rules.BUILTIN_RULES; a test keeps the two lists equal).
BUILTIN_REDACTION_RULES = ("email", "api_key", "iban", "card_number", "phone", "us_ssn")


class RedactionSettings(_Section):
    """Redaction of every text that leaves the process: rows, dead letters, logs, metrics, summary, report."""

    enabled: bool = Field(
        default=True, description="false stores and logs texts unredacted (a warning at start; shown by shadow config)"
    )
    defaults: list[str] = Field(
        default_factory=lambda: list(BUILTIN_REDACTION_RULES),
        description="built-in rules to apply: email, api_key (sk-/pk-/rk-, Bearer, AWS, Google, GitHub, Slack, "
        "JWT, private keys), iban (mod-97 and country format), card_number (Luhn), phone (international and "
        "common national formats), us_ssn",
    )
    rules: list[RedactionRule] = Field(
        default_factory=list, description="your own regular expressions, applied after the built-in rules"
    )
    json_paths: list[str] = Field(
        default_factory=list,
        description="JSON paths whose values are replaced wholesale in JSON answers and tool arguments, e.g. "
        "$..customer_name, $.user.address, $.items[*].owner ($ . .. [*] ['key'] supported)",
    )
    key_file: Path | None = Field(
        default=None,
        description="file holding the key of the stable tokens (SHADOW_REDACTION_KEY wins); without either, "
        "each process draws a random key and tokens are comparable within one worker's run only",
    )
    store_text: bool = Field(
        default=True,
        description="false keeps no text in rows (answers, tool arguments, differing paths, schema errors, "
        "error messages, request context) and no payload in dead letters: metrics only",
    )
    raw_dead_letters: bool = Field(
        default=False,
        description="dead letters keep the event's original bytes; by default their reason is redacted and "
        "their payload is the event's first 64 KiB characters, redacted (bytes that are not UTF-8 escaped)",
    )

    @field_validator("defaults")
    @classmethod
    def _known_defaults(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(BUILTIN_REDACTION_RULES))
        if unknown:
            raise ValueError(f"unknown built-in rule(s) {unknown}; known: {list(BUILTIN_REDACTION_RULES)}")
        return value

    @field_validator("json_paths")
    @classmethod
    def _paths_parse(cls, value: list[str]) -> list[str]:
        for path in value:
            parse_path(path)
        return value


class DiffSettings(_Section):
    """Tuning of the comparator."""

    refusal_patterns: list[str] = Field(
        default_factory=list,
        description="extra regular expressions (case-insensitive) that mark a refusal at the start of an answer",
    )
    default_refusal_patterns: bool = Field(
        default=True, description="also use the built-in English, Chinese and Japanese refusal patterns"
    )
    # Work caps (shadow.diff.limits.DiffLimits): when one applies, the row's caps column names it.
    max_similarity_units: int = Field(
        default=5_000,
        gt=0,
        description="words (Chinese/Japanese: characters) of each answer the similarity scores compare; "
        "their cost grows with the product of the two lengths (cap text_cut); counts cover the whole answer",
    )
    max_tool_calls: int = Field(
        default=32,
        gt=0,
        description="tool calls per side matched, diffed, schema-checked and stored (cap tool_calls); "
        "counts and name agreement cover every call",
    )
    max_json_paths: int = Field(
        default=200, gt=0, description="differing paths kept per JSON diff, answer or tool calls (cap json_paths)"
    )
    max_json_nodes: int = Field(
        default=20_000,
        gt=0,
        description="nodes a JSON diff walks, answer or tool calls; past it the values count as different "
        "(cap json_nodes)",
    )
    max_json_depth: int = Field(
        default=64,
        gt=0,
        le=128,
        description="depth down to which JSON differences are located (a deeper difference is reported at this "
        "depth) and schemas are checked (cap json_depth)",
    )
    max_schema_nodes: int = Field(
        default=5_000,
        gt=0,
        description="nodes of an answer (or of one side's tool arguments together) checked against a JSON Schema; "
        "a larger one is not checked (cap schema_nodes)",
    )

    @field_validator("refusal_patterns")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from exc
        return value


class PipelineSettings(_Section):
    """How much work is in flight and how the worker stops."""

    max_in_flight: int = Field(default=256, gt=0, description="events being replayed at once")
    max_event_bytes: int = Field(default=1_048_576, gt=0, description="larger records go to the dead letters")
    shutdown_grace_s: float = Field(
        default=10.0,
        ge=0,
        description="on SIGTERM, time given to in-flight events before they are abandoned uncommitted",
    )
    stop_after_idle_s: float | None = Field(default=None, gt=0, description="exit after this long without input")
    offload_min_chars: int = Field(
        default=16_384,
        ge=0,
        description="events and answers at least this big are decoded, parsed and compared off the event loop "
        "(answers: texts and tool arguments of all sides, in characters; events: bytes), so the loop keeps "
        "serving Kafka, ClickHouse and the probes meanwhile",
    )
    diff_processes: int = Field(
        default=1,
        ge=0,
        le=64,
        description="processes beside the worker that compare big events (past offload_min_chars), each with its "
        "own GIL; 0 compares them in a thread of the worker's process, which shares the GIL with the event loop",
    )
    health_stall_s: float = Field(
        default=10.0,
        gt=0,
        description="/healthz answers 503 once the event loop has not ticked for this long (a stuck worker)",
    )


_yaml_file: ContextVar[Path | None] = ContextVar("shadow_yaml_file", default=None)


class Settings(BaseSettings):
    """Everything a shadow worker needs; see the README's configuration reference."""

    model_config = SettingsConfigDict(
        env_prefix="SHADOW_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
    )

    config_version: str = Field(default="", description="a label of this configuration, stored in every row")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="log verbosity")
    source: SourceSettings = Field(default_factory=SourceSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    clickhouse: ClickHouseSettings = Field(default_factory=ClickHouseSettings)
    candidates: list[CandidateSettings] = Field(default_factory=list, description="models to replay against")
    workflows: dict[str, WorkflowSettings] = Field(
        default_factory=dict, description="per-workflow sampling and output schema, by workflow name"
    )
    sampling: SamplingSettings = Field(default_factory=SamplingSettings)
    prices: dict[str, PriceSettings] = Field(default_factory=dict, description="per model name")
    redaction: RedactionSettings = Field(default_factory=RedactionSettings)
    diff: DiffSettings = Field(default_factory=DiffSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = _yaml_file.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file, yaml_file_encoding="utf-8"))
        return tuple(sources)

    @model_validator(mode="after")
    def _unique_candidates(self) -> Settings:
        names = [c.name for c in self.candidates]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"candidate names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _budgets_have_prices(self) -> Settings:
        # A budget counts USD from the price table: a model without a price would spend without limit.
        for candidate in self.candidates:
            if candidate.budget_usd_per_hour is None and candidate.budget_usd_per_day is None:
                continue
            unpriced = self.unpriced_models(candidate)
            if unpriced:
                raise ValueError(
                    f"candidate {candidate.name!r} has a budget but no price for {', '.join(unpriced)}: "
                    "add it under prices: (USD per million input and output tokens)"
                )
        return self

    def unpriced_models(self, candidate: CandidateSettings) -> list[str]:
        """The models ``candidate`` calls (its model, or a control lane's ``control_models``) that have no price."""
        models = [candidate.model] if candidate.model else candidate.control_models
        return [m for m in models if not self.price_of(m)]

    def price_of(self, model: str) -> PriceSettings | None:
        """The price of ``model``: its exact name, else the longest configured name it starts with."""
        if model in self.prices:
            return self.prices[model]
        prefixes = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(prefixes, key=len)] if prefixes else None

    def workflow(self, name: str) -> WorkflowSettings:
        """The settings of a workflow (defaults when it is not configured)."""
        return self.workflows.get(name) or WorkflowSettings()

    def sample_rate(self, workflow: str) -> float:
        rate = self.workflow(workflow).sample_rate
        return self.sampling.default_rate if rate is None else rate

    def masked(self) -> dict[str, Any]:
        """The settings as plain data with every secret masked (safe to print or log)."""
        data = self.model_dump(mode="json")
        # A DSN may carry user:password; SecretStr cannot protect a plain string field.
        data["clickhouse"]["dsn"] = scrub_url_credentials(data["clickhouse"]["dsn"])
        return data


def format_config_error(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "(root)"
        lines.append(f"  {loc}: {error['msg']}")
    return "\n".join(lines)


# Secret settings a config file may not hold, and where they come from instead.
_SECRETS_NOT_IN_FILE = (
    ("clickhouse", "password", "SHADOW_CLICKHOUSE__PASSWORD, or clickhouse.password_file to a file holding it"),
    ("kafka", "sasl_password", "SHADOW_KAFKA__SASL_PASSWORD"),
)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``config_file`` (YAML), the environment and ``overrides``.

    Raises:
        ConfigError: naming the file and each field at fault.
    """
    path = Path(config_file) if config_file is not None else None
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping at the top level")
        for section, key, instead in _SECRETS_NOT_IN_FILE:
            values = (loaded or {}).get(section)
            if isinstance(values, dict) and values.get(key) is not None:
                raise ConfigError(
                    f"config file {path}: {section}.{key} is a secret and secrets are never read from the file; "
                    f"set {instead}"
                )
    token = _yaml_file.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        where = f"configuration (file {path} and SHADOW_* environment)" if path else "configuration"
        raise ConfigError(f"{where} is invalid:\n{format_config_error(exc)}") from exc
    finally:
        _yaml_file.reset(token)


def read_secret_file(path: Path, setting: str) -> str:
    """The first line of a secret's file (a mounted secret), stripped.

    Raises:
        ConfigError: the file cannot be read or is empty (its content is never shown).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: {exc.strerror or exc}") from None
    value = lines[0].strip() if lines else ""
    if not value:
        raise ConfigError(f"{setting} {path}: the file is empty")
    return value


def read_api_key(candidate: CandidateSettings) -> SecretStr | None:
    """The candidate's API key: the environment variable it names, else its ``api_key_file``.

    Raises:
        ConfigError: when the variable is named but not set and there is no file, or the file cannot be
        read (the value is never shown).
    """
    if candidate.api_key_env is not None:
        value = os.environ.get(candidate.api_key_env)
        if value:
            return SecretStr(value)
        if candidate.api_key_file is None:
            raise ConfigError(
                f"candidate '{candidate.name}': environment variable {candidate.api_key_env} (api_key_env) is not set"
            )
    if candidate.api_key_file is not None:
        return SecretStr(read_secret_file(candidate.api_key_file, f"candidate '{candidate.name}': api_key_file"))
    return None


def read_secret_headers(candidate: CandidateSettings) -> dict[str, SecretStr]:
    """The candidate's secret header values: ``secret_headers_env``'s variables, then ``secret_headers_file``'s files.

    Raises:
        ConfigError: when a variable is not set or a file cannot be read (the value is never shown).
    """
    values = {}
    for header, path in candidate.secret_headers_file.items():
        if header not in candidate.secret_headers_env:
            setting = f"candidate '{candidate.name}': secret_headers_file.{header}"
            values[header] = SecretStr(read_secret_file(path, setting))
    for header, variable in candidate.secret_headers_env.items():
        value = os.environ.get(variable)
        if not value:
            raise ConfigError(
                f"candidate '{candidate.name}': environment variable {variable} "
                f"(secret_headers_env.{header}) is not set"
            )
        values[header] = SecretStr(value)
    return values


def load_output_schema(settings: Settings, workflow: str) -> dict[str, Any] | None:
    """The configured JSON Schema for a workflow's outputs, reading ``output_schema_file`` if set."""
    config = settings.workflow(workflow)
    if config.output_schema is not None:
        return config.output_schema
    if config.output_schema_file is None:
        return None
    path = Path(config.output_schema_file)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"workflows.{workflow}.output_schema_file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"workflows.{workflow}.output_schema_file {path} must hold a JSON Schema object")
    return data


def config_reference() -> str:
    """Every setting as Markdown tables (the README's configuration reference is generated from this)."""
    from shadow.config.reference import config_reference as build  # noqa: PLC0415 (it imports this module)

    return build()
