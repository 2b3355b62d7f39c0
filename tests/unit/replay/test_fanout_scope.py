"""The fan-out sends an event only to the candidates whose scope admits it, and says why the others are left out.

Candidates answer through ``httpx.MockTransport`` handlers that record which events reached them.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from shadow.config import ScopeSkip
from shadow.events.models import MirrorEvent
from shadow.replay.client import CandidateClient
from shadow.replay.fanout import Replayer
from tests.factories import candidate, make_event, openai_response

pytestmark = pytest.mark.timeout(20)


class Recorder:
    """A candidate endpoint that answers every call and keeps the event id each request was built from."""

    def __init__(self) -> None:
        self.event_ids: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        text = orjson.loads(request.content)["messages"][-1]["content"]
        self.event_ids.append(text.rsplit(" ", 1)[-1].rstrip("?"))
        return httpx.Response(200, json=openai_response("Fine."))


def event(event_id: str, **fields: Any) -> MirrorEvent:
    return MirrorEvent.model_validate(make_event(event_id=event_id, **fields))


@pytest.fixture
async def lanes() -> Any:
    """Three candidates: everyone's, internal tenants only, and one that never sees staging or premium."""
    recorders = {name: Recorder() for name in ("all", "internal", "not-premium")}
    scopes: dict[str, dict[str, Any]] = {
        "all": {},
        "internal": {"tenants": ["internal"]},
        "not-premium": {"exclude_tenants": ["premium"], "exclude_environments": ["staging"]},
    }
    clients = [
        CandidateClient(candidate(name, "http://candidate.invalid/v1", **scopes[name]),
                        transport=httpx.MockTransport(recorders[name]))
        for name in recorders
    ]  # fmt: skip
    replayer = Replayer(clients)
    yield replayer, recorders
    await replayer.aclose()


async def test_targets_are_the_candidates_whose_scope_admits_the_event(lanes: Any) -> None:
    replayer, _ = lanes

    def names(e: MirrorEvent) -> list[str]:
        return [c.settings.name for c in replayer.targets(e)]

    assert names(event("e1", tenant="internal")) == ["all", "internal", "not-premium"]
    assert names(event("e2", tenant="acme")) == ["all", "not-premium"]
    assert names(event("e3", tenant="premium")) == ["all"]
    assert names(event("e4", tenant="acme", environment="staging")) == ["all"]


async def test_route_says_why_each_other_candidate_is_left_out(lanes: Any) -> None:
    replayer, _ = lanes
    targets, skips = replayer.route(event("e1", tenant="premium"))
    assert [c.settings.name for c in targets] == ["all"]
    assert skips == {"internal": ScopeSkip.OUT_OF_SCOPE, "not-premium": ScopeSkip.OUT_OF_SCOPE}


async def test_a_candidate_never_receives_an_event_out_of_its_scope(lanes: Any) -> None:
    replayer, recorders = lanes
    tenants = {"e_int": "internal", "e_acme": "acme", "e_prem": "premium", "e_none": None}
    for event_id, tenant in tenants.items():
        results = await replayer.replay(event(event_id, tenant=tenant))
        assert all(r.ok for r in results)
    assert sorted(recorders["all"].event_ids) == sorted(tenants)
    assert recorders["internal"].event_ids == ["e_int"]
    assert sorted(recorders["not-premium"].event_ids) == ["e_acme", "e_int", "e_none"]


async def test_the_candidate_sample_uses_the_salt_it_is_given() -> None:
    sampled = candidate("tenth", "http://candidate.invalid/v1", sample_rate=0.1)
    replayer = Replayer([CandidateClient(sampled, transport=httpx.MockTransport(Recorder()))])
    try:
        events = [event(f"e{i}", subject=f"conv_{i}") for i in range(400)]
        plain = {e.event_id for e in events if replayer.targets(e)}
        salted = {e.event_id for e in events if replayer.targets(e, salt="2026-11")}
        assert plain == {e.event_id for e in events if sampled.scope_skip(e) is None}
        assert salted == {e.event_id for e in events if sampled.scope_skip(e, "2026-11") is None}
        assert plain != salted and 20 < len(plain) < 60
    finally:
        await replayer.aclose()
