"""Microseconds to redact one stored answer: the rules of issue 12 against those of issue 10, in the same run.

Answers come from the bundled demo data: English prose (support and knowledge-base answers), Chinese
prose, JSON documents (invoice extractions, with amounts, dates and ids), each cut to 2 KB, plus an
English answer of 8 KB and a 2 KB one carrying personal data (e-mail, phone, card, IBAN, key), all
redacted as the worker stores them (``Redactor.cut`` at the default ``clickhouse.max_text_chars``).
The baseline is the redaction of issue 10: three rules (e-mail, API key, any 13-19 digits) with fixed
placeholders and the same substring pre-filters. It did less (no phones, IBANs, JSON awareness or
stable tokens), so it is the floor, not a rival.

    python benchmarks/redaction_speed.py [--repeat 3000] [--cpu 0] [--quick] [--goals-json FILE]

Prints a table; asserts nothing. Goals (median, one core): a 2 KB answer, prose or JSON, in at most
100 µs (a row stores two answers; the diff of the same pair is 100 µs by its own goal).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.diff_speed import DATA, demo_pairs, timings  # noqa: E402
from benchmarks.goals import GoalRow, add_goals_argument, bound_row, write_goals  # noqa: E402
from shadow.config import ClickHouseSettings, RedactionSettings  # noqa: E402
from shadow.events.models import Api  # noqa: E402
from shadow.events.wire import parse_response  # noqa: E402
from shadow.redaction import Redactor  # noqa: E402

MAX_TEXT_CHARS = ClickHouseSettings().max_text_chars


class IssueTenRedaction:
    """The redaction of issue 10, as it was: three rules, fixed placeholders, substring pre-filters."""

    RULES = (
        (re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[EMAIL]", ("@",)),
        (
            re.compile(r"(?<![A-Za-z0-9_-])(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}|\bBearer\s+[A-Za-z0-9._~+/=-]{16,}"),
            "[SECRET]",
            ("k-", "Bearer"),
        ),
        (re.compile(r"\d(?<!\d\d)(?:[ -]?\d){12,18}(?!\d)"), "[CARD]", None),
    )

    def cut(self, text: str, max_chars: int) -> str:
        text = text[: max_chars + 1024]
        for pattern, replacement, needles in self.RULES:
            if needles is None or any(n in text for n in needles):
                text = pattern.sub(replacement, text)
        return text[:max_chars]


def json_answers(size: int) -> str:
    """Invoice extractions of the demo data as one JSON array of about ``size`` characters."""
    documents = []
    for line in (DATA / "events.ndjson").read_bytes().splitlines():
        event = orjson.loads(line)
        if event["workflow"] == "invoice_extraction" and event["response"] is not None:
            text = parse_response(Api(event["api"]), event["response"]).text
            try:
                documents.append(orjson.loads(text))
            except orjson.JSONDecodeError:
                continue
    picked: list[object] = []
    while len(orjson.dumps(picked)) < size and documents:
        picked.append(documents[len(picked) % len(documents)])
    return orjson.dumps(picked).decode()


def prose(texts: list[str], size: int) -> str:
    joined = ""
    for text in texts:
        joined += text + "\n\n"
        if len(joined) >= size:
            break
    return joined[:size]


PERSONAL = (
    " Write to jane.doe@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111, IBAN "
    "GB82 WEST 1234 5698 7654 32, key sk-proj-abcdefghijklmnop1234."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3000, help="redactions per case and method")
    parser.add_argument("--cpu", type=int, default=0, help="pin to this CPU (one core)")
    parser.add_argument("--budget-s", type=float, default=10.0, help="time cap per case and method")
    parser.add_argument("--quick", action="store_true", help="500 calls and 1 s per case and method")
    add_goals_argument(parser)
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.budget_s = min(args.repeat, 500), min(args.budget_s, 1.0)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    english = [p for p, _ in demo_pairs({"support_chat", "kb_answer"}, "claude-haiku-4-5")]
    chinese = [p for p in english if sum("\u4e00" <= c <= "\u9fff" for c in p) > len(p) // 4]
    english = [p for p in english if p not in chinese]
    cases = {
        "2 KB English prose": prose(english, 2048),
        "2 KB Chinese prose": prose(chinese, 2048),
        "2 KB JSON (invoices)": json_answers(2048),
        "2 KB prose with personal data": prose(english, 2048 - len(PERSONAL)) + PERSONAL,
        "8 KB English prose": prose(english, 8192),
    }
    ours = Redactor.from_settings(RedactionSettings(), {"SHADOW_REDACTION_KEY": "bench"})
    floor = IssueTenRedaction()
    rows = []
    for name, text in cases.items():
        new = timings(lambda t=text: ours.cut(t, MAX_TEXT_CHARS), args.repeat, args.budget_s)
        old = timings(lambda t=text: floor.cut(t, MAX_TEXT_CHARS), args.repeat, args.budget_s)
        rows.append((name, len(text), statistics.median(new), statistics.quantiles(new, n=10)[-1],
                     statistics.median(old)))  # fmt: skip

    header = f"{'case':<32} {'chars':>6} {'issue 12 p50':>13} {'p90':>9} {'issue 10 p50':>13} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for name, chars, p50, p90, old in rows:
        print(f"{name:<32} {chars:>6} {p50:>11.1f}µs {p90:>7.1f}µs {old:>11.1f}µs {p50 / old:>5.1f}x")
    goals = goal_rows(rows)
    write_goals(args.goals_json, goals)
    print()
    for goal in goals:
        print(f"goal, {goal.goal}: median {goal.figure:.1f} µs ({goal.target}): {'met' if goal.met else 'NOT met'}")


GOALS = (("2 KB English prose", 100.0), ("2 KB JSON (invoices)", 100.0), ("2 KB Chinese prose", 100.0))


def goal_rows(rows: list[tuple[str, int, float, float, float]]) -> list[GoalRow]:
    by_case = {row[0]: row for row in rows}
    return [
        bound_row(
            "redaction_speed",
            f"redaction {case}",
            figure=by_case[case][2],
            unit="µs",
            at_most=at_most,
            baseline_label="issue 10 rules (3, fixed placeholders)",
            baseline=by_case[case][4],
        )
        for case, at_most in GOALS
    ]


if __name__ == "__main__":
    main()
