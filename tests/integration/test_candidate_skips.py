"""Per candidate, every consumed event is compared or skipped with its reason — in the real engine and on screen.

The events a candidate was not sent are on their ``ingest_log`` row (``candidate_skips``: sampled
out, out of scope, disabled); the calls the breaker or the control plane stopped are skipped rows
in ``comparisons`` (``circuit_open``, ``killed``, ``paused``). ``candidate_skips.sql`` and
``candidate_coverage.sql`` count them, and ``shadow summary`` shows both beside the comparisons.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shadow.config import Settings
from shadow.report.queries import run_query
from shadow.report.summary import query_summary, render_markdown, render_table
from shadow.report.window import Filters, Window
from shadow.storage import migrate as migrations
from tests.seeding import T0, comparison_row, ingest_row, insert_ingest, insert_rows

pytestmark = pytest.mark.clickhouse

START, END = T0 - timedelta(hours=1), T0 + timedelta(hours=23)
ALL = {"candidate": None, "workflow": None, "tenant": None}
SETTINGS = Settings.model_validate(
    {
        "candidates": [
            {"name": "wide", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
            {"name": "internal", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
             "tenants": ["internal"]},
            {"name": "tenth", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
             "sample_rate": 0.1},
            {"name": "off", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
             "enabled": False},
        ]
    }
)  # fmt: skip


def skipped(event_id: str, candidate: str, kind: str) -> dict[str, Any]:
    return comparison_row(event_id, candidate=candidate, status="skipped", error_kind=kind, http_status=0, attempts=0)


def seed(store) -> None:
    """support_chat: ten events replayed (e1–e3 from the internal tenant), five outside the workflow's sample;
    one kb_answer event no candidate admits.

    wide: compared e1–e7, e8–e9 killed, e10 circuit open; internal: compared e1–e3, the rest out of scope;
    tenth: compared e1, e2 paused, the rest sampled out; off: disabled everywhere.
    """
    rows = [
        *(comparison_row(f"e{i}", candidate="wide") for i in range(1, 8)),
        skipped("e8", "wide", "killed"), skipped("e9", "wide", "killed"), skipped("e10", "wide", "circuit_open"),
        *(comparison_row(f"e{i}", candidate="internal", tenant="internal") for i in range(1, 4)),
        comparison_row("e1", candidate="tenth"), skipped("e2", "tenth", "paused"),
    ]  # fmt: skip
    insert_rows(store, rows)
    ingest = []
    for i in range(1, 11):
        skips = {"off": "disabled"}
        if i > 3:
            skips["internal"] = "out_of_scope"
        if i > 2:
            skips["tenth"] = "sampled_out"
        ingest.append(ingest_row(i, event_id=f"e{i}", tenant="internal" if i <= 3 else "acme",
                                 candidates=4 - len(skips), candidate_skips=skips))  # fmt: skip
    for i in range(11, 16):
        tenant = "internal" if i < 13 else "acme"
        skips = {"wide": "sampled_out", "internal": "sampled_out" if tenant == "internal" else "out_of_scope",
                 "tenth": "sampled_out", "off": "disabled"}  # fmt: skip
        ingest.append(ingest_row(i, event_id=f"s{i}", tenant=tenant, outcome="skipped", reason="sampling",
                                 candidates=0, candidate_skips=skips))  # fmt: skip
    ingest.append(
        ingest_row(16, event_id="n1", workflow="kb_answer", outcome="skipped", reason="no_candidate", candidates=0,
                   candidate_skips={"wide": "out_of_scope", "internal": "out_of_scope", "tenth": "out_of_scope",
                                    "off": "disabled"})
    )  # fmt: skip
    insert_ingest(store, ingest)


def by(rows: list[dict[str, Any]], **key: str) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(found) == 1, (key, found)
    return found[0]


def test_candidate_skips_sql_counts_the_events_each_candidate_was_not_sent(store) -> None:
    seed(store)
    rows = run_query(store, "candidate_skips", start=START, end=END, **ALL)
    figures = {
        (r["candidate"], r["workflow"]): (r["skipped"], r["sampled_out"], r["out_of_scope"], r["disabled"],
                                          r["of_replayed"])
        for r in rows
    }  # fmt: skip
    assert figures == {
        ("internal", "kb_answer"): (1, 0, 1, 0, 0),
        ("internal", "support_chat"): (12, 2, 10, 0, 7),
        ("off", "kb_answer"): (1, 0, 0, 1, 0),
        ("off", "support_chat"): (15, 0, 0, 15, 10),
        ("tenth", "kb_answer"): (1, 0, 1, 0, 0),
        ("tenth", "support_chat"): (13, 13, 0, 0, 8),
        ("wide", "kb_answer"): (1, 0, 1, 0, 0),
        ("wide", "support_chat"): (5, 5, 0, 0, 0),
    }
    only_acme = run_query(store, "candidate_skips", start=START, end=END, candidate="internal", workflow=None,
                          tenant="acme")  # fmt: skip
    assert [(r["workflow"], r["out_of_scope"]) for r in only_acme] == [("kb_answer", 1), ("support_chat", 10)]

    coverage = run_query(store, "candidate_coverage", start=START, end=END, **ALL)
    assert by(coverage, candidate="wide")["skipped_by_kind"] == {"killed": 2, "circuit_open": 1}
    assert by(coverage, candidate="tenth")["skipped_by_kind"] == {"paused": 1}
    assert by(coverage, candidate="internal")["skipped_by_kind"] == {}


def test_every_consumed_event_is_accounted_for_per_candidate(store) -> None:
    """compared + skipped rows + events not sent = consumed events of the workflow, for each candidate."""
    seed(store)
    consumed = by(run_query(store, "coverage", start=START, end=END, workflow=None, tenant=None),
                  workflow="support_chat")["consumed"]  # fmt: skip
    rows = {r["candidate"]: r for r in run_query(store, "candidate_coverage", start=START, end=END, **ALL)}
    not_sent = {r["candidate"]: r for r in run_query(store, "candidate_skips", start=START, end=END, **ALL)
                if r["workflow"] == "support_chat"}  # fmt: skip
    for name in ("wide", "internal", "tenth", "off"):
        row = rows.get(name, {"compared": 0, "skipped": 0})
        assert row["compared"] + row["skipped"] + not_sent[name]["skipped"] == consumed == 15, name


def test_the_summary_shows_each_candidates_skips_by_reason(store) -> None:
    seed(store)
    window = Window(START, END)
    summary = query_summary(store, Filters(window), SETTINGS, now=END)
    coverage = {(c["candidate"], c["workflow"]): c for c in summary["coverage"]["candidates"]}
    # Pairs that only out-of-scope workflows make are left out; a disabled candidate still shows.
    assert set(coverage) == {("wide", "support_chat"), ("internal", "support_chat"), ("tenth", "support_chat"),
                             ("off", "support_chat"), ("off", "kb_answer")}  # fmt: skip
    wide, internal = coverage[("wide", "support_chat")], coverage[("internal", "support_chat")]
    tenth, off = coverage[("tenth", "support_chat")], coverage[("off", "support_chat")]
    assert (wide["replayed_events"], wide["compared"], wide["coverage"], wide["flag"]) == (10, 7, 0.7, "KILLED")
    assert wide["skips"] == {"circuit_open": 1, "killed": 2, "sampled_out": 5}
    # Out of scope by choice: the events it should see are the internal tenant's, and it saw them all.
    assert (internal["replayed_events"], internal["compared"], internal["coverage"], internal["flag"]) == (
        3, 3, 1.0, "",
    )  # fmt: skip
    assert internal["skips"] == {"sampled_out": 2, "out_of_scope": 10}
    assert (tenth["replayed_events"], tenth["compared"], tenth["flag"]) == (2, 1, "PAUSED")
    assert tenth["skips"] == {"paused": 1, "sampled_out": 13}
    assert (off["replayed_events"], off["compared"], off["coverage"], off["skips"]) == (0, 0, None, {"disabled": 15})
    assert (wide["circuit_open"], wide["skipped"], wide["not_sent"]) == (1, 3, 5)

    screen = render_table(summary, window, width=80, color=False)
    assert max(len(line) for line in screen.splitlines()) <= 80
    part = screen.split("Candidate coverage", 1)[1]
    for header in ("circuit open", "killed", "paused", "sampled out", "out of scope", "disabled"):
        assert header in part, header
    wide_line = next(line for line in part.splitlines() if line.startswith("wide "))
    assert wide_line.split()[:6] == ["wide", "support_chat", "7", "of", "10", "70.0%"]

    wide_table = render_table(summary, window, width=250, color=False, layout="wide")
    table = wide_table.split("Candidate coverage", 1)[1]
    header = next(line for line in table.splitlines() if line.startswith("┃ candidate"))
    assert [h.strip() for h in header.split("┃") if h.strip()] == [
        "candidate", "workflow", "api", "replayed events", "compared", "circuit open", "killed", "paused",
        "sampled out", "out of scope", "disabled", "coverage", "last compared (UTC)",
    ]  # fmt: skip
    internal_line = next(line for line in table.splitlines() if line.startswith("│ internal"))
    assert [c.strip() for c in internal_line.split("│")][4:12] == ["3", "3", "0", "0", "0", "2", "10", "0"]

    markdown = render_markdown(summary, window)
    assert (
        "- **KILLED**: wide compared 7 of 10 support_chat events (openai.chat.completions); "
        "1 skipped with its circuit breaker open; 2 killed; 5 sampled out" in markdown
    )
    assert (
        "- internal compared 3 of 3 support_chat events (openai.chat.completions); 2 sampled out; 10 out of scope"
        in markdown
    )
    assert "- off compared 0 of 0 support_chat events (openai.chat.completions); 15 disabled" in markdown


def test_migration_0006_adds_the_column_and_older_rows_read_as_no_skips(
    clickhouse_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shadow.storage.store import ClickHouseStore

    every = migrations.load_migrations()
    before = [m for m in every if m.version < 6]
    store = ClickHouseStore(clickhouse_settings)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(migrations, "load_migrations", lambda directory=None: before)
            migrations.migrate(store)
        old_columns = [c for c in ingest_row(1) if c != "candidate_skips"]
        store.insert("ingest_log", [[ingest_row(1)[c] for c in old_columns]], old_columns)
        applied = migrations.migrate(store)
        assert [m.version for m in applied] == [m.version for m in every if m.version >= 6]
        insert_ingest(store, [ingest_row(2, candidate_skips={"c1": "out_of_scope"})])
        stored = store.query_rows(f"SELECT offset, candidate_skips FROM {store.database}.ingest_log FINAL ORDER BY 1")
        assert stored == [(1, {}), (2, {"c1": "out_of_scope"})]
        rows = run_query(store, "candidate_skips", start=START, end=END, **ALL)
        assert [(r["candidate"], r["out_of_scope"]) for r in rows] == [("c1", 1)]
        assert migrations.migrate(store) == []
    finally:
        store.close()
