"""The worker's HTTP face: ``/metrics``, ``/healthz`` and ``/readyz`` from one server in a thread.

The server never runs on the event loop, so it can say the loop is stuck: ``/healthz`` and
``/readyz`` call probes the worker attaches once its pipeline exists (``Pipeline.live`` reads the
loop watch, ``Pipeline.ready`` the partitions and the store) and answer 200 or 503 with a JSON
``{"status", "reason"}``. Before the worker attaches them (migrations, start-up) the process is
live and not ready.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from shadow.errors import ConfigError
from shadow.metrics import REGISTRY

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment


Probe = Callable[[], tuple[bool, str]]


def _starting_live() -> tuple[bool, str]:
    return True, "starting"


def _starting_ready() -> tuple[bool, str]:
    return False, "starting"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a hung client never keeps the process alive


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: probes and scrapes come every few seconds."""


class HealthServer:
    """Serves the registry's metrics and the two probes on ``host:port`` (port 0: any free port).

    Paths: ``/metrics`` (and ``/``) the Prometheus text; ``/healthz`` 200 while the live probe
    holds; ``/readyz`` 200 while the ready probe holds; 503 when a probe fails; 404 otherwise.
    """

    def __init__(self, host: str, port: int, *, registry: CollectorRegistry = REGISTRY) -> None:
        self._live: Probe = _starting_live
        self._ready: Probe = _starting_ready
        self._metrics = make_wsgi_app(registry)
        try:
            family, address = self._family(host, port)

            class _Server(_ThreadingServer):
                address_family = family

            self._server: WSGIServer = make_server(address, port, self._app, _Server, handler_class=_QuietHandler)
        except OSError as exc:
            raise ConfigError(f"cannot serve metrics and probes on {host}:{port}: {exc.strerror or exc}") from exc
        self.host = host
        self.port: int = self._server.server_port
        self._thread = threading.Thread(target=self._serve, name="shadow-health", daemon=True)

    @staticmethod
    def _family(host: str, port: int) -> tuple[socket.AddressFamily, str]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, sockaddr = infos[0]
        return family, str(sockaddr[0])

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.1)  # how soon close() returns

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HealthServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def attach(self, live: Probe, ready: Probe) -> None:
        """Answer the probes from now on with these functions (called from the server's threads)."""
        self._live, self._ready = live, ready

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return self._answer(start_response, self._live, ("ok", "stuck"))
        if path == "/readyz":
            return self._answer(start_response, self._ready, ("ready", "not_ready"))
        if path in ("/metrics", "/"):
            return self._metrics(environ, start_response)  # type: ignore[no-any-return]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found: try /metrics, /healthz or /readyz\n"]

    @staticmethod
    def _answer(start_response: StartResponse, probe: Probe, words: tuple[str, str]) -> Iterable[bytes]:
        try:
            ok, reason = probe()
        except Exception as exc:  # noqa: BLE001 - a probe that raises is a failing probe, never a dead server thread
            ok, reason = False, f"probe failed: {type(exc).__name__}"
        body = json.dumps({"status": words[0] if ok else words[1], "reason": reason}).encode() + b"\n"
        status = "200 OK" if ok else "503 Service Unavailable"
        start_response(
            status,
            [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("Content-Length", str(len(body)))],
        )
        return [body]
