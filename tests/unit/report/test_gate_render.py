"""The gate result as people read it: a fixed-width, colourless table."""

from __future__ import annotations

from shadow.report.gate.evaluation import GateResult, Verdict
from shadow.report.gate.render import render_gate
from shadow.report.gate.rules import Outcome, RuleResult

JSON_RULE = RuleResult(name="JSON validity", metric="json_valid_rate", against="production", critical=True,
                       outcome=Outcome.FAIL, estimate=0.0612, interval=(0.041, 0.083),
                       threshold="regression <= 1 points", n=970, reference_n=970,
                       reason="Regressed beyond the allowed amount.", unit="points")  # fmt: skip
SCHEMA_RULE = RuleResult(name="schema conformance", metric="schema_valid_rate", against="production", critical=False,
                         outcome=Outcome.NOT_APPLICABLE, estimate=None, interval=None,
                         threshold="regression <= 1 points", n=0, reference_n=None,
                         reason="No comparisons with both answers in this window")  # fmt: skip


def gate(workflow: str | None = None) -> GateResult:
    return GateResult(candidate="json_down", verdict=Verdict.ROLLBACK, score=0.5, rules=(JSON_RULE, SCHEMA_RULE),
                      policy="default-rollout", window={"from": "2026-11-20T09:00:00+00:00", "to": "later"},
                      compared=1000, control_rows=1000, reasons=("critical rule failed: JSON validity",),
                      workflow=workflow)  # fmt: skip


def test_the_verdict_line_reasons_and_one_row_per_rule() -> None:
    text = render_gate(gate(), width=200, color=False)
    lines = text.splitlines()
    assert lines[0] == (
        "ROLLBACK  json_down — score 0.50, policy default-rollout, 1,000 comparisons (1,000 control-lane), "
        "window 2026-11-20T09:00:00+00:00 → later"
    )
    assert lines[1] == "  · critical rule failed: JSON validity"
    assert "\x1b[" not in text
    json_row = next(line for line in lines if "JSON validity (critical)" in line)
    assert all(part in json_row for part in ("fail", "+0.0612", "[+0.041, +0.083]", "970"))
    schema_row = next(line for line in lines if "schema conformance" in line)
    assert "not_applicable" in schema_row and "–" in schema_row and "(critical)" not in schema_row


def test_the_workflow_is_named_when_the_gate_judged_one() -> None:
    assert ", workflow search," in render_gate(gate("search"), width=200, color=False).splitlines()[0]
    assert "workflow" not in render_gate(gate(), width=200, color=False).splitlines()[0]
