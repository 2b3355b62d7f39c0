"""Every worker process a fault scenario starts is gone when the scenario ends, passed or failed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import WorkerProcess


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_scenario() -> Iterator[None]:
    yield
    WorkerProcess.kill_leftovers()
