"""``shadow serve``: the gate over real HTTP, called the way Argo Rollouts and Flagger call it."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from shadow.report.gate import PolicySettings, Verdict, load_policy
from shadow.report.rollouts import RolloutKey, RolloutLedger
from shadow.report.serve import GateService, serve
from tests.seeding import T0, comparison_row, insert_rows, rollout

pytestmark = pytest.mark.clickhouse

ROOT = Path(__file__).resolve().parents[2]
WINDOW = {"from": (T0 - timedelta(hours=1)).isoformat(), "to": (T0 + timedelta(hours=12)).isoformat()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def json_path_verdict(body: dict) -> str:
    """What Argo's web provider extracts with jsonPath "{$.verdict}"."""
    return body["verdict"]


@pytest.mark.timeout(120)
async def test_argo_and_flagger_calls(store) -> None:
    await asyncio.to_thread(insert_rows, store, rollout(seed=3))
    service = GateService(store, load_policy(ROOT / "deploy" / "gate-policy.yaml"), cache_s=60)
    port = free_port()
    server = asyncio.create_task(serve(service, "127.0.0.1", port))
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for _ in range(50):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
            health = await client.get("/healthz")
            assert health.json() == {"ok": True}

            # Argo Rollouts: GET, always 200, the verdict at $.verdict.
            promote = await client.get("/gate", params={"candidate": "identical", **WINDOW})
            assert promote.status_code == 200 and json_path_verdict(promote.json()) == "promote"
            rollback = await client.get("/gate", params={"candidate": "slow", **WINDOW})
            assert rollback.status_code == 200 and json_path_verdict(rollback.json()) == "rollback"
            assert any(r["name"] == "p95 latency" and r["outcome"] == "fail" for r in rollback.json()["rules"])
            hold = await client.get("/gate", params={"candidate": "few", **WINDOW})
            assert json_path_verdict(hold.json()) == "hold"

            # A workflow filter reaches the gate (and its own cache entry): no rows on another workflow.
            elsewhere = await client.get("/gate", params={"candidate": "slow", "workflow": "elsewhere", **WINDOW})
            assert json_path_verdict(elsewhere.json()) == "hold"
            assert elsewhere.json()["compared"] == 0 and elsewhere.json()["workflow"] == "elsewhere"
            on_chat = await client.get("/gate", params={"candidate": "slow", "workflow": "support_chat", **WINDOW})
            assert json_path_verdict(on_chat.json()) == "rollback" and on_chat.json()["compared"] == 4000

            # Flagger: POST a webhook payload; non-2xx halts the canary.
            def payload(candidate: str) -> dict:
                return {"name": "support-api", "namespace": "prod", "phase": "Progressing",
                        "metadata": {"candidate": candidate, **WINDOW}}  # fmt: skip

            statuses = {c: (await client.post("/gate", json=payload(c))).status_code
                        for c in ("identical", "renamed", "few")}  # fmt: skip
            assert statuses == {"identical": 200, "renamed": 412, "few": 503}
            elsewhere_post = {
                **payload("renamed"),
                "metadata": {"candidate": "renamed", "workflow": "elsewhere", **WINDOW},
            }
            assert (await client.post("/gate", json=elsewhere_post)).status_code == 503

            missing = await client.get("/gate")
            assert missing.status_code == 400 and "candidate" in missing.json()["error"]
            bad_window = await client.get("/gate", params={"candidate": "x", "since": "yesterday"})
            assert bad_window.status_code == 400 and "duration" in bad_window.json()["error"]
            not_json = await client.post("/gate", content=b"not json", headers={"content-type": "application/json"})
            assert not_json.status_code == 400

            metrics = (await client.get("/metrics")).text
            assert 'shadow_gate_verdict{candidate="slow"} 1.0' in metrics
            assert 'shadow_gate_verdict{candidate="identical"} 0.0' in metrics
            assert 'shadow_gate_evaluations_total{candidate="renamed",verdict="rollback"}' in metrics
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)


# --- rollout keys: pinned starts and latched decisions --------------------------------------------

# One critical rule, decided on a few hundred comparisons: 100 invalid answers roll back, 300 valid
# ones promote, 20 are too few (hold).
LATCH_POLICY = PolicySettings.model_validate(
    {
        "name": "latch-test",
        "min_samples": 50,
        "rules": [{"name": "JSON validity", "metric": "json_valid_rate", "max_regression": 0.05, "critical": True}],
    }
)


