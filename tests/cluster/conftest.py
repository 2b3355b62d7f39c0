"""A two-shard ClickHouse cluster in Docker: ClickHouse Keeper and two ClickHouse 25.8 servers.

The servers' configuration is deploy/compose/cluster/ (the compose ``cluster`` profile's), so the test
checks what users start. Only ``python -m tests.cluster`` (or ``pytest -m docker``) runs it; without a
Docker engine the fixture fails with the engine's answer rather than skipping, since asking for this
test and getting nothing would be a silent pass.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import clickhouse_connect
import pytest

from shadow.config import ClickHouseSettings
from tests.cluster.probe import probe_docker

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "compose" / "cluster"
SERVER_IMAGE = "clickhouse/clickhouse-server:25.8"
KEEPER_IMAGE = "clickhouse/clickhouse-keeper:25.8"
CLUSTER = "shadow_cluster"  # deploy/compose/cluster/cluster.xml
READY_S = 180.0


@dataclass(frozen=True)
class ClusterNodes:
    """The two servers' HTTP URLs (node 0 is shard 01, node 1 shard 02) and their administrator."""

    urls: tuple[str, str]
    username: str
    password: str

    def settings(self, node: int, database: str, **extra: object) -> ClickHouseSettings:
        """Cluster-mode settings for ``database`` on ``node``, as the administrator unless ``extra`` says otherwise."""
        options: dict[str, object] = {
            "dsn": self.urls[node],
            "database": database,
            "cluster": CLUSTER,
            "username": self.username,
            "password": self.password,
            **extra,
        }
        return ClickHouseSettings.model_validate(options)


def _ready(nodes: ClusterNodes) -> str | None:
    """None when both servers answer, see Keeper and know the cluster's two shards; else what is missing."""
    for url in nodes.urls:
        try:
            client = clickhouse_connect.get_client(dsn=url, username=nodes.username, password=nodes.password)
            try:
                shards = client.command(f"SELECT count() FROM system.clusters WHERE cluster = '{CLUSTER}'")
                keeper = client.command("SELECT count() FROM system.zookeeper WHERE path = '/'")
            finally:
                client.close()
        except Exception as exc:  # any failure means not ready yet; the last one is reported
            return f"{url}: {type(exc).__name__}: {str(exc)[:300]}"
        if int(shards) != 2 or int(keeper) < 1:
            return f"{url}: {shards} shards of {CLUSTER}, {keeper} Keeper nodes at /"
    return None


@pytest.fixture(scope="session")
def cluster_nodes() -> Iterator[ClusterNodes]:
    status = probe_docker()
    if not status.ok:
        pytest.fail(f"the cluster test needs a Docker engine: {status.reason}")
    from testcontainers.core.container import DockerContainer  # only with Docker
    from testcontainers.core.network import Network

    password = secrets.token_urlsafe(24)
    with Network() as network:
        keeper = (
            DockerContainer(KEEPER_IMAGE)
            .with_network(network)
            .with_network_aliases("keeper")
            .with_volume_mapping(str(CONFIG / "keeper.xml"), "/etc/clickhouse-keeper/keeper_config.xml", "ro")
        )
        servers = [
            DockerContainer(SERVER_IMAGE)
            .with_network(network)
            .with_network_aliases(f"clickhouse-{i}")
            .with_kwargs(hostname=f"clickhouse-{i}")
            .with_envs(
                CLICKHOUSE_USER="shadow",
                CLICKHOUSE_PASSWORD=password,
                CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT="1",
                CLICKHOUSE_CLUSTER_SECRET=password,
                CLICKHOUSE_SHARD=f"0{i}",
                CLICKHOUSE_REPLICA=f"clickhouse-{i}",
            )
            .with_volume_mapping(str(CONFIG / "cluster.xml"), "/etc/clickhouse-server/config.d/cluster.xml", "ro")
            .with_exposed_ports(8123)
            for i in (1, 2)
        ]
        with keeper, servers[0], servers[1]:
            urls = tuple(f"http://{s.get_container_host_ip()}:{s.get_exposed_port(8123)}" for s in servers)
            nodes = ClusterNodes((urls[0], urls[1]), "shadow", password)
            deadline = time.monotonic() + READY_S
            while (missing := _ready(nodes)) is not None:
                if time.monotonic() > deadline:
                    pytest.fail(f"the cluster was not ready after {READY_S:.0f} s: {missing}")
                time.sleep(1)
            yield nodes
