"""Do the defaults cap a worker? Events/s with the default in-flight window against a window of 2,048.

A worker on a list source and a memory sink, one candidate answering at once over
``httpx.MockTransport``, 4,000 events, comparisons in the loop: the CPU-bound rate of the pipeline's
own work. Issue 10's goal: the defaults reach at least 90% of the rate with a large window. Before
replay slots were freed at hand-over (they were held until the rows were stored, on a 1 s flush
timer), the defaults ran at about max_in_flight / flush_interval_s: 243 events/s here.

Command: ``.venv/bin/python benchmarks/default_throughput.py`` (about 10 s).
"""

import asyncio
import time

import httpx
import orjson

from shadow.config import Settings
from shadow.events.memory import ListDeadLetterSink, ListSource
from shadow.pipeline import Pipeline
from shadow.replay.client import CandidateClient
from shadow.replay.fanout import Replayer
from shadow.sink.memory import MemorySink
from tests.factories import event_bytes, make_event, openai_response


def rate(max_in_flight: int | None, n: int = 4000) -> float:
    pipeline: dict[str, object] = {"diff_processes": 0}
    if max_in_flight is not None:
        pipeline["max_in_flight"] = max_in_flight
    settings = Settings.model_validate(
        {
            "candidates": [{"name": "c", "provider": "openai", "base_url": "http://x.invalid/v1", "model": "m"}],
            "pipeline": pipeline,
        }
    )
    body = orjson.dumps(openai_response("Your order ships tomorrow."))

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    async def run() -> float:
        replayer = Replayer([CandidateClient(c, transport=httpx.MockTransport(handler)) for c in settings.candidates])
        source = ListSource([event_bytes(make_event(event_id=f"e{i}")) for i in range(n)])
        p = Pipeline(settings, source=source, dead_letters=ListDeadLetterSink(), replayer=replayer, sink=MemorySink())
        t = time.perf_counter()
        stats = await p.run()
        dt = time.perf_counter() - t
        await replayer.aclose()
        assert stats.replayed == n, stats
        return n / dt

    return asyncio.run(run())


def main() -> None:
    default, large = rate(None), rate(2048)
    print("| run | goal | events/s | ratio |")
    print("|---|---|---|---|")
    print(f"| window of 2,048 (the CPU-bound rate) | baseline | {large:.0f} | 1.00 |")
    print(
        f"| default settings (max_in_flight 256, flush_interval_s 1.0) | >= 0.90 | {default:.0f} "
        f"| {default / large:.2f} |"
    )


if __name__ == "__main__":
    main()
