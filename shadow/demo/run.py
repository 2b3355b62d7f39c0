"""``shadow demo``: the real pipeline on the bundled sample, a local candidate endpoint and embedded chDB."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadow.config import Settings, load_settings
from shadow.demo.server import CandidateServer, Recordings
from shadow.pipeline import RunStats, run_worker
from shadow.redaction import KEY_ENV
from shadow.report.summary import query_summary
from shadow.report.window import Filters, Window
from shadow.storage.store import ClickHouseStore

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
DEMO_CONFIG = Path(__file__).resolve().parent / "demo.yaml"
DEMO_EVENTS = DATA / "events.ndjson"
DEMO_RECORDINGS = DATA / "recordings.json"
DEMO_REDACTION_KEY = "shadow-demo-key-public-not-a-secret"


@dataclass(frozen=True, slots=True)
class DemoResult:
    stats: RunStats
    summary: dict[str, Any]
    settings: Settings
    seconds: float
    endpoint: str


def demo_settings(base_url: str, events: Path, config_file: Path | None = None) -> Settings:
    """The demo configuration with every candidate pointed at the local endpoint."""
    settings = load_settings(config_file or DEMO_CONFIG, source={"kind": "ndjson", "path": str(events)})
    candidates = [c.model_copy(update={"base_url": base_url}) for c in settings.candidates]
    return settings.model_copy(update={"candidates": candidates})


async def run_demo(
    events: Path = DEMO_EVENTS,
    recordings: Path = DEMO_RECORDINGS,
    config_file: Path | None = None,
    progress: Any = None,
) -> DemoResult:
    """Serve recorded candidate answers on 127.0.0.1, run the pipeline over ``events``, read the summary back."""
    say = progress or (lambda message: None)
    if not os.environ.get(KEY_ENV):
        # The sample holds no personal data; a fixed key keeps the demo's tokens equal from run to run.
        # Real traffic needs a secret key of its own (README, "Security").
        os.environ[KEY_ENV] = DEMO_REDACTION_KEY
        say(f"redaction tokens keyed with the demo's public key (set {KEY_ENV} for real traffic)")
    server = CandidateServer(Recordings.load(recordings), timeout_s=30.0)
    endpoint = await server.start()
    try:
        settings = demo_settings(endpoint, events, config_file)
        names = ", ".join(c.name + (" (control)" if c.role == "control" else "") for c in settings.candidates)
        say(f"local candidate endpoint on {endpoint}, serving recorded answers")
        say(f"replaying {events.name} against {len(settings.candidates)} candidates: {names}")
        started = time.monotonic()
        with ClickHouseStore(settings.clickhouse) as store:
            say(f"writing comparison rows to {store.target} (database {store.database})")
            stats = await run_worker(settings, store=store, handle_signals=True)
            seconds = time.monotonic() - started
            summary = query_summary(store, Filters(Window()), settings)
    finally:
        await server.stop()
    return DemoResult(stats, summary, settings, seconds, endpoint)