def json_rows(prefix: str, start: datetime, n: int, valid: bool, candidate: str = "cand") -> list[dict]:
    """``n`` comparisons one second apart from ``start``: production's JSON valid, the candidate's ``valid``."""
    return [
        comparison_row(f"{prefix}{i:04d}", candidate=candidate, occurred_at=start + timedelta(seconds=i),
                       production_json_valid=True, candidate_json_valid=valid)
        for i in range(n)
    ]  # fmt: skip


def replace_rows(store, rows: list[dict]) -> None:
    """The comparisons are now ``rows`` only (as if every earlier one had been re-scored away)."""
    store.command(f"TRUNCATE TABLE {store.database}.comparisons")
    insert_rows(store, rows)


@asynccontextmanager
async def running(service: GateService) -> AsyncIterator[httpx.AsyncClient]:
    """``serve()`` on a free port, and a client for it."""
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(serve(service, "127.0.0.1", 0, ready=bound.set_result))
    try:
        port = await asyncio.wait_for(bound, 30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)


def sample(metrics: str, name: str) -> float | None:
    """The value of one sample (``name`` with its labels) in a Prometheus exposition."""
    for line in metrics.splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    return None


def stored_states(store) -> list[tuple]:
    return store.query_rows(
        f"SELECT rollout, candidate, phase, verdict FROM {store.database}.gate_rollouts FINAL ORDER BY rollout"
    )


@pytest.mark.timeout(120)
async def test_a_latched_rollback_stays_while_polls_without_a_rollout_follow_the_data(store) -> None:
    now = datetime.now(UTC)
    await asyncio.to_thread(insert_rows, store, json_rows("bad", now - timedelta(hours=3), 100, valid=False))
    first = GateService(store, LATCH_POLICY, cache_s=60)
    second = GateService(store, LATCH_POLICY, cache_s=0)  # a second replica, reading ClickHouse at every poll
    keyed = {"candidate": "cand", "since": "6h", "rollout": "support-assistant-7f9c"}
    async with running(first) as a, running(second) as b:
        # No rollout: a sliding window, evaluated at every poll (no cache on b), never latched (as before).
        plain = (await b.get("/gate", params={"candidate": "cand", "since": "6h"})).json()
        assert plain["verdict"] == "rollback" and "latched" not in plain and "rollout" not in plain

        decided = (await a.get("/gate", params=keyed)).json()
        assert decided["verdict"] == "rollback" and decided["compared"] == 100
        latch = decided["latched"]
        assert latch["verdict"] == "rollback" and latch["window_start"] == decided["window"]["from"]
        assert decided["rollout"] == "support-assistant-7f9c"

        # The comparisons change so that the same window would now promote.
        await asyncio.to_thread(replace_rows, store, json_rows("good", now - timedelta(hours=3), 300, valid=True))
        plain = (await b.get("/gate", params={"candidate": "cand", "since": "6h"})).json()
        assert plain["verdict"] == "promote" and plain["compared"] == 300 and "latched" not in plain

        again = (await a.get("/gate", params=keyed)).json()
        assert again["verdict"] == "rollback" and again["latched"] == latch and again["compared"] == 100
        other = (await b.get("/gate", params=keyed)).json()  # the second replica finds the latch in ClickHouse
        assert other["verdict"] == "rollback" and other["latched"] == latch

        metrics = (await a.get("/metrics")).text
        assert sample(metrics, 'shadow_gate_latched_answers_total{verdict="rollback"}') == 1.0
        assert sample(metrics, 'shadow_gate_evaluations_total{candidate="cand",verdict="rollback"}') == 1.0
        assert "support-assistant-7f9c" not in metrics  # a caller's rollout name is never a label

        # Reset through the first replica: the key starts a new sequence, seen by the second at once.
        cleared = await a.delete("/gate", params={"rollout": "support-assistant-7f9c", "candidate": "cand"})
        assert cleared.status_code == 200
        assert cleared.json()["previous"] == latch and cleared.json()["reset"] is True
        fresh = (await b.get("/gate", params=keyed)).json()
        assert fresh["verdict"] == "promote" and fresh["latched"]["verdict"] == "promote"
        assert fresh["latched"]["at"] > latch["at"]
        # The first replica reads the key again after its own reset and finds the second's decision.
        assert (await a.get("/gate", params=keyed)).json()["latched"] == fresh["latched"]

        assert (await a.delete("/gate", params={"candidate": "cand"})).status_code == 400
        unknown = await a.delete("/gate", params={"rollout": "never-polled", "candidate": "cand"})
        assert unknown.status_code == 200 and unknown.json()["previous"] is None
    assert await asyncio.to_thread(stored_states, store) == [("support-assistant-7f9c", "cand", "latched", "promote")]


