"""``python -m tests.cluster`` says why the cluster test cannot run, and runs it only where Docker answers.

The probe is checked against a missing socket, a scheme it does not speak, and two stand-in engines on
local Unix sockets (one answering ``/_ping`` with 200, one with 500), so each branch can fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.cluster.__main__ import EXIT_NO_DOCKER
from tests.cluster.probe import probe_docker

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def fake_engine(directory: Path, status_line: bytes) -> Iterator[str]:
    """A Unix socket answering every request with ``status_line``; yields its DOCKER_HOST."""
    path = directory / "docker.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    requests: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                requests.append(conn.recv(1024))
                conn.sendall(status_line + b"\r\nContent-Length: 2\r\n\r\nOK")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"unix://{path}"
    finally:
        server.close()
        thread.join(timeout=5)
    assert all(r.startswith(b"GET /_ping ") for r in requests)


def run_main(*args: str, docker_host: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": docker_host}
    return subprocess.run(
        [sys.executable, "-m", "tests.cluster", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_a_missing_engine_is_named_with_the_error(tmp_path: Path) -> None:
    status = probe_docker(f"unix://{tmp_path}/absent.sock")
    assert not status.ok
    assert (
        status.reason
        == f"no Docker engine answers at unix://{tmp_path}/absent.sock: [Errno 2] No such file or directory"
    )


def test_an_unknown_scheme_is_not_probed() -> None:
    status = probe_docker("ssh://someone@host")
    assert not status.ok and "only unix:// and tcp://" in status.reason


def test_an_engine_answering_200_is_usable_and_one_answering_500_is_not(tmp_path: Path) -> None:
    with fake_engine(tmp_path, b"HTTP/1.1 200 OK") as host:
        assert probe_docker(host).ok
    (tmp_path / "docker.sock").unlink()
    with fake_engine(tmp_path, b"HTTP/1.1 500 Internal Server Error") as host:
        status = probe_docker(host)
    assert not status.ok
    assert status.reason.endswith("answered /_ping with 'HTTP/1.1 500 Internal Server Error'")


def test_the_runner_exits_with_its_own_code_and_says_why(tmp_path: Path) -> None:
    absent = f"unix://{tmp_path}/absent.sock"
    done = run_main(docker_host=absent)
    assert done.returncode == EXIT_NO_DOCKER == 3
    assert f"cluster test (tests/cluster) cannot run: no Docker engine answers at {absent}" in done.stderr
    report = run_main("--report-only", docker_host=absent)
    assert report.returncode == 0
    assert "cannot run: no Docker engine answers" in report.stderr


def test_report_only_with_an_engine_says_it_could_run_and_runs_nothing(tmp_path: Path) -> None:
    with fake_engine(tmp_path, b"HTTP/1.1 200 OK") as host:
        done = run_main("--report-only", docker_host=host)
    assert done.returncode == 0, done.stderr
    assert "cluster test (tests/cluster) can run here" in done.stdout
    assert "passed" not in done.stdout and "failed" not in done.stdout
