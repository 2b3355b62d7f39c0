"""``shadow gate``: promote, hold or roll back a candidate, by a policy of statistical rules.

A policy (YAML) lists rules such as "JSON validity: no regression > 1 point" or "p95 latency:
no regression > 10%". Release pipelines poll the gate every minute while comparisons accumulate, so
each rule is decided on a *confidence sequence* (``shadow.report.sequential``): bounds that hold at
every number of comparisons at once, so that the error rates hold however often the gate is asked.

- rates against production: the per-event difference of candidate and production (paired);
  against the control lane: paired on the events both lanes answered, or two lanes' rates;
- p95 and other latency quantiles: a quantile sequence per lane, combined into their ratio;
- cost and tokens: the ratio of means (paired against production);
- similarity and length ratio: quantile sequences.

Each rule has two one-sided bounds on its regression: it *fails* when the good-side bound is beyond
the tolerance (at the policy's ``false_rollback``, split across the rules), *passes* when the
bad-side bound is within it (at ``false_promotion``, per rule: non-inferiority shown), and is
*inconclusive* otherwise, with the comparisons it is expected to need. With fewer than
``min_samples`` comparisons it is *insufficient*, with none at all (no schema asked for, no tool
calls) *not applicable*, which leaves it out of the verdict; a threshold the control lane itself
cannot meet is a *policy problem*.

Verdict: ``rollback`` when a critical rule fails or more rules fail than ``allowed_failures``;
``promote`` when every rule passes; ``hold`` otherwise (not enough data, inconclusive, or a policy
problem).

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
