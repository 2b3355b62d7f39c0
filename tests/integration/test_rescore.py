"""``shadow rescore`` recomputes stored rows' diff columns without calling any model."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadow.demo.server import Answer, CandidateServer
from shadow.diff import COMPARATOR_VERSION
from shadow.diff.behaviour import DEFAULT_REFUSAL_DETECTOR, RefusalDetector
from shadow.pipeline import run_worker
from shadow.sink.rescore import rescore
from tests.factories import candidate, event_bytes, make_event, openai_response, settings_for

pytestmark = pytest.mark.clickhouse


async def stored_rows(tmp_path: Path, store, clickhouse_settings) -> None:
    events = [
        make_event(event_id="evt_json", response=openai_response('{"total": 10, "currency": "EUR"}'), text="json"),
        make_event(event_id="evt_text", response=openai_response("Your parcel ships today."), text="text"),
        make_event(event_id="evt_refusal", response=openai_response("Sure, here is the summary."), text="refuse"),
    ]
    answers = {
        "json": '{"currency": "EUR", "total": "10"}',
        "text": "Your parcel will ship today.",
        "refuse": "Nope, I will not summarize that.",
    }
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(event_bytes(e) for e in events) + b"\n")
    server = CandidateServer(lambda api, body: Answer.text_answer(answers[body["messages"][-1]["content"]]))
    base_url = await server.start()
    try:
        settings = settings_for(
            [candidate("c", base_url)],
            source={"kind": "ndjson", "path": str(path)},
            clickhouse=clickhouse_settings.model_dump(),
        )
        await run_worker(settings, store=store, handle_signals=False)
    finally:
        await server.stop()


def rows_by_event(store) -> dict[str, dict]:
    return {
        r["event_id"]: r
        for r in store.query_dicts(
            f"SELECT event_id, similarity, json_diff_paths, json_diff_kinds, candidate_refusal, comparator_version, "
            f"row_version FROM {store.database}.comparisons FINAL"
        )
    }


async def test_rescore_restores_diff_columns_from_stored_outputs(tmp_path: Path, store, clickhouse_settings) -> None:
    await stored_rows(tmp_path, store, clickhouse_settings)
    original = rows_by_event(store)
    assert original["evt_json"]["json_diff_paths"] == ["$.total"]

    # Pretend an older comparator wrote the rows, with different (wrong) scores.
    store.command(
        f"ALTER TABLE {store.database}.comparisons UPDATE similarity = 0, json_diff_paths = [], "
        "json_diff_kinds = [], comparator_version = 0 WHERE 1 SETTINGS mutations_sync = 1"
    )
    assert {r["similarity"] for r in rows_by_event(store).values()} == {0.0}

    result = rescore(store, "1", {}, refusal=DEFAULT_REFUSAL_DETECTOR, prices={})
    assert (result.rows, result.outdated, result.comparator_version) == (3, 3, COMPARATOR_VERSION)
    after = rows_by_event(store)
    for event_id, row in after.items():
        assert row["similarity"] == pytest.approx(original[event_id]["similarity"])
        assert row["comparator_version"] == COMPARATOR_VERSION
        assert row["row_version"] > original[event_id]["row_version"]
    assert after["evt_json"]["json_diff_paths"] == ["$.total"]
    assert after["evt_json"]["json_diff_kinds"] == ["type_changed"]
    assert store.query_rows(f"SELECT count() FROM {store.database}.comparisons FINAL") == [(3,)]


async def test_rescore_applies_new_refusal_patterns_and_can_skip_current_rows(
    tmp_path: Path, store, clickhouse_settings
) -> None:
    await stored_rows(tmp_path, store, clickhouse_settings)
    assert rows_by_event(store)["evt_refusal"]["candidate_refusal"] is False
    stricter = RefusalDetector.from_patterns([r"^nope\b"])
    skipped = rescore(store, "1", {}, refusal=stricter, prices={}, outdated_only=True)
    assert skipped.rows == 0
    result = rescore(store, "event_id = {e:String}", {"e": "evt_refusal"}, refusal=stricter, prices={}, page_rows=1)
    assert result.rows == 1
    assert rows_by_event(store)["evt_refusal"]["candidate_refusal"] is True


async def test_rescore_redacts_the_paths_it_writes(tmp_path: Path, store, clickhouse_settings) -> None:
    from shadow.config import RedactionRule, RedactionSettings
    from shadow.redaction import Redactor

    await stored_rows(tmp_path, store, clickhouse_settings)
    # Paths quote keys of the answers: rescore stores them through the configured redaction, as the worker does.
    only_rule = RedactionRule(name="key", pattern="total", replacement="[KEY]")
    redactor = Redactor.from_settings(RedactionSettings(defaults=[], rules=[only_rule]))
    rescore(store, "event_id = {e:String}", {"e": "evt_json"}, refusal=DEFAULT_REFUSAL_DETECTOR, prices={},
            redactor=redactor)  # fmt: skip
    assert rows_by_event(store)["evt_json"]["json_diff_paths"] == ["$.[KEY]"]
