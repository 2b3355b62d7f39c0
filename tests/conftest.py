"""Real services for the tests: Kafka, ClickHouse and a local candidate endpoint.

Kafka: ``KAFKA_BOOTSTRAP_SERVERS`` if set, else testcontainers if a Docker engine
answers, else ``scripts/kafka-local.sh`` (a real broker from Maven Central jars).
ClickHouse: ``CLICKHOUSE_URL`` if set, else testcontainers if Docker answers, else
chDB in a temporary directory. Each test gets its own database, topic and group.

A test that needs a service it cannot get skips with a message naming what to
start; with ``SHADOW_REQUIRE_SERVICES=1`` (CI) a skip fails the run instead.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shadow.config import ClickHouseSettings
from shadow.storage.migrate import migrate
from shadow.storage.store import ClickHouseStore
from tests.cluster.probe import probe_docker

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("SHADOW_REQUIRE_SERVICES") == "1"

pytest_plugins = ["tests.factories"]


@functools.cache
def _docker_answers() -> bool:
    """Whether a Docker engine answers ``/_ping`` (a client binary alone is not enough)."""
    return probe_docker().ok


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# --- skips are failures in CI -----------------------------------------------------------------

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_SERVICES and _skipped:
        print(f"\nSHADOW_REQUIRE_SERVICES=1 but {len(_skipped)} test(s) skipped: {_skipped[:5]}")
        session.exitstatus = 1


# --- Kafka ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a real Kafka broker."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    if _docker_answers():
        yield from _kafka_container()
        return
    script = ROOT / "scripts" / "kafka-local.sh"
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.skip("no Kafka: set KAFKA_BOOTSTRAP_SERVERS, start Docker, or install Java 17 + Maven")
    env = {
        **os.environ,
        "SHADOW_KAFKA_HOME": str(tmp_path_factory.mktemp("kafka")),
        "KAFKA_PORT": str(_free_port()),
        "KAFKA_CONTROLLER_PORT": str(_free_port()),
    }
    started = subprocess.run([str(script), "start"], env=env, capture_output=True, text=True, timeout=600)
    if started.returncode != 0:
        pytest.fail(f"scripts/kafka-local.sh start failed:\n{started.stderr[-3000:]}")
    bootstrap = started.stdout.strip().splitlines()[-1].split("=", 1)[1]
    try:
        yield bootstrap
    finally:
        subprocess.run([str(script), "stop"], env=env, capture_output=True, timeout=120)


KAFKA_IMAGE = "apache/kafka:4.1.2"  # the version scripts/kafka/pom.xml and docker-compose.yml pin


def _kafka_container() -> Iterator[str]:
    """apache/kafka in KRaft mode, advertised on a fixed free host port (same image as docker-compose)."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    port = _free_port()
    container = (
        DockerContainer(KAFKA_IMAGE)
        .with_bind_ports(9092, port)
        .with_envs(
            KAFKA_NODE_ID="1",
            KAFKA_PROCESS_ROLES="broker,controller",
            KAFKA_LISTENERS="PLAINTEXT://:9092,CONTROLLER://:9093",
            KAFKA_ADVERTISED_LISTENERS=f"PLAINTEXT://127.0.0.1:{port}",
            KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR="1",
            KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS="0",
            KAFKA_MESSAGE_MAX_BYTES="2097152",
        )
        .waiting_for(LogMessageWaitStrategy("Kafka Server started").with_startup_timeout(120))
    )
    with container:
        yield f"127.0.0.1:{port}"


# --- ClickHouse -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClickHouseTarget:
    """A ClickHouse to test against: a DSN (server URL or chDB directory)."""

    dsn: str
    username: str | None = None
    password: str | None = None

    @property
    def embedded(self) -> bool:
        return self.dsn.startswith("chdb:")

    def settings(self, database: str, **extra: object) -> ClickHouseSettings:
        options: dict[str, object] = {"dsn": self.dsn, "database": database, **extra}
        if self.username:
            options["username"] = self.username
        if self.password:
            options["password"] = self.password
        return ClickHouseSettings.model_validate(options)


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseTarget]:
    url = os.environ.get("CLICKHOUSE_URL")
    if url:
        yield ClickHouseTarget(url, os.environ.get("CLICKHOUSE_USER"), os.environ.get("CLICKHOUSE_PASSWORD"))
        return
    if _docker_answers():
        from testcontainers.community.clickhouse import ClickHouseContainer

        with ClickHouseContainer("clickhouse/clickhouse-server:25.8") as container:
            port = container.get_exposed_port(8123)
            yield ClickHouseTarget(
                f"http://{container.get_container_host_ip()}:{port}", container.username, container.password
            )
        return
    yield ClickHouseTarget(f"chdb:///{tmp_path_factory.mktemp('chdb')}")


@pytest.fixture
def database() -> str:
    return unique("t")


@pytest.fixture
def clickhouse_settings(clickhouse: ClickHouseTarget, database: str) -> ClickHouseSettings:
    return clickhouse.settings(database, flush_interval_s=0.2)


@pytest.fixture
def store(clickhouse_settings: ClickHouseSettings) -> Iterator[ClickHouseStore]:
    """A migrated, empty database of its own; closed after the test (so subprocesses can open chDB)."""
    store = ClickHouseStore(clickhouse_settings)
    migrate(store)
    try:
        yield store
    finally:
        store.close()
