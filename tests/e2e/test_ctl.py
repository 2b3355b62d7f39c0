"""``shadow ctl`` as operators run it, against the real broker: each change lands on the control topic.

Every test has a control topic of its own. What ``ctl`` writes is read back three ways: by ``ctl
show`` (table and JSON), by ``read_control`` (what workers read), and raw with an aiokafka consumer
(one record per change, keyed by the candidate's name, on a compacted topic).
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shadow.events.control import ALL, ControlRecord, read_control
from shadow.events.settings import KafkaSettings
from tests.conftest import unique
from tests.e2e.test_worker_process import SHADOW

pytestmark = [pytest.mark.kafka, pytest.mark.e2e, pytest.mark.timeout(180)]


class Ctl:
    """``shadow ctl`` with a configuration of two candidates and a control topic of its own."""

    def __init__(self, tmp_path: Path, bootstrap: str) -> None:
        self.bootstrap, self.topic = bootstrap, unique("control")
        lane = {"provider": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m"}
        self.config = tmp_path / "shadow.yaml"
        self.config.write_text(
            yaml.safe_dump(
                {
                    "kafka": {"bootstrap_servers": bootstrap, "control_topic": self.topic},
                    "candidates": [{"name": "cand-a", **lane}, {"name": "cand-b", **lane}],
                }
            )
        )

    @property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings(bootstrap_servers=self.bootstrap, control_topic=self.topic)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*SHADOW, "ctl", *args, "--config", str(self.config)], capture_output=True, text=True, timeout=60
        )

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def show(self) -> dict[str, dict[str, Any]]:
        shown = orjson.loads(self.ok("show", "--format", "json"))
        assert shown["topic"] == self.topic
        return {row["candidate"]: row for row in shown["candidates"]}


@pytest.fixture
def ctl(tmp_path: Path, kafka_bootstrap: str) -> Ctl:
    return Ctl(tmp_path, kafka_bootstrap)


async def raw_records(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    """Every record of the (one-partition) topic, oldest first, as (key, value)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        found: list[tuple[bytes | None, bytes | None]] = []
        while await consumer.position(tp) < end:
            for message in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                found.append((message.key, message.value))
        return found
    finally:
        await consumer.stop()


