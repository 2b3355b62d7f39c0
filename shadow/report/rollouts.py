"""Pinned starts and latched decisions per rollout, for ``shadow serve``: the ``gate_rollouts`` table.

The gate's bounds hold however often it is polled only if each rollout's polls judge one sequence
from a fixed start, and a release pipeline needs a decision that stays made. A *rollout key*
(rollout, candidate, workflow, tenant) gets its window's start pinned at its first poll, and the
first promote or rollback it reaches latched; hold is never latched. Both live in ClickHouse
(``schemas/clickhouse/0008_gate_rollouts.sql``), so a restarted gate or a second replica keeps them,
with a bounded in-memory copy in front that is read again after ``refresh_s``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from shadow.errors import StoreError
from shadow.storage.store import ClickHouseStore

log = logging.getLogger(__name__)

TABLE = "gate_rollouts"
COLUMNS = (
    "rollout", "candidate", "workflow", "tenant", "phase", "epoch", "window_start", "verdict", "result",
    "written_at", "version",
)  # fmt: skip

_VERSION_ORIGIN = datetime(2020, 1, 1, tzinfo=UTC)
_MS_BITS = 41  # milliseconds since 2020: enough until 2089
_PHASE_BITS = 2


class Phase(StrEnum):
    RESET = "reset"
    PINNED = "pinned"
    LATCHED = "latched"


_PHASE_RANK = {Phase.RESET: 0, Phase.PINNED: 1, Phase.LATCHED: 2}


def row_version(epoch: int, phase: Phase, written_at: datetime) -> int:
    """The row's ``version``: a later epoch outranks an earlier one, a latch its pin, an earlier row a later one.

    See the migration's comment: with it, the state read with FINAL is the first decision of the key's
    current epoch, whichever replica wrote it.
    """
    ms = int((written_at - _VERSION_ORIGIN).total_seconds() * 1000)
    countdown = (1 << _MS_BITS) - 1 - min(max(ms, 0), (1 << _MS_BITS) - 1)
    return (epoch << (_MS_BITS + _PHASE_BITS)) | (_PHASE_RANK[phase] << _MS_BITS) | countdown


@dataclass(frozen=True, slots=True)
class RolloutKey:
    """One rollout's polls of one candidate: they judge one sequence and share one decision."""

    rollout: str
    candidate: str
    workflow: str = ""
    tenant: str = ""

    def params(self) -> dict[str, str]:
        return {"rollout": self.rollout, "candidate": self.candidate, "workflow": self.workflow, "tenant": self.tenant}


