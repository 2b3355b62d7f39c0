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
    BaseModel,
    ConfigDict,
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

from shadow.errors import ConfigError
from shadow.events.models import Api
from shadow.events.settings import KafkaSettings
from shadow.secrets import scrub_url_credentials

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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
        default=None, description="ClickHouse password; set it with SHADOW_CLICKHOUSE__PASSWORD, not in the file"
    )
    batch_rows: int = Field(default=1000, gt=0, description="flush when this many rows are buffered")
    flush_interval_s: float = Field(default=1.0, gt=0, description="flush at least this often")
    ttl_days: int = Field(default=180, gt=0, description="rows older than this are dropped by ClickHouse")
    max_text_chars: int = Field(default=8000, gt=0, description="texts stored in rows are cut to this length")
    rollup_refresh_minutes: int = Field(
        default=5, gt=0, description="how often ClickHouse recomputes the hourly rollups (set at migrate time)"
    )
    rollup_lookback_hours: int = Field(
        default=72, gt=0, description="how many recent hours each rollup refresh recomputes (set at migrate time)"
    )
    settings: dict[str, str | int | float] = Field(default_factory=dict, description="ClickHouse session settings")

    @field_validator("database")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", value):
            raise ValueError("must be a plain identifier (letters, digits, underscore)")
        return value


