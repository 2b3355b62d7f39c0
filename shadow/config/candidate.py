"""One candidate: where it answers, how it is called, what it may be sent, and which events it replays."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from shadow.config.base import _NAME, _Section
from shadow.config.sticky import CANDIDATE_DOMAIN, sample_point
from shadow.events.models import Api, MirrorEvent


class ScopeSkip(StrEnum):
    """Why a candidate is not sent an event it could have been (stored per candidate in ``ingest_log``)."""

    DISABLED = "disabled"
    """``enabled: false`` in its configuration."""
    OUT_OF_SCOPE = "out_of_scope"
    """Its workflows, apis, tenants, services or environments leave the event out."""
    SAMPLED_OUT = "sampled_out"
    """Outside its sample: the workflow's (``sampling``), or its own ``sample_rate`` / ``tenant_rates``."""


_STATEFUL = ("previous_response_id", "conversation", "prompt")
"""Responses parameters that point at state stored at OpenAI: a replay refuses them (never allowed)."""

# Header names that carry credentials: their values belong in the environment (secret_headers_env).
CREDENTIAL_HEADER = re.compile(r"^(authorization|proxy-authorization|cookie)$|api[-_]?key|token|secret|password",
                               re.IGNORECASE)  # fmt: skip


class CandidateSettings(_Section):
    """A model to replay traffic against."""

    name: str = Field(description="unique label stored in every row")
    provider: Literal["openai", "anthropic"] = Field(description="wire format of the candidate endpoint")
    api: Api | None = Field(
        default=None,
        description="the API the candidate is sent (not the production APIs it replays: see apis): "
        "openai.chat.completions or openai.responses for provider openai, anthropic.messages for anthropic; "
        "null = openai.chat.completions (openai) or anthropic.messages (anthropic). A Responses candidate is "
        "always sent store: false",
    )
    base_url: str = Field(description="e.g. https://api.openai.com/v1 or https://api.anthropic.com")
    model: str | None = Field(default=None, description="model name; null replays production's own model (control)")
    role: Literal["candidate", "control"] = Field(
        default="candidate",
        description="control: the production model replayed, measuring the noise floor",
    )
    api_key_env: str | None = Field(default=None, description="environment variable holding the API key")
    api_key_file: Path | None = Field(
        default=None,
        description="file whose first line is the API key (a mounted secret); the api_key_env variable wins when set",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="extra HTTP headers, not secret (a header named like a credential is refused: use "
        "secret_headers_env)",
    )
    secret_headers_env: dict[str, str] = Field(
        default_factory=dict,
        description="headers whose values are secrets (gateway or Azure keys): header name -> the environment "
        "variable holding its value; masked wherever settings are shown, scrubbed from error texts",
    )
    secret_headers_file: dict[str, Path] = Field(
        default_factory=dict,
        description="headers whose values are secrets, read from files (mounted secrets): header name -> a file "
        "whose first line is the value; secret_headers_env wins for a header named in both",
    )

    @field_validator("headers")
    @classmethod
    def _no_credentials_in_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name in headers:
            if CREDENTIAL_HEADER.search(name):
                raise ValueError(
                    f"header {name!r} looks like a credential, and headers are printed and logged in clear: put its "
                    f"value in an environment variable and name it in secret_headers_env ({{{name!r}: 'MY_VAR'}})"
                )
        return headers

    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="request parameters to set on every replayed request; null removes a parameter",
    )
    timeout_s: float = Field(default=30.0, gt=0, description="total time allowed per attempt")
    stream: bool = Field(
        default=False,
        description="call the candidate streaming (server-sent events) to measure its time to first token and "
        "tokens per second (rows: candidate_ttft_ms); the answer is assembled and compared as a whole, within "
        "the same size limits",
    )
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
    rate_limit_rps: float | None = Field(
        default=None, gt=0, description="requests per second from this worker alone; null = unlimited"
    )
    rate_limit_rpm: float | None = Field(
        default=None,
        gt=0,
        description="requests per minute for the whole consumer group: each live worker takes its share "
        "(rpm / workers of the group seen on the control topic); null = unlimited",
    )
    rate_limit_tpm: int | None = Field(
        default=None,
        gt=0,
        description="tokens per minute (input + output, as the candidate reports them) for the whole consumer "
        "group, shared like rate_limit_rpm; a call that overdraws it delays the next ones; null = unlimited",
    )
    rate_limit_max_wait_s: float = Field(
        default=1.0,
        ge=0,
        description="longest a call waits for its turn under rate_limit_rpm / rate_limit_tpm; a call that would wait "
        "longer is not made (row skipped, error_kind throttled), so a rate-limited candidate never slows the stream",
    )
    budget_usd_per_hour: float | None = Field(
        default=None,
        gt=0,
        description="USD this candidate may cost per clock hour (UTC) across the consumer group, from prices "
        "and reported usage; at the limit it is paused (rows skipped, error_kind budget) until the next hour",
    )
    budget_usd_per_day: float | None = Field(default=None, gt=0, description="like budget_usd_per_hour, per UTC day")
    auto_pause_auth_errors: int = Field(
        default=10,
        ge=0,
        description="pause this candidate on the control topic for every worker after this many answers in a row "
        "that are 401, 403 or 429 once retries ran out (a revoked key, a quota used up); 0 = never",
    )
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
    tenants: list[str] = Field(
        default_factory=list,
        description="tenants whose events it replays (exact names); empty = all; when set, an event without a "
        "tenant is out of scope",
    )
    exclude_tenants: list[str] = Field(
        default_factory=list, description="tenants whose events it never replays (exact names), e.g. premium ones"
    )
    services: list[str] = Field(
        default_factory=list, description="services whose events it replays (exact names); empty = all"
    )
    exclude_services: list[str] = Field(
        default_factory=list, description="services whose events it never replays (exact names)"
    )
    environments: list[str] = Field(
        default_factory=list, description="environments whose events it replays (exact names, e.g. prod); empty = all"
    )
    exclude_environments: list[str] = Field(
        default_factory=list, description="environments whose events it never replays (exact names)"
    )
    sample_rate: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="share of its in-scope events (of those the workflow's sample replays) it is sent, sticky per "
        "subject; nested: the subjects a candidate sees at 10% are among those it (or another) sees at 50%",
    )
    tenant_rates: dict[str, float] = Field(
        default_factory=dict,
        description="sample_rate per tenant (exact names), in place of sample_rate for that tenant's events, e.g. "
        "internal tenants at 1.0 while sample_rate is 0.1",
    )
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
        description="output limit of every replayed request: a larger max_tokens / max_completion_tokens / "
        "max_output_tokens is capped to it, a request without one gets it",
    )
    allow_params: list[str] = Field(
        default_factory=list,
        description="request parameters passed on beyond the built-in allow-list, e.g. service_tier, "
        "reasoning_effort, logprobs, thinking (same-API replays; server_tools keeps Anthropic server tools and "
        "Responses built-in tools, reasoning_items Responses reasoning input items)",
    )
    remote_urls: Literal["keep", "drop", "reject"] = Field(
        default="keep",
        description="content parts that point at a remote URL (image_url, url-sourced images and documents): "
        "keep them (the candidate fetches them), drop them, or reject the request (a translation_error row). "
        "A self-hosted candidate would fetch them from inside your network: drop or reject there",
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
        if value.startswith("worker:"):
            raise ValueError("must not start with 'worker:' (the workers' reports on the control topic use such keys)")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("tenant_rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        wrong = sorted(tenant for tenant, rate in value.items() if not 0 <= rate <= 1)
        if wrong:
            raise ValueError(f"rates must be between 0 and 1 (tenants {', '.join(wrong)})")
        return value

    @model_validator(mode="after")
    def _scope(self) -> CandidateSettings:
        for field in ("tenants", "services", "environments"):
            both = sorted(set(getattr(self, field)) & set(getattr(self, f"exclude_{field}")))
            if both:
                raise ValueError(f"{', '.join(both)} both in {field} and in exclude_{field}")
        # A rate for a tenant the scope leaves out would never apply: a mistake, not a choice.
        excluded = sorted(t for t in self.tenant_rates if t in self.exclude_tenants)
        if excluded:
            raise ValueError(f"tenant_rates names {', '.join(excluded)}, which exclude_tenants leaves out")
        unlisted = sorted(t for t in self.tenant_rates if self.tenants and t not in self.tenants)
        if unlisted:
            raise ValueError(f"tenant_rates names {', '.join(unlisted)}, which tenants does not include")
        return self

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

    @property
    def wire_api(self) -> Api:
        """The API this candidate is sent: ``api``, else its provider's default."""
        if self.api is not None:
            return self.api
        return Api.OPENAI_CHAT if self.provider == "openai" else Api.ANTHROPIC_MESSAGES

    @model_validator(mode="after")
    def _api_of_provider(self) -> CandidateSettings:
        if self.api is not None and (self.api is Api.ANTHROPIC_MESSAGES) != (self.provider == "anthropic"):
            spoken = (
                "anthropic.messages" if self.provider == "anthropic" else "openai.chat.completions or openai.responses"
            )
            raise ValueError(f"api {self.api.value} is not spoken by provider {self.provider} (it speaks {spoken})")
        return self

    @model_validator(mode="after")
    def _request_guards(self) -> CandidateSettings:
        # Only one whole answer is read: more choices, a stream or a background run would be paid for and thrown away.
        harmless: dict[str, Any] = {"n": 1, "stream": False, "stream_options": None, "background": False}
        never = [
            key
            for key, value in harmless.items()
            if key in self.allow_params or self.overrides.get(key) not in (None, value)
        ]
        if never:
            raise ValueError(f"{', '.join(never)} cannot be allowed or overridden: one whole answer is read")
        for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
            value = self.overrides.get(key)
            if isinstance(value, int | float) and value > self.max_output_tokens:
                raise ValueError(f"overrides.{key} ({value}) is above max_output_tokens ({self.max_output_tokens})")
        if self.wire_api is Api.OPENAI_RESPONSES:
            # Replays never leave data at OpenAI, nor lean on state stored there (see shadow.replay.responses).
            stored = [key for key in ("store", *_STATEFUL) if key in self.allow_params]
            stored += [
                f"overrides.{key}"
                for key in ("store", "previous_response_id", "conversation")
                if self.overrides.get(key) not in (None, False)
            ]
            if stored:
                raise ValueError(
                    f"{', '.join(stored)} cannot be allowed or set for an openai.responses candidate: it is always "
                    "sent store: false, and production's stored state is not replayed"
                )
        return self

    def replays(self, workflow: str, api: Api) -> bool:
        """Whether this candidate receives events of this workflow and API (some of them, when its tenants,
        services, environments or sample rates leave others out: :meth:`scope_skip` decides per event)."""
        return (
            self.enabled and (not self.workflows or workflow in self.workflows) and (not self.apis or api in self.apis)
        )

    def scope_skip(self, event: MirrorEvent, salt: str = "") -> ScopeSkip | None:
        """Why this candidate is not sent ``event``, or None when it is.

        Args:
            event: the mirror event, already in the workflow's sample.
            salt: ``sampling.salt``; the candidate's sample is drawn on the event's subject (its
                event_id without one) in the ``CANDIDATE_DOMAIN``, so it is sticky per conversation,
                independent of the workflow's sample and nested across rates and candidates.

        Returns:
            ``disabled`` (``enabled: false``); ``out_of_scope`` when its workflow, API, tenant, service
            or environment is not included or is excluded (an include list that is empty includes all;
            an event without a tenant is outside any ``tenants`` list); ``sampled_out`` when it falls
            outside ``sample_rate`` (or its tenant's ``tenant_rates``); None otherwise.
        """
        if not self.enabled:
            return ScopeSkip.DISABLED
        if not (
            self.replays(event.workflow, event.api)
            and _admits(self.tenants, self.exclude_tenants, event.tenant)
            and _admits(self.services, self.exclude_services, event.service)
            and _admits(self.environments, self.exclude_environments, event.environment)
        ):
            return ScopeSkip.OUT_OF_SCOPE
        rate = self.sample_rate if event.tenant is None else self.tenant_rates.get(event.tenant, self.sample_rate)
        if rate >= 1.0:
            return None
        if rate <= 0.0 or sample_point(salt, CANDIDATE_DOMAIN, event.subject or event.event_id) >= rate:
            return ScopeSkip.SAMPLED_OUT
        return None


def _admits(included: list[str], excluded: list[str], value: str | None) -> bool:
    if included and value not in included:
        return False
    return value is None or value not in excluded
