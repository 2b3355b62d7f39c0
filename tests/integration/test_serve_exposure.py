"""``shadow serve`` facing callers it should not trust (issue 12): a token, bad input, made-up names,
and a database that fails, over real HTTP against ``serve()``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shadow.errors import StoreError
from shadow.report.gate import load_policy
from shadow.report.serve import STORE_FAILED, GateService
from tests.integration.test_serve import WINDOW, running
from tests.seeding import insert_rows, rollout

pytestmark = pytest.mark.clickhouse

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "deploy" / "gate-policy.yaml")


@pytest.mark.timeout(120)
async def test_a_token_guards_every_gate_call_and_leaves_the_probes_open(store) -> None:
    await asyncio.to_thread(insert_rows, store, rollout(seed=3, n=300))
    service = GateService(store, POLICY, cache_s=60, token="s3cret-token")
    async with running(service) as client:
        params = {"candidate": "slow", **WINDOW}
        for call in (
            client.get("/gate", params=params),
            client.post("/gate", json={"name": "a", "namespace": "b", "metadata": {"candidate": "slow"}}),
            client.delete("/gate", params={"rollout": "r", "candidate": "slow"}),
            client.get("/gate", params=params, headers={"Authorization": "Bearer wrong"}),
            client.get("/gate", params=params, headers={"Authorization": "Basic s3cret-token"}),
        ):
            refused = await call
            assert refused.status_code == 401, refused.text
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")
            assert "s3cret-token" not in refused.text
        allowed = await client.get("/gate", params=params, headers={"Authorization": "Bearer s3cret-token"})
        assert allowed.status_code == 200 and allowed.json()["candidate"] == "slow"
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200


@pytest.mark.timeout(120)
async def test_made_up_candidate_names_do_not_grow_the_metrics(store) -> None:
    await asyncio.to_thread(insert_rows, store, rollout(seed=4, n=300))
    service = GateService(store, POLICY, cache_s=60)
    async with running(service) as client:
        assert (await client.get("/gate", params={"candidate": "slow", **WINDOW})).status_code == 200
        before = len((await client.get("/metrics")).text)
        for i in range(150):
            answer = await client.get("/gate", params={"candidate": f"made-up-{i}", **WINDOW})
            assert answer.status_code == 200 and answer.json()["compared"] == 0
        text = (await client.get("/metrics")).text
        assert "made-up" not in text
        assert 'shadow_gate_verdict{candidate="slow"}' in text and 'candidate="other"' in text
        assert len(text) < before + 2_000, (before, len(text))  # a fixed set of series, not one per name


@pytest.mark.timeout(120)
async def test_with_configured_candidates_only_their_names_label_the_metrics(store) -> None:
    await asyncio.to_thread(insert_rows, store, rollout(seed=5, n=300))
    service = GateService(store, POLICY, cache_s=60, candidates=frozenset({"aa"}))
    async with running(service) as client:
        # "slow" has comparisons but is not configured: counted as other; "aa" is configured.
        assert (await client.get("/gate", params={"candidate": "slow", **WINDOW})).status_code == 200
        assert (await client.get("/gate", params={"candidate": "aa", **WINDOW})).status_code == 200
        text = (await client.get("/metrics")).text
        assert 'candidate="slow"' not in text and 'candidate="other"' in text and 'candidate="aa"' in text


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1, 2]", "must be a JSON object"),
        (b'{"metadata": "slow"}', "metadata must be a JSON object"),
        (b'{"metadata": {"candidate": 5}}', "metadata.candidate must be a string"),
        (b'{"metadata": {"candidate": "slow", "since": ["1h"]}}', "metadata.since must be a string"),
        (b'{"name": 3, "metadata": {"candidate": "slow"}}', "name must be a string"),
        (b"not json", "must be a JSON Flagger webhook payload"),
    ],
)
async def test_malformed_webhooks_get_400_with_what_is_wrong(store, body: bytes, message: str) -> None:
    service = GateService(store, POLICY, cache_s=60)
    async with running(service) as client:
        answer = await client.post("/gate", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["error"]


class FailingStore:
    """A store whose every query fails with the kind of text ClickHouse sends back."""

    database = "shadow"

    def __init__(self, store) -> None:
        self.inner = store

    def query_dicts(self, *args, **kwargs):
        raise StoreError("Code: 60. DB::Exception: Table shadow.comparisons does not exist. (UNKNOWN_TABLE) user=admin")

    async def acommand(self, *args, **kwargs):
        raise StoreError("Code: 516. DB::Exception: admin: Authentication failed: password is incorrect")

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@pytest.mark.timeout(120)
async def test_database_errors_answer_503_without_their_text(store) -> None:
    service = GateService(FailingStore(store), POLICY, cache_s=60)  # type: ignore[arg-type]
    async with running(service) as client:
        answer = await client.get("/gate", params={"candidate": "slow", **WINDOW})
        assert answer.status_code == 503 and answer.json() == {"error": STORE_FAILED}
        health = await client.get("/healthz")
        assert health.status_code == 503 and "DB::Exception" not in health.text and "admin" not in health.text


@pytest.mark.timeout(120)
async def test_a_slow_evaluation_does_not_hold_up_other_callers(store, monkeypatch) -> None:
    import shadow.report.serve as served

    await asyncio.to_thread(insert_rows, store, rollout(seed=5, n=300))
    release = asyncio.Event()
    loop = asyncio.get_running_loop()
    real = served.evaluate_gate

    def evaluate(store_, policy, candidate, *args, **kwargs):  # runs in a thread
        if candidate == "stuck":
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=60)
        return real(store_, policy, candidate, *args, **kwargs)

    monkeypatch.setattr(served, "evaluate_gate", evaluate)
    service = GateService(store, POLICY, cache_s=60)
    async with running(service) as client:
        stuck = asyncio.create_task(client.get("/gate", params={"candidate": "stuck", **WINDOW}))
        await asyncio.sleep(0.2)
        # Another candidate, and then the same one again from the cache, answer while "stuck" is still computing.
        for _ in range(2):
            other = await client.get("/gate", params={"candidate": "slow", **WINDOW})
            assert other.status_code == 200 and other.json()["candidate"] == "slow"
        assert not stuck.done()
        release.set()
        assert (await stuck).status_code == 200


@pytest.mark.timeout(120)
async def test_a_tenant_in_clear_finds_the_rows_stored_under_its_token(store) -> None:
    from shadow.config import RedactionSettings
    from shadow.redaction import Redactor

    redactor = Redactor.from_settings(RedactionSettings(), {"SHADOW_REDACTION_KEY": "serve-test-key"})
    rows = rollout(seed=6, n=300)
    for row in rows:
        row["tenant"] = redactor("jane@example.com")  # as the worker stores a tenant that is an address
    await asyncio.to_thread(insert_rows, store, rows)
    service = GateService(store, POLICY, cache_s=60, redactor=redactor)
    async with running(service) as client:
        found = await client.get("/gate", params={"candidate": "aa", "tenant": "jane@example.com", **WINDOW})
        assert found.status_code == 200 and found.json()["compared"] > 0, found.text
        assert "jane@example.com" not in found.text
        polled = await client.get(
            "/gate", params={"candidate": "aa", "tenant": "jane@example.com", "rollout": "r1", **WINDOW}
        )
        assert polled.status_code == 200 and polled.json()["compared"] > 0
        keys = await asyncio.to_thread(store.query_rows, f"SELECT tenant FROM {store.database}.gate_rollouts")
        assert keys and all("jane@example.com" not in str(key) for key in keys)