async def topic_configs(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        return {entry[0]: str(entry[1]) for entry in response.resources[0][4]}
    finally:
        await admin.close()


async def topic_exists(bootstrap: str, topic: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return topic in await admin.list_topics()
    finally:
        await admin.close()


def test_disable_shows_disabled_with_reason_and_by_then_enable_shows_enabled(ctl: Ctl) -> None:
    said = ctl.ok("disable", "cand-a", "--reason", "invalid JSON in prod", "--by", "alice@ops")
    assert said.startswith("wrote: cand-a disabled by alice@ops at ")
    assert said.rstrip().endswith(f": invalid JSON in prod (control topic {ctl.topic})")
    assert len(said.splitlines()) == 1

    rows = ctl.show()
    assert list(rows) == [ALL, "cand-a", "cand-b"]
    a, b = rows["cand-a"], rows["cand-b"]
    assert (a["state"], a["effective"], a["reason"], a["by"], a["record"]) == (
        "disabled",
        "disabled",
        "invalid JSON in prod",
        "alice@ops",
        True,
    )
    assert a["at"] is not None and said.split(" at ")[1].startswith(a["at"])
    assert (b["state"], b["record"], b["at"]) == ("enabled", False, None)  # never written: enabled, no record
    shown = ctl.run("show")
    assert shown.returncode == 0 and shown.stderr == ""  # the states are printed once, not logged as well
    table = shown.stdout
    [line] = [line for line in table.splitlines() if line.startswith("cand-a ")]
    assert line.split()[:3] == ["cand-a", "disabled", "alice@ops"] and line.endswith("invalid JSON in prod")
    assert table.splitlines()[-1] == f"control topic {ctl.topic}"

    said = ctl.ok("enable", "cand-a", "--by", "bob@ops")
    assert said.startswith("wrote: cand-a enabled by bob@ops")
    a = ctl.show()["cand-a"]
    assert (a["state"], a["by"], a["reason"], a["record"]) == ("enabled", "bob@ops", "", True)


def test_pause_and_the_global_switch(ctl: Ctl) -> None:
    ctl.ok("pause", "cand-b", "--reason", "monthly budget spent")
    ctl.ok("disable", "--all", "--reason", "provider incident", "--by", "oncall")
    rows = ctl.show()
    assert (rows[ALL]["state"], rows[ALL]["reason"], rows[ALL]["by"]) == ("disabled", "provider incident", "oncall")
    assert (rows["cand-b"]["state"], rows["cand-b"]["effective"]) == ("paused", "disabled")
    assert (rows["cand-a"]["state"], rows["cand-a"]["effective"]) == ("enabled", "disabled")
    assert rows["cand-b"]["by"]  # defaulted to $USER@hostname (or what of it is known)
    assert "the global switch is disabled" in ctl.ok("show")

    ctl.ok("enable", "--all")  # lifts the global switch only: cand-b stays paused
    rows = ctl.show()
    assert rows[ALL]["state"] == "enabled"
    assert (rows["cand-b"]["state"], rows["cand-b"]["effective"], rows["cand-b"]["reason"]) == (
        "paused",
        "paused",
        "monthly budget spent",
    )
    assert rows["cand-a"]["effective"] == "enabled"
    records = asyncio.run(read_control(ctl.kafka))  # what the workers read
    assert {k: r.state for k, r in records.items()} == {"cand-b": "paused", ALL: "enabled"}


def test_an_unknown_name_is_refused_unless_forced(ctl: Ctl) -> None:
    refused = ctl.run("disable", "ghost", "--reason", "not ours")
    assert refused.returncode == 2
    assert "'ghost' is not a candidate" in refused.stderr and "cand-a, cand-b" in refused.stderr
    assert "--force" in refused.stderr and refused.stdout == ""
    assert not asyncio.run(topic_exists(ctl.bootstrap, ctl.topic))  # nothing was written, not even the topic

    said = ctl.ok("disable", "ghost", "--reason", "configured in the EU workers", "--force")
    assert said.startswith("wrote: ghost disabled")
    rows = ctl.show()
    assert (rows["ghost"]["state"], rows["ghost"]["configured"]) == ("disabled", False)
    assert "ghost (not configured here)" in ctl.ok("show")


@pytest.mark.parametrize("action", ["disable", "pause"])
def test_a_missing_reason_is_a_usage_error_and_writes_nothing(ctl: Ctl, action: str) -> None:
    done = ctl.run(action, "cand-a")
    assert done.returncode == 2
    assert "the following arguments are required: --reason" in done.stderr
    assert done.stderr.startswith(f"usage: shadow ctl {action}")
    assert not asyncio.run(topic_exists(ctl.bootstrap, ctl.topic))


def test_the_record_is_on_a_compacted_topic_keyed_by_the_candidate(ctl: Ctl) -> None:
    printed = orjson.loads(ctl.ok("disable", "cand-a", "--reason", "refusals doubled", "--format", "json"))
    assert (printed["candidate"], printed["state"], printed["reason"]) == ("cand-a", "disabled", "refusals doubled")
    ctl.ok("pause", "--all", "--reason", "load test", "--by", "perf")

    records = asyncio.run(raw_records(ctl.bootstrap, ctl.topic))
    assert [key for key, _ in records] == [b"cand-a", b"*"]
    on_topic = ControlRecord.model_validate_json(records[0][1] or b"")
    assert on_topic == ControlRecord.model_validate(printed)  # what was printed is what was written
    assert ControlRecord.model_validate_json(records[1][1] or b"").state == "paused"

    configs = asyncio.run(topic_configs(ctl.bootstrap, ctl.topic))
    assert configs["cleanup.policy"] == "compact"


def test_show_of_a_new_topic_lists_every_candidate_enabled(ctl: Ctl) -> None:
    rows = ctl.show()
    assert {k: (r["state"], r["record"]) for k, r in rows.items()} == {
        ALL: ("enabled", False),
        "cand-a": ("enabled", False),
        "cand-b": ("enabled", False),
    }
    table = ctl.ok("show").splitlines()
    assert table[0].split() == ["CANDIDATE", "STATE", "BY", "AT", "REASON"]
    assert [line.split()[0] for line in table[1:4]] == ["*", "cand-a", "cand-b"]
    assert all("(no record)" in line for line in table[1:4])


def test_kafka_unreachable_is_a_runtime_failure(tmp_path: Path) -> None:
    ctl = Ctl(tmp_path, "127.0.0.1:1")
    for args in (("disable", "cand-a", "--reason", "r"), ("show",)):
        done = ctl.run(*args)
        assert done.returncode == 1, done.stderr
        assert "shadow ctl: Kafka" in done.stderr and "failed" in done.stderr
        assert done.stdout == ""


async def topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


def test_summary_shows_what_is_disabled_or_paused_and_says_when_kafka_does_not_answer(ctl: Ctl, tmp_path: Path) -> None:
    data = yaml.safe_load(ctl.config.read_text())
    data["clickhouse"] = {"dsn": f"chdb:///{tmp_path / 'store'}", "database": "ctl_summary"}
    ctl.config.write_text(yaml.safe_dump(data))
    migrated = subprocess.run([*SHADOW, "migrate", "--config", str(ctl.config)], capture_output=True, text=True,
                              timeout=120)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr

    def summary(*args: str, config: Path = ctl.config) -> str:
        done = subprocess.run([*SHADOW, "summary", "--config", str(config), *args], capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    # A topic nobody wrote yet: every candidate enabled, and the summary does not create the topic.
    assert f"control ({ctl.topic}): every candidate enabled" in summary()
    assert ctl.topic not in asyncio.run(topics(ctl.bootstrap))
    ctl.ok("disable", "cand-b", "--reason", "bad JSON on invoices", "--by", "alice")
    ctl.ok("pause", "--all", "--reason", "provider incident", "--by", "bob")
    table = summary()
    lines = table[table.index(f"control ({ctl.topic}):") :].splitlines()
    assert lines[1].strip().startswith("every candidate paused by bob") and "provider incident" in lines[1]
    assert lines[2].strip().startswith("cand-b disabled by alice") and "bad JSON on invoices" in lines[2]
    shown = orjson.loads(summary("--format", "json"))["control"]
    assert [(c["candidate"], c["state"]) for c in shown["candidates"]] == [(ALL, "paused"), ("cand-b", "disabled")]
    assert "control (" not in summary("--no-control")
    # Kafka that does not answer is said, within the read timeout, and the figures still print.
    data["kafka"]["bootstrap_servers"] = "127.0.0.1:1"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data))
    assert f"control ({ctl.topic}): unknown:" in summary(config=broken)


def test_limits_set_at_run_time_keep_the_state_and_a_state_change_keeps_the_limits(ctl: Ctl) -> None:
    data = yaml.safe_load(ctl.config.read_text())
    data["prices"] = {"m": {"input_per_mtok": 1, "output_per_mtok": 2}}
    ctl.config.write_text(yaml.safe_dump(data))
    ctl.ok("pause", "cand-a", "--reason", "quota", "--by", "alice")
    out = ctl.ok("limit", "cand-a", "--rpm", "120", "--budget-day", "25", "--by", "bob")
    assert "cand-a paused by bob" in out and "rate_limit_rpm 120" in out and "budget_usd_per_day 25" in out
    records = asyncio.run(read_control(ctl.kafka))
    assert records["cand-a"].state == "paused" and records["cand-a"].reason == "quota"
    assert records["cand-a"].limits.rate_limit_rpm == 120 and records["cand-a"].limits.budget_usd_per_day == 25
    ctl.ok("limit", "cand-a", "--tpm", "50000")  # adds to what is set
    ctl.ok("enable", "cand-a")
    record = asyncio.run(read_control(ctl.kafka))["cand-a"]
    assert record.state == "enabled"
    assert (record.limits.rate_limit_rpm, record.limits.rate_limit_tpm) == (120, 50000)
    assert ctl.show()["cand-a"]["limits"] == {"rate_limit_rpm": 120.0, "rate_limit_tpm": 50000,
                                               "budget_usd_per_day": 25.0}  # fmt: skip
    assert "(limits: rate_limit_rpm 120" in ctl.ok("show")
    ctl.ok("limit", "cand-a", "--clear")
    assert asyncio.run(read_control(ctl.kafka))["cand-a"].limits.describe() == ""
    # Refused: no limit given, --all, a negative rate, a budget for a model without a price.
    for args in (["cand-a"], ["--all", "--rpm", "5"], ["cand-a", "--rpm", "-5"]):
        assert ctl.run("limit", *args).returncode == 2, args
    del data["prices"]
    ctl.config.write_text(yaml.safe_dump(data))
    refused = ctl.run("limit", "cand-b", "--budget-hour", "3")
    assert refused.returncode == 2 and "no price for m" in refused.stderr
