"""docker-compose.yml opens nothing it should not (issue 12): no port beyond loopback, no default
password, no anonymous Grafana, a token on the gate. Read from the file, as ``docker compose config``
would (no Docker engine is needed to check it)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
SECRET = re.compile(r"PASSWORD|TOKEN|SECRET", re.IGNORECASE)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    return dict(env) if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


def test_every_published_port_listens_on_loopback_only() -> None:
    published = [(name, port) for name, service in SERVICES.items() for port in service.get("ports", [])]
    assert published, "the stack publishes its ports"
    for name, port in published:
        assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_no_secret_has_a_default_value() -> None:
    for name, service in SERVICES.items():
        for key, value in environment(service).items():
            if SECRET.search(key):
                # ${VAR:?message} fails when unset; ${VAR:-default} or a literal would be a shared default secret.
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), f"{name}.{key} = {value!r}"


def test_grafana_has_no_anonymous_access_and_the_gate_a_token() -> None:
    grafana = environment(SERVICES["grafana"])
    assert grafana.get("GF_AUTH_ANONYMOUS_ENABLED") == "false"
    assert "GF_SECURITY_ADMIN_PASSWORD" in grafana
    assert "SHADOW_SERVE_TOKEN" in environment(SERVICES["gate"])


def test_the_env_example_names_every_secret_the_stack_needs() -> None:
    example = (ROOT / "deploy" / "compose" / "env.example").read_text(encoding="utf-8")
    needed = {
        match
        for service in SERVICES.values()
        for value in environment(service).values()
        for match in re.findall(r"\$\{([A-Z_]+):\?", str(value))
    }
    assert needed == {"CLICKHOUSE_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "SHADOW_SERVE_TOKEN"}
    for name in needed:
        assert re.search(rf"^{name}=", example, re.MULTILINE), name
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