class CandidateSettings(_Section):
    """A model to replay traffic against."""

    name: str = Field(description="unique label stored in every row")
    provider: Literal["openai", "anthropic"] = Field(description="wire format of the candidate endpoint")
    base_url: str = Field(description="e.g. https://api.openai.com/v1 or https://api.anthropic.com")
    model: str | None = Field(default=None, description="model name; null replays production's own model (control)")
    role: Literal["candidate", "control"] = Field(
        default="candidate",
        description="control: the production model replayed, measuring the noise floor",
    )
    api_key_env: str | None = Field(default=None, description="environment variable holding the API key")
    headers: dict[str, str] = Field(default_factory=dict, description="extra HTTP headers (no secrets here)")
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="request parameters to set on every replayed request; null removes a parameter",
    )
    timeout_s: float = Field(default=30.0, gt=0, description="total time allowed per attempt")
    max_concurrency: int = Field(default=16, gt=0, description="requests in flight to this candidate")
    max_retries: int = Field(
        default=2,
        ge=0,
        description="retries on 429, 5xx, connection and transport errors (timeouts only with retry_timeouts)",
    )
    retry_timeouts: bool = Field(
        default=False,
        description="also retry an attempt that timed out (the provider may already bill a call it was answering)",
    )
    retry_backoff_s: float = Field(default=0.5, ge=0, description="first backoff; doubles per retry, with jitter")
    max_backoff_s: float = Field(default=20.0, ge=0, description="cap on backoff and on honoured Retry-After")
    rate_limit_rps: float | None = Field(default=None, gt=0, description="requests per second; null = unlimited")
    breaker_enabled: bool = Field(
        default=True, description="circuit breaker: while open, events skip this candidate instead of waiting for it"
    )
    breaker_failures: int = Field(
        default=10,
        gt=0,
        description="the breaker opens when this many of the last breaker_window calls failed "
        "(timeout, connection or transport error, 5xx, 429 once retries ran out)",
    )
    breaker_window: int = Field(default=20, gt=0, description="how many recent calls the breaker looks at")
    breaker_open_s: float = Field(default=30.0, gt=0, description="how long the breaker stays open before probing")
    breaker_probes: int = Field(
        default=3,
        gt=0,
        description="calls let through when half-open: all succeed, it closes; one fails, it opens again",
    )
    enabled: bool = Field(default=True, description="false stops replaying to this candidate (kill switch)")
    workflows: list[str] = Field(default_factory=list, description="workflows to replay; empty = all")
    apis: list[Api] = Field(default_factory=list, description="production APIs to replay; empty = all")
    anthropic_version: str = Field(default="2023-06-01", description="anthropic-version header")
    default_max_tokens: int = Field(
        default=1024,
        gt=0,
        description="max_tokens for Anthropic requests translated from OpenAI requests that set none "
        "(at most max_output_tokens)",
    )
    max_output_tokens: int = Field(
        default=4096,
        gt=0,
        description="output limit of every replayed request: a larger max_tokens / max_completion_tokens is "
        "capped to it, a request without one gets it",
    )
    allow_params: list[str] = Field(
        default_factory=list,
        description="request parameters passed on beyond the built-in allow-list, e.g. service_tier, "
        "reasoning_effort, logprobs, thinking (same-API replays; server_tools keeps Anthropic server tools)",
    )
    control_models: list[str] = Field(
        default_factory=list,
        description="control lane (model: null) only: the production models it replays, exact names; "
        "another model's events get a skipped row with error_kind model_not_allowed",
    )
    max_response_bytes: int = Field(
        default=4 * 1024 * 1024,
        gt=0,
        description="largest answer body read on the wire (compressed); a larger one is a row with "
        "error_kind response_too_large",
    )
    max_response_decompressed_bytes: int = Field(
        default=8 * 1024 * 1024,
        gt=0,
        description="largest answer body after Content-Encoding (gzip, deflate) is undone; a larger one is a "
        "row with error_kind response_too_large",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("must be 1-64 characters of letters, digits, '.', '_', ':' or '-'")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _breaker(self) -> CandidateSettings:
        if self.breaker_failures > self.breaker_window:
            raise ValueError("breaker_failures cannot exceed breaker_window (the calls it counts them among)")
        return self

    @model_validator(mode="after")
    def _control_model(self) -> CandidateSettings:
        if self.model is None and self.role != "control":
            raise ValueError("model is required unless role is 'control' (which replays production's model)")
        if self.model is None and not self.control_models:
            raise ValueError("a control lane (model: null) needs control_models: the production models it may replay")
        if self.model is not None and self.control_models:
            raise ValueError("control_models is only for a control lane with model: null")
        return self

    @model_validator(mode="after")
    def _request_guards(self) -> CandidateSettings:
        # Only one whole answer is read: more choices or a stream would be paid for and thrown away.
        harmless: dict[str, Any] = {"n": 1, "stream": False, "stream_options": None}
        never = [
            key
            for key, value in harmless.items()
            if key in self.allow_params or self.overrides.get(key) not in (None, value)
        ]
        if never:
            raise ValueError(f"{', '.join(never)} cannot be allowed or overridden: one whole answer is read")
        for key in ("max_tokens", "max_completion_tokens"):
            value = self.overrides.get(key)
            if isinstance(value, int | float) and value > self.max_output_tokens:
                raise ValueError(f"overrides.{key} ({value}) is above max_output_tokens ({self.max_output_tokens})")
        return self

    def replays(self, workflow: str, api: Api) -> bool:
        """Whether this candidate receives an event of this workflow and API."""
        return (
            self.enabled and (not self.workflows or workflow in self.workflows) and (not self.apis or api in self.apis)
        )


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
        default=1.0, ge=0, le=1, description="share of events replayed when a workflow sets none"
    )
    salt: str = Field(default="", description="change to draw a different sample at the same rate")


class PriceSettings(_Section):
    """USD per million tokens."""

    input_per_mtok: float = Field(ge=0, description="USD per million input (prompt) tokens")
    output_per_mtok: float = Field(ge=0, description="USD per million output (completion) tokens")


class RedactionRule(_Section):
    """A regular expression whose matches are replaced before texts are stored."""

    name: str = Field(description="label of the rule")
    pattern: str = Field(description="Python regular expression")
    replacement: str = Field(default="[REDACTED]", description="text put in place of each match")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