@pytest.mark.timeout(120)
async def test_the_pinned_start_holds_and_hold_is_never_latched(store) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    old_bad = json_rows("old", now - timedelta(hours=5), 100, valid=False)
    recent = json_rows("new", now - timedelta(hours=1), 20, valid=True)
    await asyncio.to_thread(insert_rows, store, old_bad + recent)
    service = GateService(store, LATCH_POLICY, cache_s=0)
    pin = now - timedelta(hours=2)
    async with running(service) as client:
        first = (
            await client.get("/gate", params={"candidate": "cand", "rollout": "r", "from": pin.isoformat()})
        ).json()
        assert first["verdict"] == "hold" and first["compared"] == 20 and "latched" not in first
        assert datetime.fromisoformat(first["window"]["from"]) == pin

        more = json_rows("more", now - timedelta(minutes=50), 300, valid=True)
        await asyncio.to_thread(insert_rows, store, more)
        # An explicit `to` still applies: before the new rows, still too few, and hold again.
        until = (now - timedelta(minutes=55)).isoformat()
        held = (await client.get("/gate", params={"candidate": "cand", "rollout": "r", "to": until})).json()
        assert held["verdict"] == "hold" and held["compared"] == 20 and held["window"]["to"] == until

        # A later poll's `from` does not move the pinned start: the old rows are not judged.
        wide = {"candidate": "cand", "from": (now - timedelta(hours=6)).isoformat()}
        decided = (await client.get("/gate", params={**wide, "rollout": "r"})).json()
        assert decided["verdict"] == "promote" and decided["compared"] == 320
        assert datetime.fromisoformat(decided["latched"]["window_start"]) == pin
        # The same `from` without a rollout judges them, and rolls back.
        plain = (await client.get("/gate", params=wide)).json()
        assert plain["verdict"] == "rollback" and plain["compared"] == 420


@pytest.mark.timeout(120)
async def test_flagger_webhooks_latch_per_canary_revision(store) -> None:
    now = datetime.now(UTC)
    await asyncio.to_thread(insert_rows, store, json_rows("bad", now - timedelta(hours=3), 100, valid=False))
    service = GateService(store, LATCH_POLICY, cache_s=60)

    def webhook(checksum: str, **metadata: str) -> dict:
        return {"name": "support-assistant", "namespace": "shop", "phase": "Progressing", "checksum": checksum,
                "metadata": {"candidate": "cand", "since": "6h", **metadata}}  # fmt: skip

    async with running(service) as client:
        rolled_back = await client.post("/gate", json=webhook("85d557f47b"))
        assert rolled_back.status_code == 412 and rolled_back.json()["rollout"] == "shop/support-assistant@85d557f47b"
        await asyncio.to_thread(replace_rows, store, json_rows("good", now - timedelta(hours=3), 300, valid=True))
        again = await client.post("/gate", json=webhook("85d557f47b"))
        assert again.status_code == 412 and again.json()["latched"]["verdict"] == "rollback"
        # The next release of the Canary (a new checksum) and a hook with its own rollout are new sequences.
        assert (await client.post("/gate", json=webhook("c0ffee1234"))).status_code == 200
        during = await client.post("/gate", json=webhook("85d557f47b", rollout="during-traffic"))
        assert (
            during.status_code == 200 and during.json()["rollout"] == "shop/support-assistant@85d557f47b/during-traffic"
        )

        reset = await client.delete(
            "/gate", params={"rollout": "shop/support-assistant@85d557f47b", "candidate": "cand"}
        )
        assert reset.json()["previous"]["verdict"] == "rollback"
        assert (await client.post("/gate", json=webhook("85d557f47b"))).status_code == 200
        assert (await client.post("/gate", json=[1, 2])).status_code == 400
        assert "support-assistant" not in (await client.get("/metrics")).text


