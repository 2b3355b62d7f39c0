"""``shadow serve``: the gate over real HTTP, called the way Argo Rollouts and Flagger call it."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from shadow.report.gate import load_policy
from shadow.report.serve import GateService, serve
from tests.seeding import T0, insert_rows, rollout

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
            assert json_path_verdict(on_chat.json()) == "rollback" and on_chat.json()["compared"] == 1000

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