DEFAULT_REDACTION_RULES = (
    RedactionRule(
        name="email",
        # The look-behind starts a match only where a run of address characters starts: without it,
        # a long run without "@" is rescanned from each of its characters (quadratic).
        pattern=r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        replacement="[EMAIL]",
    ),
    RedactionRule(
        name="api_key",
        # Lookarounds instead of \b: a key written against Chinese text has no word boundary.
        pattern=r"(?<![A-Za-z0-9_-])(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}|\bBearer\s+[A-Za-z0-9._~+/=-]{16,}",
        replacement="[SECRET]",
    ),
    RedactionRule(name="card_number", pattern=r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)", replacement="[CARD]"),
)


class RedactionSettings(_Section):
    """Rules applied to texts before they are stored in rows."""

    enabled: bool = Field(default=True, description="false stores texts unredacted")
    rules: list[RedactionRule] = Field(
        default_factory=lambda: list(DEFAULT_REDACTION_RULES),
        description="applied in order; default: e-mail addresses, API keys and bearer tokens, card numbers",
    )


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
    token = _yaml_file.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        where = f"configuration (file {path} and SHADOW_* environment)" if path else "configuration"
        raise ConfigError(f"{where} is invalid:\n{format_config_error(exc)}") from exc
    finally:
        _yaml_file.reset(token)


def read_api_key(candidate: CandidateSettings) -> SecretStr | None:
    """The candidate's API key from the environment variable it names.

    Raises:
        ConfigError: when the variable is named but not set (the value is never shown).
    """
    if candidate.api_key_env is None:
        return None
    value = os.environ.get(candidate.api_key_env)
    if not value:
        raise ConfigError(
            f"candidate '{candidate.name}': environment variable {candidate.api_key_env} (api_key_env) is not set"
        )
    return SecretStr(value)


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


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation)
    text = re.sub(r"typing\.|shadow\.\w+\.\w+\.|pydantic\.types\.|<class '([^']+)'>", r"\1", text)
    text = re.sub(r"^Optional\[(.*)\]$", r"\1 | None", text)
    text = re.sub(r"\bNone(Type)?\b", "null", text).replace("Literal", "one of ")
    return text.replace("|", "\\|")


def _default_text(field: Any) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return ""
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            return "see description"
        return f"`{value!r}`" if value else "empty"
    return "`null`" if field.default is None else f"`{field.default!r}`"


def config_reference() -> str:
    """Every setting as Markdown tables (the README's configuration reference is generated from this)."""
    sections: list[tuple[str, type[BaseModel], str]] = [("", Settings, "SHADOW_")]
    lines: list[str] = []
    containers: dict[str, tuple[str, type[BaseModel]]] = {
        "candidates": ("candidates[]", CandidateSettings),
        "workflows": ("workflows.<name>", WorkflowSettings),
        "prices": ("prices.<model>", PriceSettings),
    }
    while sections:
        prefix, model, env = sections.pop(0)
        rows = []
        for name, field in model.model_fields.items():
            key = f"{prefix}{name}"
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                sections.append((f"{key}.", annotation, f"{env}{name.upper()}__"))
                continue
            if model is Settings and name in containers:
                label, sub = containers[name]
                sections.append((f"{label}.", sub, ""))
                rows.append((key, "list" if name == "candidates" else "map", "empty", field.description or "", ""))
                continue
            if model is RedactionSettings and name == "rules":
                sections.append(("redaction.rules[].", RedactionRule, ""))
            env_name = f"{env}{name.upper()}" if env else ""
            rows.append((key, _type_name(annotation), _default_text(field), field.description or "", env_name))
        title = prefix.rstrip(".") or "top level"
        lines += [
            f"#### `{title}`",
            "",
            "| setting | type | default | environment | description |",
            "|---|---|---|---|---|",
        ]
        for key, kind, default, description, env_name in rows:
            env_cell = f"`{env_name}`" if env_name else ""
            lines.append(f"| `{key}` | {kind} | {default} | {env_cell} | {description} |")
        lines.append("")
    return "\n".join(lines)
