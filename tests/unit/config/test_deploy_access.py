"""The Kubernetes, Argo Rollouts and Flagger manifests use the ClickHouse users and the gate's token
from Secrets (issue 12): no secret in a manifest, each container its own user, the administrator's
password in the migrate init container only, the gate's token sent by Argo Rollouts from a Secret."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
SECRET = re.compile(r"PASSWORD|TOKEN|SECRET|API_KEY", re.IGNORECASE)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def one(path: Path, kind: str) -> dict[str, Any]:
    (found,) = [d for d in documents(path) if d["kind"] == kind]
    return found


def containers(path: Path) -> dict[str, dict[str, Any]]:
    spec = one(path, "Deployment")["spec"]["template"]["spec"]
    return {c["name"]: c for c in spec.get("initContainers", []) + spec["containers"]}


def env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container.get("env", [])}


def secret(value: Any) -> tuple[str, str]:
    assert isinstance(value, dict) and "secretKeyRef" in value, value
    return value["secretKeyRef"]["name"], value["secretKeyRef"]["key"]


def config_username(path: Path) -> str:
    data = one(path, "ConfigMap")["data"]["shadow.yaml"]
    return str(yaml.safe_load(data)["clickhouse"]["username"])


def test_no_manifest_holds_a_secret_value() -> None:
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for name, container in containers(path).items():
            for key, value in env(container).items():
                if SECRET.search(key):
                    assert isinstance(value, dict) and "secretKeyRef" in value, f"{path.name}: {name}.{key}"


def test_each_container_connects_as_its_own_user() -> None:
    worker, gate = DEPLOY / "kubernetes" / "worker.yaml", DEPLOY / "kubernetes" / "gate.yaml"
    assert config_username(worker) == "shadow_writer"
    assert config_username(gate) == "shadow_gate"
    run = env(containers(worker)["worker"])
    assert "SHADOW_CLICKHOUSE__USERNAME" not in run  # the ConfigMap's writer
    assert secret(run["SHADOW_CLICKHOUSE__PASSWORD"]) == ("shadow-clickhouse", "writer-password")
    serve = env(containers(gate)["gate"])
    assert "SHADOW_CLICKHOUSE__USERNAME" not in serve
    assert secret(serve["SHADOW_CLICKHOUSE__PASSWORD"]) == ("shadow-clickhouse", "gate-password")
    assert secret(serve["SHADOW_SERVE_TOKEN"]) == ("shadow-gate-token", "token")


def test_only_the_migrate_init_container_holds_the_administrator_and_the_users_passwords() -> None:
    migrate = env(containers(DEPLOY / "kubernetes" / "worker.yaml")["migrate"])
    assert secret(migrate["SHADOW_CLICKHOUSE__USERNAME"]) == ("shadow-clickhouse-admin", "username")
    assert secret(migrate["SHADOW_CLICKHOUSE__PASSWORD"]) == ("shadow-clickhouse-admin", "password")
    assert {k: secret(v) for k, v in migrate.items() if re.fullmatch(r"SHADOW_CLICKHOUSE_[A-Z]+_PASSWORD", k)} == {
        "SHADOW_CLICKHOUSE_WRITER_PASSWORD": ("shadow-clickhouse", "writer-password"),
        "SHADOW_CLICKHOUSE_GATE_PASSWORD": ("shadow-clickhouse", "gate-password"),
        "SHADOW_CLICKHOUSE_READER_PASSWORD": ("shadow-clickhouse", "reader-password"),
    }
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for name, container in containers(path).items():
            if name == "migrate":
                continue
            for value in env(container).values():
                if isinstance(value, dict) and "secretKeyRef" in value:
                    assert secret(value)[0] != "shadow-clickhouse-admin", f"{path.name}: {name}"


def test_argo_rollouts_sends_the_gates_token_from_a_secret() -> None:
    template = one(DEPLOY / "argo-rollouts" / "analysis-template.yaml", "AnalysisTemplate")["spec"]
    args = {arg["name"]: arg for arg in template["args"]}
    (metric,) = template["metrics"]
    headers = {h["key"]: h["value"] for h in metric["provider"]["web"]["headers"]}
    match = re.fullmatch(r"Bearer \{\{\s*args\.([\w-]+)\s*\}\}", headers["Authorization"])
    assert match, headers
    token_arg = args[match.group(1)]
    assert "value" not in token_arg
    assert token_arg["valueFrom"]["secretKeyRef"] == {"name": "shadow-gate-token", "key": "token"}
    # The Rollout passes no token: the AnalysisRun resolves the Secret itself.
    rollout = documents(DEPLOY / "argo-rollouts" / "rollout.yaml")
    assert match.group(1) not in str(rollout)


def test_flagger_carries_no_token_and_only_flagger_may_call_its_gate() -> None:
    canary = one(DEPLOY / "flagger" / "canary.yaml", "Canary")
    for hook in canary["spec"]["analysis"]["webhooks"]:
        assert not any(SECRET.search(key) for key in hook.get("metadata", {})), hook
        assert set(hook) <= {"name", "type", "url", "timeout", "metadata", "muteAlert"}
    policy = one(DEPLOY / "flagger" / "gate-networkpolicy.yaml", "NetworkPolicy")
    gate_labels = one(DEPLOY / "kubernetes" / "gate.yaml", "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["metadata"]["namespace"] == "shadow"
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= gate_labels.items()
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    callers = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in rule["from"]}
    assert callers == {"flagger", "prometheus"}
    assert all("namespaceSelector" in peer for peer in rule["from"])  # not every namespace's pods
