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
    assert needed == {
        "CLICKHOUSE_PASSWORD",
        "CLICKHOUSE_WRITER_PASSWORD",
        "CLICKHOUSE_GATE_PASSWORD",
        "CLICKHOUSE_READER_PASSWORD",
        "GRAFANA_ADMIN_PASSWORD",
        "SHADOW_SERVE_TOKEN",
        "SHADOW_REDACTION_KEY",
    }
    assert "SHADOW_REDACTION_KEY" in environment(SERVICES["worker"])  # every worker the same token key
    for name in needed:
        assert re.search(rf"^{name}=", example, re.MULTILINE), name
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


# --- ClickHouse users (schemas/access/roles.sql, made by `shadow migrate`) ---------------------------

# service -> (ClickHouse user, the compose variable holding its password); None: no ClickHouse at all.
CLICKHOUSE_USERS = {
    "migrate": ("shadow", "CLICKHOUSE_PASSWORD"),
    "worker": ("shadow_writer", "CLICKHOUSE_WRITER_PASSWORD"),
    "gate": ("shadow_gate", "CLICKHOUSE_GATE_PASSWORD"),
    "shadow-cli": ("shadow_reader", "CLICKHOUSE_READER_PASSWORD"),
    "candidate": None,
    "producer": None,
    # The `cluster` profile (issue 15): the same users, on the two-server cluster.
    "cluster-migrate": ("shadow", "CLICKHOUSE_PASSWORD"),
    "cluster-worker-1": ("shadow_writer", "CLICKHOUSE_WRITER_PASSWORD"),
    "cluster-worker-2": ("shadow_writer", "CLICKHOUSE_WRITER_PASSWORD"),
    "cluster-worker-3": ("shadow_writer", "CLICKHOUSE_WRITER_PASSWORD"),
    "cluster-cli": ("shadow_reader", "CLICKHOUSE_READER_PASSWORD"),
}
MIGRATE_SERVICES = {"migrate", "cluster-migrate"}
CLICKHOUSE_SERVERS = {"clickhouse", "clickhouse-1", "clickhouse-2"}


def _variable(value: str) -> str:
    match = re.fullmatch(r"\$\{([A-Z_]+):\?[^}]+\}", value)
    assert match, value
    return match.group(1)


def test_every_shadow_service_connects_as_its_own_user() -> None:
    shadow_services = {name for name, service in SERVICES.items() if service.get("image") == "shadow:dev"}
    assert shadow_services == set(CLICKHOUSE_USERS)
    for name, expected in CLICKHOUSE_USERS.items():
        env = environment(SERVICES[name])
        if expected is None:
            assert not any(key.startswith("SHADOW_CLICKHOUSE") for key in env), f"{name} needs no ClickHouse"
            continue
        user, variable = expected
        assert env["SHADOW_CLICKHOUSE__USERNAME"] == user, name
        assert _variable(env["SHADOW_CLICKHOUSE__PASSWORD"]) == variable, name


def test_the_administrators_password_reaches_the_migrate_service_and_clickhouse_only() -> None:
    holders = {
        name
        for name, service in SERVICES.items()
        for value in environment(service).values()
        if re.fullmatch(r"\$\{CLICKHOUSE_PASSWORD:\?[^}]+\}", str(value))
    }
    assert holders == MIGRATE_SERVICES | CLICKHOUSE_SERVERS
    for server in CLICKHOUSE_SERVERS:
        assert environment(SERVICES[server])["CLICKHOUSE_USER"] == "shadow"


def test_migrate_gets_the_three_users_passwords_and_nobody_else_gets_anothers() -> None:
    for name in MIGRATE_SERVICES:
        migrate = environment(SERVICES[name])
        made = {
            key: _variable(value)
            for key, value in migrate.items()
            if re.fullmatch(r"SHADOW_CLICKHOUSE_[A-Z]+_PASSWORD", key)
        }
        assert made == {
            "SHADOW_CLICKHOUSE_WRITER_PASSWORD": "CLICKHOUSE_WRITER_PASSWORD",
            "SHADOW_CLICKHOUSE_GATE_PASSWORD": "CLICKHOUSE_GATE_PASSWORD",
            "SHADOW_CLICKHOUSE_READER_PASSWORD": "CLICKHOUSE_READER_PASSWORD",
        }, name
    for name, service in SERVICES.items():
        if name not in MIGRATE_SERVICES:
            assert not any(re.fullmatch(r"SHADOW_CLICKHOUSE_[A-Z]+_PASSWORD", key) for key in environment(service)), (
                name
            )


def test_grafana_reads_as_the_reader() -> None:
    source = yaml.safe_load(
        (ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "clickhouse.yaml").read_text(encoding="utf-8")
    )["datasources"][0]
    assert source["jsonData"]["username"] == "shadow_reader"
    assert source["secureJsonData"]["password"] == "${CLICKHOUSE_READER_PASSWORD}"
    grafana = environment(SERVICES["grafana"])
    assert _variable(grafana["CLICKHOUSE_READER_PASSWORD"]) == "CLICKHOUSE_READER_PASSWORD"
    assert not {"CLICKHOUSE_PASSWORD", "CLICKHOUSE_WRITER_PASSWORD", "CLICKHOUSE_GATE_PASSWORD"} & set(grafana)


def test_the_compose_configuration_names_the_least_privileged_user() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "compose" / "shadow.yaml").read_text(encoding="utf-8"))
    assert config["clickhouse"]["username"] == "shadow_reader"
