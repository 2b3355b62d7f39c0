"""``shadow gate``: promote, hold or roll back a candidate, by a policy of statistical rules.

A policy (YAML) lists rules such as "JSON validity: no regression > 1 point" or "p95 latency:
no regression > 10%". Each rule is decided on an interval, not on a raw comparison:

- rates: Wilson intervals; differences of rates: Newcombe intervals (paired against production,
  whose answer to the same event is in the same row; independent against the control lane);
- latency, cost and tokens: percentile-bootstrap intervals of the candidate/reference ratio of a
  quantile or a mean, with a Mann-Whitney rank test that must agree before a regression fails;
- similarity and length ratio: bootstrap intervals of quantiles.

A rule *fails* when its whole interval is beyond the allowed amount, *passes* when its estimate
is within it, and is *inconclusive* otherwise; with fewer than ``min_samples`` comparisons it is
*insufficient*, and with none at all (no schema asked for, no tool calls) *not applicable*, which
leaves it out of the verdict. Confidence is family-wise: with k rules each interval is built at 1 - alpha/k
(Bonferroni), so an A/A comparison rarely fails any rule by chance.

Verdict: ``rollback`` when a critical rule fails or more rules fail than ``allowed_failures``;
``promote`` when every rule passes; ``hold`` otherwise (not enough data, or inconclusive).

The package is four floors, each importing only the ones before it:
``policy`` (metric catalogue, policy file) ← ``rules`` (one rule on an interval) ←
``evaluation`` (rows from the store, the verdict) ← ``render`` (the table for people).
"""

from shadow.report.gate.evaluation import EXIT_CODES, GateResult, Verdict, decide, evaluate_gate
from shadow.report.gate.policy import METRICS, Kind, Metric, PolicySettings, RuleSettings, load_policy
from shadow.report.gate.render import render_gate
from shadow.report.gate.rules import Outcome, RuleContext, RuleResult, evaluate_rule, reference_of

__all__ = [
    "EXIT_CODES",
    "METRICS",
    "GateResult",
    "Kind",
    "Metric",
    "Outcome",
    "PolicySettings",
    "RuleContext",
    "RuleResult",
    "RuleSettings",
    "Verdict",
    "decide",
    "evaluate_gate",
    "evaluate_rule",
    "load_policy",
    "reference_of",
    "render_gate",
]
