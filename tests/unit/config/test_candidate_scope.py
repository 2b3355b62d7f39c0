"""A candidate's scope: which events it is sent (workflows, APIs, tenants, services, environments) and its own
sample, sticky per conversation and nested across rates — ``CandidateSettings.scope_skip``."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from shadow.config import CandidateSettings, ScopeSkip, load_settings
from shadow.config.sticky import CANDIDATE_DOMAIN, sample_point
from shadow.errors import ConfigError
from shadow.events.models import MirrorEvent
from tests.factories import make_event

SUBJECTS = 5_000


def scoped(**scope: Any) -> CandidateSettings:
    return CandidateSettings.model_validate(
        {"name": "cand", "provider": "openai", "base_url": "http://x/v1", "model": "m", **scope}
    )


def event(**fields: Any) -> MirrorEvent:
    fields.setdefault("tenant", "acme")
    fields.setdefault("subject", "conv_1")
    return MirrorEvent.model_validate(make_event(**fields))


def conversations(n: int = SUBJECTS, **fields: Any) -> list[MirrorEvent]:
    base = event(**fields)
    return [base.model_copy(update={"subject": f"conv_{i}", "event_id": f"evt_{i}"}) for i in range(n)]


def admitted(candidate: CandidateSettings, events: list[MirrorEvent], salt: str = "") -> set[str]:
    return {e.event_id for e in events if candidate.scope_skip(e, salt) is None}


def test_an_empty_scope_admits_every_event() -> None:
    assert scoped().scope_skip(event()) is None
    assert scoped().scope_skip(event(tenant=None, subject=None)) is None


@pytest.mark.parametrize(
    ("scope", "fields", "expected"),
    [
        ({"workflows": ["support_chat"]}, {"workflow": "support_chat"}, None),
        ({"workflows": ["support_chat"]}, {"workflow": "refund_flow"}, ScopeSkip.OUT_OF_SCOPE),
        ({"apis": ["anthropic.messages"]}, {"api": "openai.chat.completions"}, ScopeSkip.OUT_OF_SCOPE),
        ({"apis": ["anthropic.messages"]}, {"api": "anthropic.messages"}, None),
        ({"tenants": ["internal", "staff"]}, {"tenant": "staff"}, None),
        ({"tenants": ["internal"]}, {"tenant": "acme"}, ScopeSkip.OUT_OF_SCOPE),
        ({"tenants": ["internal"]}, {"tenant": None}, ScopeSkip.OUT_OF_SCOPE),  # no tenant: not in the list
        ({"tenants": ["Internal"]}, {"tenant": "internal"}, ScopeSkip.OUT_OF_SCOPE),  # exact names
        ({"exclude_tenants": ["premium"]}, {"tenant": "premium"}, ScopeSkip.OUT_OF_SCOPE),
        ({"exclude_tenants": ["premium"]}, {"tenant": "acme"}, None),
        ({"exclude_tenants": ["premium"]}, {"tenant": None}, None),
        ({"services": ["support-api"]}, {"service": "support-api"}, None),
        ({"services": ["support-api"]}, {"service": "billing"}, ScopeSkip.OUT_OF_SCOPE),
        ({"exclude_services": ["billing"]}, {"service": "billing"}, ScopeSkip.OUT_OF_SCOPE),
        ({"exclude_services": ["billing"]}, {"service": "support-api"}, None),
        ({"environments": ["prod"]}, {"environment": "prod"}, None),
        ({"environments": ["prod"]}, {"environment": "staging"}, ScopeSkip.OUT_OF_SCOPE),
        ({"exclude_environments": ["staging"]}, {"environment": "staging"}, ScopeSkip.OUT_OF_SCOPE),
        ({"exclude_environments": ["staging"]}, {"environment": "prod"}, None),
        ({"tenants": ["acme"], "exclude_services": ["billing"]}, {"service": "billing"}, ScopeSkip.OUT_OF_SCOPE),
        ({"enabled": False}, {}, ScopeSkip.DISABLED),
        ({"enabled": False, "tenants": ["internal"]}, {}, ScopeSkip.DISABLED),  # disabled says so first
        ({"sample_rate": 0.0}, {}, ScopeSkip.SAMPLED_OUT),
        ({"sample_rate": 0.0, "tenants": ["internal"]}, {}, ScopeSkip.OUT_OF_SCOPE),  # scope before sampling
        ({"sample_rate": 1.0}, {}, None),
        ({"sample_rate": 0.0, "tenant_rates": {"acme": 1.0}}, {"tenant": "acme"}, None),
        ({"sample_rate": 1.0, "tenant_rates": {"acme": 0.0}}, {"tenant": "acme"}, ScopeSkip.SAMPLED_OUT),
        ({"sample_rate": 1.0, "tenant_rates": {"acme": 0.0}}, {"tenant": "globex"}, None),
        ({"sample_rate": 0.0, "tenant_rates": {"acme": 1.0}}, {"tenant": None}, ScopeSkip.SAMPLED_OUT),
    ],
)
def test_each_scope_field(scope: dict[str, Any], fields: dict[str, Any], expected: ScopeSkip | None) -> None:
    assert scoped(**scope).scope_skip(event(**fields)) == expected


def test_the_reasons_are_the_stored_strings() -> None:
    assert [r.value for r in ScopeSkip] == ["disabled", "out_of_scope", "sampled_out"]


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_the_share_is_the_rate(rate: float) -> None:
    share = len(admitted(scoped(sample_rate=rate), conversations())) / SUBJECTS
    assert abs(share - rate) < 0.03, share


def test_exposure_is_nested_across_rates_and_candidates() -> None:
    events = conversations()
    at_10 = admitted(scoped(sample_rate=0.1), events)
    at_50 = admitted(scoped(sample_rate=0.5), events)
    other_at_50 = admitted(scoped(name="another", sample_rate=0.5), events)
    assert at_10 < at_50  # raising a rate only adds conversations
    assert other_at_50 == at_50  # one draw for every candidate: a candidate at 10% sees a subset of one at 50%
    assert admitted(scoped(sample_rate=0.5), events, salt="other") != at_50  # the salt draws another sample


def test_tenant_rates_override_the_sample_rate_per_tenant() -> None:
    rollout = scoped(sample_rate=0.1, tenant_rates={"internal": 1.0, "beta": 0.5})
    assert admitted(rollout, conversations(tenant="internal")) == {f"evt_{i}" for i in range(SUBJECTS)}
    beta = len(admitted(rollout, conversations(tenant="beta"))) / SUBJECTS
    everyone_else = len(admitted(rollout, conversations(tenant="acme"))) / SUBJECTS
    assert abs(beta - 0.5) < 0.03 and abs(everyone_else - 0.1) < 0.03


def test_the_sample_is_sticky_per_conversation_and_keyed_on_the_event_id_without_one() -> None:
    candidate = scoped(sample_rate=0.5)
    for i in range(200):
        decisions = {candidate.scope_skip(event(event_id=f"evt_{i}_{turn}", subject=f"conv_{i}")) for turn in range(5)}
        assert len(decisions) == 1  # every turn of a conversation in or out together
    for i in range(200):
        alone = event(event_id=f"evt_{i}", subject=None)
        expected = sample_point("", CANDIDATE_DOMAIN, alone.event_id) < 0.5
        assert (candidate.scope_skip(alone) is None) is expected


def test_the_candidate_sample_is_drawn_apart_from_the_workflow_sample() -> None:
    events = conversations()
    in_workflow_sample = {e.event_id for e in events if sample_point("", e.workflow, e.subject or "") < 0.5}
    both = in_workflow_sample & admitted(scoped(sample_rate=0.5), events)
    # Independent draws: half of the workflow's sample, not all of it (correlated) nor none (anti-correlated).
    assert abs(len(both) / len(in_workflow_sample) - 0.5) < 0.04


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"tenants": ["a", "b"], "exclude_tenants": ["b"]}, "b both in tenants and in exclude_tenants"),
        ({"services": ["s"], "exclude_services": ["s"]}, "s both in services and in exclude_services"),
        ({"environments": ["prod"], "exclude_environments": ["prod"]}, "prod both in environments"),
        ({"tenant_rates": {"a": 1.5}}, "rates must be between 0 and 1 (tenants a)"),
        ({"tenant_rates": {"a": -0.1}}, "rates must be between 0 and 1"),
        ({"exclude_tenants": ["a"], "tenant_rates": {"a": 1.0}}, "tenant_rates names a, which exclude_tenants"),
        ({"tenants": ["a"], "tenant_rates": {"b": 1.0}}, "tenant_rates names b, which tenants does not include"),
        ({"sample_rate": 1.5}, "less than or equal to 1"),
    ],
)
def test_contradictory_scopes_are_refused_with_the_field(tmp_path, scope: dict[str, Any], message: str) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text(
        yaml.safe_dump({"candidates": [{"name": "c", "provider": "openai", "base_url": "http://x", "model": "m",
                                        **scope}]})
    )  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "candidates.0" in str(caught.value) and message in str(caught.value)