@dataclass(frozen=True, slots=True)
class RolloutState:
    """The newest row of a key."""

    key: RolloutKey
    phase: Phase
    epoch: int
    window_start: datetime
    written_at: datetime
    verdict: str = ""  # promote | rollback when latched
    result: dict[str, Any] | None = None  # the latched gate result, as JSON

    @property
    def latched(self) -> bool:
        return self.phase is Phase.LATCHED

    def describe(self) -> dict[str, Any]:
        """The ``latched`` block of an answer (or what a reset cleared)."""
        described: dict[str, Any] = {"window_start": self.window_start.isoformat()}
        if self.latched:
            described = {"verdict": self.verdict, "at": self.written_at.isoformat(), **described}
        else:
            described = {"phase": self.phase.value, "since": self.written_at.isoformat(), **described}
        return described


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class RolloutLedger:
    """The states of rollout keys: ClickHouse's ``gate_rollouts``, with a bounded copy in memory.

    A key's state is read from ClickHouse at most every ``refresh_s`` seconds: so a reset made through
    another replica reaches this one within ``refresh_s``. At most ``max_keys`` keys are held in memory
    (least recently used out first); a key evicted is read from ClickHouse again at its next poll.
    Calls are made one at a time (``shadow serve`` holds its lock around them).
    """

    def __init__(self, store: ClickHouseStore, refresh_s: float = 15.0, max_keys: int = 10_000) -> None:
        self.store = store
        self.refresh_s = refresh_s
        self.max_keys = max_keys
        self._memory: OrderedDict[RolloutKey, tuple[float, RolloutState | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._memory)

    async def current(self, key: RolloutKey) -> RolloutState | None:
        """The key's pin or latch; None when it has none (never polled, or reset since)."""
        state = await self._state(key)
        return None if state is None or state.phase is Phase.RESET else state

    async def pin(self, key: RolloutKey, window_start: datetime) -> RolloutState:
        """Fix the key's window start, unless another replica got there first: returns the state that holds.

        Steps:
            1. Read the key's state from ClickHouse; a pin or latch already there is the answer.
            2. Write the pin in the key's current epoch (the reset's, after a reset).
            3. Read it back: of two replicas pinning at once, the first pin holds on both.
        """
        # Step 1.
        state = await self._read(key)
        if state is not None and state.phase is not Phase.RESET:
            return state
        epoch = state.epoch if state is not None else 0
        # Step 2.
        await self._write(key, Phase.PINNED, epoch, _utc(window_start))
        # Step 3.
        stored = await self._read(key)
        if stored is None or stored.phase is Phase.RESET:
            # Reset by another replica between the write and the read: the caller's next poll pins again.
            raise StoreError(f"rollout {key.rollout!r} was reset while its start was being pinned; poll again")
        log.info("rollout %s, candidate %s: window pinned at %s", key.rollout, key.candidate, stored.window_start)
        return stored

    async def latch(self, state: RolloutState, verdict: str, result: dict[str, Any]) -> RolloutState | None:
        """Latch ``verdict`` on the key of ``state``: returns the decision that holds, None if the key was reset.

        Steps:
            1. Write the latch in the epoch ``state`` was pinned in.
            2. Read the key back: the first decision of that epoch holds (another replica's, when it
               decided first). When the key was reset meanwhile, nothing is latched: None.
        """
        # Step 1.
        await self._write(state.key, Phase.LATCHED, state.epoch, state.window_start, verdict, result)
        # Step 2.
        stored = await self._read(state.key)
        if stored is None or not stored.latched or stored.epoch != state.epoch:
            return None
        log.info("rollout %s, candidate %s: %s latched", state.key.rollout, state.key.candidate, stored.verdict)
        return stored

    async def reset(self, key: RolloutKey) -> RolloutState | None:
        """Clear the key's pin and latch (in ClickHouse, so for every replica): returns what was cleared."""
        state = await self._read(key)
        if state is None or state.phase is Phase.RESET:
            return None
        await self._write(key, Phase.RESET, state.epoch + 1, state.window_start)
        await self._read(key)
        log.info("rollout %s, candidate %s: reset (was %s)", key.rollout, key.candidate, state.phase.value)
        return state

    async def _state(self, key: RolloutKey) -> RolloutState | None:
        held = self._memory.get(key)
        if held is not None and time.monotonic() - held[0] < self.refresh_s:
            self._memory.move_to_end(key)
            return held[1]
        return await self._read(key)

    async def _read(self, key: RolloutKey) -> RolloutState | None:
        sql = (
            f"SELECT {', '.join(COLUMNS)} FROM {self.store.database}.{TABLE} FINAL "
            "WHERE rollout = {rollout:String} AND candidate = {candidate:String} "
            "AND workflow = {workflow:String} AND tenant = {tenant:String}"
        )
        try:
            rows = await self.store.aquery_dicts(sql, key.params())
        except StoreError as exc:
            if TABLE in str(exc) and ("UNKNOWN_TABLE" in str(exc) or "does not exist" in str(exc)):
                raise StoreError(f"{self.store.database}.{TABLE} does not exist: run `shadow migrate`") from exc
            raise
        state = _state_of(key, rows[0]) if rows else None
        self._remember(key, state)
        return state

    async def _write(
        self,
        key: RolloutKey,
        phase: Phase,
        epoch: int,
        window_start: datetime,
        verdict: str = "",
        result: dict[str, Any] | None = None,
    ) -> None:
        now = datetime.now(UTC)
        body = orjson.dumps(result).decode() if result is not None else ""
        row = [key.rollout, key.candidate, key.workflow, key.tenant, phase.value, epoch, window_start, verdict, body,
               now, row_version(epoch, phase, now)]  # fmt: skip
        await self.store.ainsert(TABLE, [row], COLUMNS)

    def _remember(self, key: RolloutKey, state: RolloutState | None) -> None:
        self._memory[key] = (time.monotonic(), state)
        self._memory.move_to_end(key)
        while len(self._memory) > self.max_keys:
            self._memory.popitem(last=False)


def _state_of(key: RolloutKey, row: dict[str, Any]) -> RolloutState:
    return RolloutState(
        key=key,
        phase=Phase(row["phase"]),
        epoch=int(row["epoch"]),
        window_start=_utc(row["window_start"]),
        written_at=_utc(row["written_at"]),
        verdict=str(row["verdict"]),
        result=orjson.loads(row["result"]) if row["result"] else None,
    )
