"""Fixtures of the replay tests: local candidate servers on 127.0.0.1 and clients, stopped and closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from shadow.demo.server import CandidateServer, Responder
from shadow.replay.client import CandidateClient
from tests.factories import candidate

API_KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.fixture
async def server_factory() -> AsyncIterator[Callable[..., Awaitable[tuple[CandidateServer, str]]]]:
    """Starts CandidateServers on 127.0.0.1 (stopped after the test); returns (server, base URL ending in /v1)."""
    servers: list[CandidateServer] = []

    async def start(responder: Responder, **options: Any) -> tuple[CandidateServer, str]:
        server = CandidateServer(responder, **options)
        servers.append(server)
        return server, await server.start()

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def client_factory() -> AsyncIterator[Callable[..., CandidateClient]]:
    """CandidateClients closed after the test."""
    clients: list[CandidateClient] = []

    def make(base_url: str, api_key: str | None = API_KEY, **options: Any) -> CandidateClient:
        settings = candidate(options.pop("name", "cand"), base_url, **options)
        client = CandidateClient(settings, SecretStr(api_key) if api_key is not None else None)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


RawHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def raw_server_factory() -> AsyncIterator[Callable[[RawHandler], Awaitable[str]]]:
    """Starts an aiohttp server on 127.0.0.1 answering both APIs' paths with ``handler`` (a hostile candidate
    shaping its own bytes: compression, size, pace); returns the base URL ending in /v1."""
    runners: list[web.AppRunner] = []

    async def start(handler: RawHandler) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handler)
        app.router.add_post("/v1/messages", handler)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}/v1"

    yield start
    for runner in runners:
        await runner.cleanup()