@pytest.mark.timeout(120)
async def test_two_replicas_deciding_at_once_both_answer_the_first_decision(store) -> None:
    key = RolloutKey("rollout-race", "cand")
    first, second = RolloutLedger(store), RolloutLedger(store)
    pinned = await first.pin(key, datetime.now(UTC) - timedelta(hours=1))
    assert await second.pin(key, datetime.now(UTC)) == pinned  # the first pin holds
    decided = await first.latch(pinned, "rollback", {"verdict": "rollback"})
    assert decided is not None and decided.verdict == "rollback"
    late = await second.latch(pinned, "promote", {"verdict": "promote"})  # decided on a stale state
    assert late == decided
    assert await first.reset(key) == decided
    # A latch written in the epoch before the reset does not revive it.
    assert await second.latch(pinned, "promote", {"verdict": "promote"}) is None
    assert await first.current(key) is None


@pytest.mark.timeout(120)
async def test_memory_holds_at_most_max_keys_and_an_evicted_latch_is_read_back(store) -> None:
    now = datetime.now(UTC)
    await asyncio.to_thread(insert_rows, store, json_rows("bad", now - timedelta(hours=3), 100, valid=False))
    service = GateService(store, LATCH_POLICY, cache_s=60, max_keys=2)
    for name in ("one", "two", "three"):
        answer = await service.answer("cand", "6h", None, None, None, rollout=name)
        assert answer.verdict is Verdict.ROLLBACK
    assert len(service.ledger) == 2 and len(service._cache) == 2
    await asyncio.to_thread(replace_rows, store, json_rows("good", now - timedelta(hours=3), 300, valid=True))
    evicted = await service.answer("cand", "6h", None, None, None, rollout="one")
    assert evicted.verdict is Verdict.ROLLBACK and "latched" in evicted.body


def test_the_rollouts_table_is_migrated(store) -> None:
    rows = store.query_rows(
        "SELECT engine_full, sorting_key FROM system.tables WHERE database = {db:String} AND name = 'gate_rollouts'",
        {"db": store.database},
    )
    assert len(rows) == 1
    engine, sorting_key = rows[0]
    assert engine.startswith("ReplacingMergeTree(version)") and sorting_key == "rollout, candidate, workflow, tenant"


@pytest.mark.timeout(120)
async def test_the_shipped_manifests_poll_with_rollout_keys(store) -> None:
    """deploy/argo-rollouts and deploy/flagger as written: every step fills the template, every hook has its key."""
    template = yaml.safe_load((ROOT / "deploy" / "argo-rollouts" / "analysis-template.yaml").read_text())
    required = {a["name"] for a in template["spec"]["args"] if "value" not in a and "valueFrom" not in a}
    rollout_manifest = next(yaml.safe_load_all((ROOT / "deploy" / "argo-rollouts" / "rollout.yaml").read_text()))
    steps = [s["analysis"] for s in rollout_manifest["spec"]["strategy"]["canary"]["steps"] if "analysis" in s]
    assert steps and all(required <= {a["name"] for a in step["args"]} for step in steps)
    url = template["spec"]["metrics"][0]["provider"]["web"]["url"]
    args = {"candidate": "cand", "since": "6h", "rollout": "support-assistant", "revision": "6c9f8d7b54"}
    path = "/" + re.sub(r"\{\{args\.([a-z-]+)\}\}", lambda m: args[m.group(1)], url).split("/", 3)[3]

    canary = yaml.safe_load((ROOT / "deploy" / "flagger" / "canary.yaml").read_text())
    hooks = canary["spec"]["analysis"]["webhooks"]
    now = datetime.now(UTC)
    # Within the shortest window of the manifests (30m).
    await asyncio.to_thread(insert_rows, store, json_rows("good", now - timedelta(minutes=20), 300, valid=True))
    async with running(GateService(store, LATCH_POLICY, cache_s=0)) as client:
        argo = (await client.get(path)).json()
        assert argo["verdict"] == "promote" and argo["rollout"] == "support-assistant@6c9f8d7b54"
        keys = []
        for hook in hooks:
            payload = {"name": "support-assistant", "namespace": "shop", "phase": "Progressing",
                       "checksum": "85d557f47b", "metadata": {**hook["metadata"], "candidate": "cand"}}  # fmt: skip
            answer = await client.post("/gate", json=payload)
            assert answer.status_code == 200
            keys.append(answer.json()["rollout"])
    assert keys == ["shop/support-assistant@85d557f47b", "shop/support-assistant@85d557f47b/during-traffic"]
