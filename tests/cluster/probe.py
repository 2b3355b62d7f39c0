"""Whether a Docker engine answers, and if not, exactly why (the cluster test needs one)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

DEFAULT_HOST = "unix:///var/run/docker.sock"


@dataclass(frozen=True, slots=True)
class DockerStatus:
    """The answer of the Docker engine at ``host`` to ``GET /_ping``: ``ok``, or ``reason`` why not."""

    host: str
    ok: bool
    reason: str


def probe_docker(host: str | None = None, timeout_s: float = 3.0) -> DockerStatus:
    """Ask the engine at ``host`` (default: ``DOCKER_HOST``, else the local socket) for ``/_ping``.

    A docker client binary alone is not enough: the engine itself must answer ``200``.
    """
    host = host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    try:
        if host.startswith("unix://"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address: object = host[len("unix://") :]
        elif host.startswith("tcp://"):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            name, _, port = host[len("tcp://") :].partition(":")
            address = (name, int(port or 2375))
        else:
            return DockerStatus(host, False, f"DOCKER_HOST {host!r}: only unix:// and tcp:// engines are probed")
        with sock:
            sock.settimeout(timeout_s)
            sock.connect(address)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            status = sock.recv(1024).split(b"\r\n", 1)[0].decode("latin-1").strip()
    except (OSError, ValueError) as exc:
        return DockerStatus(host, False, f"no Docker engine answers at {host}: {exc}")
    if status.split(" ")[1:2] == ["200"]:
        return DockerStatus(host, True, f"the Docker engine at {host} answers /_ping")
    return DockerStatus(host, False, f"the Docker engine at {host} answered /_ping with {status or 'nothing'!r}")
