"""``shadow gate`` on seeded rollouts with known injected regressions."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from shadow.report.gate import Outcome, Verdict, evaluate_gate, load_policy
from tests.seeding import T0, insert_rows, rollout

pytestmark = pytest.mark.clickhouse

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "deploy" / "gate-policy.yaml")
START, END = T0 - timedelta(hours=1), T0 + timedelta(hours=12)


def failed(result) -> set[str]:
    return {r.name for r in result.rules if r.outcome is Outcome.FAIL}


def test_each_injected_regression_rolls_back_on_the_rule_that_names_it(store) -> None:
    insert_rows(store, rollout(seed=1))
    verdicts = {name: evaluate_gate(store, POLICY, name, START, END) for name in
                ("identical", "json_down", "slow", "nearly", "renamed", "few")}  # fmt: skip

    assert verdicts["identical"].verdict is Verdict.PROMOTE, verdicts["identical"].to_dict()
    assert verdicts["identical"].exit_code == 0

    assert verdicts["json_down"].verdict is Verdict.ROLLBACK
    assert failed(verdicts["json_down"]) == {"JSON validity"}
    assert verdicts["slow"].verdict is Verdict.ROLLBACK
    assert failed(verdicts["slow"]) == {"p95 latency"}
    slow_rule = next(r for r in verdicts["slow"].rules if r.name == "p95 latency")
    assert slow_rule.against == "control" and slow_rule.interval[0] > 0.10
    # 6% slower: the estimate is within the 10% tolerance, but the bound reaches past it: held, never promoted.
    assert verdicts["nearly"].verdict is Verdict.HOLD, verdicts["nearly"].to_dict()
    nearly_rule = next(r for r in verdicts["nearly"].rules if r.name == "p95 latency")
    assert nearly_rule.outcome is Outcome.INCONCLUSIVE and nearly_rule.interval[1] > 0.10
    assert nearly_rule.needed is not None and nearly_rule.needed > 0
    assert verdicts["renamed"].verdict is Verdict.ROLLBACK
    assert failed(verdicts["renamed"]) == {"tool-argument agreement"}
    assert verdicts["renamed"].exit_code == 1

    few = verdicts["few"]
    assert few.verdict is Verdict.HOLD and few.exit_code == 2
    assert {r.outcome for r in few.rules} <= {Outcome.INSUFFICIENT, Outcome.NOT_APPLICABLE}
    assert not failed(few)

    # Rules that do not apply (no schema was asked for) are left out, not held against the candidate.
    schema = next(r for r in verdicts["identical"].rules if r.name == "schema conformance")
    assert schema.outcome is Outcome.NOT_APPLICABLE


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15])
def test_the_a_a_lane_never_rolls_back(store, seed: int) -> None:
    insert_rows(store, rollout(seed=seed))
    result = evaluate_gate(store, POLICY, "aa", START, END)
    assert result.verdict is not Verdict.ROLLBACK, result.to_dict()
    assert evaluate_gate(store, POLICY, "identical", START, END).verdict is Verdict.PROMOTE


def test_no_data_holds(store) -> None:
    result = evaluate_gate(store, POLICY, "nobody", START, END)
    assert result.verdict is Verdict.HOLD and result.compared == 0


def test_the_gate_command_answers_with_its_exit_code(store, clickhouse, database, tmp_path) -> None:
    insert_rows(store, rollout(seed=2, n=6000))  # seed 2's identical lane needs 4,300 events to show p95 within 10%
    store.close()  # the embedded engine allows one process at a time
    config = tmp_path / "shadow.yaml"
    options: dict[str, object] = {"dsn": clickhouse.dsn, "database": database}
    if clickhouse.username:
        options["username"] = clickhouse.username
    config.write_text(orjson.dumps({"clickhouse": options}).decode())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    if clickhouse.password:
        env["SHADOW_CLICKHOUSE__PASSWORD"] = clickhouse.password
    window = ["--from", START.isoformat(), "--to", END.isoformat()]
    codes = {}
    for candidate in ("identical", "renamed", "few"):
        done = subprocess.run(
            [sys.executable, "-m", "shadow", "gate", "--config", str(config), "--policy",
             str(ROOT / "deploy" / "gate-policy.yaml"), "--candidate", candidate, *window, "--format", "json"],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        codes[candidate] = done.returncode
        assert orjson.loads(done.stdout)["candidate"] == candidate, done.stderr
    assert codes == {"identical": 0, "renamed": 1, "few": 2}
    table = subprocess.run(
        [sys.executable, "-m", "shadow", "gate", "--config", str(config), "--policy",
         str(ROOT / "deploy" / "gate-policy.yaml"), "--candidate", "renamed", *window],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert "ROLLBACK" in table.stdout and "tool-argument agreement" in table.stdout
    # --workflow reaches the gate: a workflow with no rows judges nothing and holds.
    elsewhere = subprocess.run(
        [sys.executable, "-m", "shadow", "gate", "--config", str(config), "--policy",
         str(ROOT / "deploy" / "gate-policy.yaml"), "--candidate", "renamed", *window, "--workflow", "nowhere",
         "--format", "json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert elsewhere.returncode == 2, elsewhere.stderr
    assert orjson.loads(elsewhere.stdout)["workflow"] == "nowhere"
    assert orjson.loads(elsewhere.stdout)["compared"] == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules:\n  - name: x\n    metric: nope\n    min: 1\n")
    bad = subprocess.run(
        [sys.executable, "-m", "shadow", "gate", "--config", str(config), "--policy", str(broken),
         "--candidate", "identical"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 3 and "unknown metric 'nope'" in bad.stderr


def two_workflows(seed: int) -> list[dict]:
    """A candidate "mixed": 30% slower on support_chat, answering like production on search; one control lane."""
    rows = []
    for workflow, lane, lane_seed in (("support_chat", "slow", seed), ("search", "identical", seed + 100)):
        for row in rollout(seed=lane_seed):
            if row["candidate"] == lane:
                rows.append({**row, "candidate": "mixed", "workflow": workflow})
            elif row["candidate"] == "control":
                rows.append({**row, "workflow": workflow})
    return rows


def test_the_workflow_filter_judges_one_workflow_alone(store) -> None:
    insert_rows(store, two_workflows(seed=21))

    healthy = evaluate_gate(store, POLICY, "mixed", START, END, workflow="search")
    assert healthy.verdict is Verdict.PROMOTE, healthy.to_dict()
    assert (healthy.compared, healthy.control_rows) == (4000, 4000)  # the control lane is filtered too
    assert healthy.workflow == "search" and healthy.to_dict()["workflow"] == "search"

    regressed = evaluate_gate(store, POLICY, "mixed", START, END, workflow="support_chat")
    assert regressed.verdict is Verdict.ROLLBACK
    assert failed(regressed) == {"p95 latency"}
    assert (regressed.compared, regressed.control_rows) == (4000, 4000)

    pooled = evaluate_gate(store, POLICY, "mixed", START, END)
    assert (pooled.compared, pooled.control_rows, pooled.workflow) == (8000, 8000, None)
    assert evaluate_gate(store, POLICY, "mixed", START, END, workflow="").compared == 8000  # "" = all, as in SQL

    # A workflow the policy leaves out judges nothing: hold, not a verdict on other traffic.
    only_chat = POLICY.model_copy(update={"workflows": ["support_chat"]})
    assert evaluate_gate(store, only_chat, "mixed", START, END).verdict is Verdict.ROLLBACK
    outside = evaluate_gate(store, only_chat, "mixed", START, END, workflow="search")
    assert outside.verdict is Verdict.HOLD and outside.compared == 0


def small_workflow_regression() -> list[dict]:
    """A candidate "hidden": like production on 4,000 search events, and 15 points fewer valid JSON
    answers on 400 support_chat events: 1.4 points pooled, too little for the pooled rule to show."""
    rows = []
    for workflow, n, seed, drop in (("search", 4000, 41, 0.0), ("support_chat", 400, 42, 0.15)):
        for i, seeded in enumerate(r for r in rollout(seed=seed, n=n) if r["candidate"] in ("identical", "control")):
            row = {**seeded, "workflow": workflow, "event_id": f"{workflow}-{seeded['event_id']}"}
            if row["candidate"] == "identical":
                broken = drop and row["production_json_valid"] and (i * 7919) % 1000 < drop * 1000
                row |= {"candidate": "hidden", "candidate_json_valid": False if broken else row["candidate_json_valid"]}
            rows.append(row)
    return rows


def test_a_small_workflows_regression_is_not_averaged_away(store) -> None:
    insert_rows(store, small_workflow_regression())
    pooled = evaluate_gate(store, POLICY, "hidden", START, END)
    assert pooled.verdict is not Verdict.ROLLBACK, pooled.to_dict()  # the pooled rules cannot tell
    assert pooled.workflows == ()

    each = POLICY.model_copy(update={"workflow_min_comparisons": 300})
    judged = evaluate_gate(store, each, "hidden", START, END)
    assert judged.verdict is Verdict.ROLLBACK, judged.to_dict()
    assert "workflow support_chat rolls back on its own" in judged.reasons
    by_name = {w.workflow: w for w in judged.workflows}
    assert by_name["support_chat"].verdict is Verdict.ROLLBACK and by_name["support_chat"].compared == 400
    assert by_name["search"].verdict is not Verdict.ROLLBACK
    failed_rules = {r.name for r in by_name["support_chat"].rules if r.outcome is Outcome.FAIL}
    assert failed_rules == {"JSON validity"}
    assert judged.to_dict()["workflows"][0]["workflow"] in ("search", "support_chat")
