"""The gate result for people: the verdict line, its reasons, then one table row per rule.

The top floor of ``shadow.report.gate``: ``shadow gate``'s table output (``--format json`` is
``GateResult.to_dict``).
"""

from __future__ import annotations

from io import StringIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shadow.report.gate.evaluation import GateResult, Verdict
from shadow.report.gate.rules import Outcome

_VERDICT_STYLE = {Verdict.PROMOTE: "bold green", Verdict.HOLD: "bold yellow", Verdict.ROLLBACK: "bold red"}
_OUTCOME_STYLE = {
    Outcome.PASS: "green",
    Outcome.FAIL: "red",
    Outcome.INCONCLUSIVE: "yellow",
    Outcome.INSUFFICIENT: "dim",
    Outcome.NOT_APPLICABLE: "dim",
    Outcome.POLICY: "magenta",
}


def render_gate(result: GateResult, width: int | None = None, color: bool = True) -> str:
    """The gate result as text: the verdict, then one line per rule (``width`` defaults to 200 columns)."""
    console = Console(file=StringIO(), width=width or 200, force_terminal=color, color_system="auto" if color else None)
    scope = f", workflow {result.workflow}" if result.workflow else ""
    console.print(
        Text.assemble(
            (f"{result.verdict.value.upper()}", _VERDICT_STYLE[result.verdict]),
            f"  {result.candidate} — score {result.score:.2f}, policy {result.policy}{scope}, "
            f"{result.compared:,} comparisons ({result.control_rows:,} control-lane), "
            f"window {result.window['from']} → {result.window['to']}",
        )
    )
    for reason in result.reasons:
        console.print(f"  · {reason}")
    for judged in result.workflows:
        console.print(
            Text.assemble(
                f"  workflow {judged.workflow}: ",
                (judged.verdict.value, _VERDICT_STYLE[judged.verdict]),
                f" on its own ({judged.compared:,} comparisons)"
                + (f": {'; '.join(judged.reasons)}" if judged.verdict is not Verdict.PROMOTE else ""),
            )
        )
    table = Table(header_style="bold", show_lines=False)
    for name in ("rule", "outcome", "against", "estimate", "bounds", "threshold", "n", "more", "reason"):
        table.add_column(name, overflow="fold", justify="right" if name in ("n", "more") else "left")
    for rule in result.rules:
        estimate = "–" if rule.estimate is None else f"{rule.estimate:+.4g}"
        interval = "–" if rule.interval is None else f"[{rule.interval[0]:+.4g}, {rule.interval[1]:+.4g}]"
        table.add_row(
            rule.name + (" (critical)" if rule.critical else ""),
            Text(rule.outcome.value, style=_OUTCOME_STYLE[rule.outcome]),
            rule.against,
            estimate,
            interval,
            rule.threshold,
            f"{rule.n:,}",
            f"{rule.needed:,}" if rule.needed else "–",
            rule.reason,
        )
    console.print(table)
    return str(console.file.getvalue())  # type: ignore[attr-defined]
