"""One replayed event → its comparison rows, on the loop for small events and in a process beside it for big ones.

Comparing big answers takes tens of milliseconds even within the diff caps. In a thread of the
worker's own process that work shares the GIL with the event loop: each time the loop releases the
GIL for a socket call it waits to win it back, and when the OS deschedules the thread holding it,
the loop waits for the OS. The diff process has a GIL of its own, so the loop's turns stay short
whatever it compares (measured in ``benchmarks/hostile_inputs.py`` and the adversarial e2e test).

What crosses to the process is what the comparison reads (the decoded event, the replay results,
the candidates' settings) and what comes back is the rows: plain dicts with capped texts. A diff
process that dies is replaced; the event in hand is compared in the CPU thread instead, so no event
is lost to a crash of its comparison.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
import signal
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from shadow.config import CandidateSettings, Settings, load_output_schema
from shadow.diff.behaviour import RefusalDetector
from shadow.diff.compare import DiffContext, compare, measure_side
from shadow.diff.cost import Price
from shadow.diff.limits import DiffLimits
from shadow.events.decode import DecodedEvent
from shadow.events.records import Position
from shadow.loopwatch import off_loop
from shadow.redaction import Redactor
from shadow.replay.result import ReplayResult
from shadow.sink.rows import EventColumns, RowContext, build_comparison_row

log = logging.getLogger(__name__)

Row = dict[str, Any]


def comparator_options(settings: Settings) -> tuple[RefusalDetector, Mapping[str, Price], DiffLimits]:
    """The refusal detector, price table and comparison caps ``settings`` configure.

    The worker, ``shadow diff --config`` and ``shadow rescore`` all compare with these.
    """
    refusal = RefusalDetector.build(settings.diff.refusal_patterns, use_defaults=settings.diff.default_refusal_patterns)
    prices = {name: Price(p.input_per_mtok, p.output_per_mtok) for name, p in settings.prices.items()}
    return refusal, prices, DiffLimits.of(settings.diff)


def diff_context_factory(settings: Settings) -> Any:
    """A function event → DiffContext with the workflow schema, refusal patterns and prices of ``settings``."""
    refusal, prices, limits = comparator_options(settings)
    schemas: dict[str, dict[str, Any] | None] = {}

    def context(workflow: str, request: dict[str, Any]) -> DiffContext:
        if workflow not in schemas:
            schemas[workflow] = load_output_schema(settings, workflow)
        return DiffContext.from_request(
            request, workflow_schema=schemas[workflow], refusal=refusal, prices=prices, limits=limits
        )

    return context


class RowBuilder:
    """Compares one event's production answer with each candidate's and builds the rows."""

    def __init__(self, settings: Settings) -> None:
        self.context = RowContext(
            config_version=settings.config_version,
            redactor=Redactor.from_settings(settings.redaction),
            max_text_chars=settings.clickhouse.max_text_chars,
            max_tool_calls=settings.diff.max_tool_calls,
        )
        self._diff_context = diff_context_factory(settings)

    def rows(
        self,
        position: Position,
        decoded: DecodedEvent,
        results: Sequence[ReplayResult],
        candidates: Sequence[CandidateSettings],
    ) -> list[Row]:
        event, production = decoded.event, decoded.production
        context = self._diff_context(event.workflow, event.request)
        # Production's side is measured, redacted and serialized once per event, not per candidate.
        production_side = measure_side(production, context) if production is not None else None
        shared = EventColumns.of(production, context, self.context, event)
        rows = []
        for candidate, result in zip(candidates, results, strict=True):
            comparison = compare(
                production,
                result.output,
                context,
                production_side=production_side,
                production_latency_ms=event.latency_ms,
                candidate_latency_ms=result.latency_ms if result.ok else None,
            )
            rows.append(
                build_comparison_row(
                    event=event,
                    position=position,
                    candidate=candidate,
                    shared=shared,
                    result=result,
                    comparison=comparison,
                    ctx=self.context,
                )
            )
        return rows


# --- the diff process -------------------------------------------------------------------------

_CHILD: dict[str, RowBuilder] = {}  # in a diff process: its builder, made once at start


def _start_child(settings: Settings) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the worker stops itself, then its diff processes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _CHILD["builder"] = RowBuilder(settings)


def _child_ready() -> bool:
    return "builder" in _CHILD


def _child_rows(
    position: Position, decoded: DecodedEvent, results: Sequence[ReplayResult], candidates: Sequence[CandidateSettings]
) -> list[Row]:
    return _CHILD["builder"].rows(position, decoded, results, candidates)


class DiffProcesses:
    """Compares big events in ``processes`` processes beside the worker (none: in the CPU thread).

    Processes are spawned, not forked (the worker runs threads: Kafka, ClickHouse, the CPU thread),
    when :meth:`start` is called, so the first big event does not wait for one to boot. A process
    that dies is replaced; after ``MAX_RESTARTS`` deaths (a process that cannot even start, say
    because the program that embeds the worker has no ``if __name__ == "__main__"`` guard) the
    worker compares everything in the CPU thread from then on, and says so.
    """

    MAX_RESTARTS = 3

    def __init__(self, settings: Settings, builder: RowBuilder, processes: int) -> None:
        self._settings = settings
        self._builder = builder
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self.restarts = 0

    def start(self) -> None:
        if self._processes and self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(self._settings,),
            )
            for _ in range(self._processes):
                self._pool.submit(_child_ready)  # boots the processes now, in the background

    async def rows(
        self,
        position: Position,
        decoded: DecodedEvent,
        results: Sequence[ReplayResult],
        candidates: Sequence[CandidateSettings],
    ) -> list[Row]:
        if self._pool is None:
            return await off_loop(self._builder.rows, position, decoded, results, candidates)
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool, _child_rows, position, decoded, results, candidates
            )
        except (RecursionError, pickle.PicklingError) as exc:
            # An event too deeply nested to pickle (JSON a few hundred levels deep): compare it here.
            log.warning("cannot hand %s to the diff process (%s); comparing it in the CPU thread", position, exc)
            return await off_loop(self._builder.rows, position, decoded, results, candidates)
        except BrokenProcessPool as exc:
            # A diff process died (killed, out of memory): replace it, and compare this event here.
            log.warning("the diff process died (%s); starting another, comparing %s in the CPU thread", exc, position)
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                self.restarts += 1
                if self.restarts < self.MAX_RESTARTS and not self._closed:
                    self.start()
                else:
                    log.error(
                        "the diff process died %d times; comparing big events in the CPU thread from now on",
                        self.restarts,
                    )
                    self._processes = 0
            return await off_loop(self._builder.rows, position, decoded, results, candidates)

    def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
