"""Emitters publishing into memory, closed after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shadow.emit import Emitter
from shadow.emit.memory import MemoryProducer
from tests.unit.emit.fakes import FakeProvider, memory_emitter


@pytest.fixture
def emitter_factory() -> Iterator[Callable[..., tuple[Emitter, MemoryProducer]]]:
    made: list[Emitter] = []

    def make(producer: MemoryProducer | None = None, **overrides: Any) -> tuple[Emitter, MemoryProducer]:
        emitter, used = memory_emitter(producer, **overrides)
        made.append(emitter)
        return emitter, used

    yield make
    for emitter in made:
        emitter.close(2)


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()
