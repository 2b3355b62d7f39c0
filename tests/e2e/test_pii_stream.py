"""Acceptance of issue 12: a seeded-PII stream through a running worker on the real Kafka broker.

240 events carry e-mail addresses, phone numbers, card numbers, IBANs, API keys, social security
numbers and people's names: in prose answers, JSON answers (as values, as keys, as JSON numbers),
tool-call arguments, candidate error messages, schema enums, tags, subject, tenant and Kafka keys,
and 40 of them are malformed (not JSON, not an event, not UTF-8, oversized). The worker runs as a
user runs it (``shadow run``, DEBUG logs, /metrics served), then ``shadow summary``, ``shadow report``
and ``shadow rescore`` run on what it stored. No seeded value, in any of the forms it was written,
appears in a ClickHouse row (every table of the database), a dead letter (value, key, headers), a
log line, the metrics page, the summary or the report. Redacted JSON answers still parse, and
rescore finds the same JSON validity as the live run.

Names in free prose have no shape a rule can find: the configuration names them (a custom rule,
added to the built-in ones) and the JSON field that carries them (``json_paths``), as the README says.
"""

from __future__ import annotations

import asyncio
import os
import random
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from aiohttp import web
from aiokafka import AIOKafkaConsumer

from shadow.storage.store import ClickHouseStore
from tests.conftest import ClickHouseTarget, _free_port, unique
from tests.e2e.hostile import HostileCandidate, Reply, running
from tests.factories import event_bytes, make_event, openai_request, openai_response
from tests.integration.test_kafka_pipeline import create_topic, publish

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

SHADOW = [sys.executable, "-m", "shadow"]
VALID, MALFORMED = 200, 40
NAMES = ["Marguerite Okonkwo-Lindqvist", "Thaddeus Villanueva-Brandt", "Ingrid Oyelaran-Petrov",
         "Bartholomew Achterberg-Nakamura", "Perpetua Castellanos-Whitfield"]  # fmt: skip


def luhn_complete(body: str) -> str:
    total = 0
    for i, char in enumerate(reversed(body)):
        digit = int(char) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return body + str((10 - total % 10) % 10)


def german_iban(rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    number = int("".join(str(int(c, 36)) for c in bban + "DE00"))
    return f"DE{98 - number % 97:02d}{bban}"


def grouped(text: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(text[i : i + size] for i in range(0, len(text), size))


class Seeds:
    """The personal values of one event, and every form in which a leak of them would show."""

    def __init__(self, i: int, rng: random.Random) -> None:
        self.i = i
        self.name = NAMES[i % len(NAMES)]
        first, last = self.name.split(" ")
        self.email = f"{first.lower()}.{last.lower()}{i}@mail-{i % 7}.example.org"
        self.phones = [f"+44 20 794{i % 10} {1000 + i:04d}", f"(020) 794{i % 10} {1000 + i:04d}",
                       f"+1 415-555-{1000 + i:04d}", f"0170 {3000000 + i:07d}"]  # fmt: skip
        self.card = luhn_complete("4" + "".join(rng.choice(string.digits) for _ in range(14)))
        self.iban = german_iban(rng)
        self.api_key = "sk-proj-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(28))
        self.aws_key = "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
        self.ssn = f"{rng.randint(100, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"

    def prose(self) -> str:
        return (
            f"Dear {self.name}, we wrote to {self.email} and will call {self.phones[self.i % 4]}. "
            f"Card {grouped(self.card)} is blocked; refunds go to {grouped(self.iban)}. "
            f"Your SSN {self.ssn} is on file. Never share {self.api_key} or {self.aws_key}."
        )

    def forms(self) -> list[str]:
        """Every string whose presence anywhere would be a leak."""
        phone_forms = [p for phone in self.phones for p in (phone, "".join(c for c in phone if c.isdigit()))]
        return [
            self.name, self.name.split(" ")[1], self.email, self.email.split("@")[0],
            *phone_forms, self.card, grouped(self.card), grouped(self.card, sep="-"),
            self.iban, grouped(self.iban), self.api_key, self.aws_key, self.ssn, self.ssn.replace("-", ""),
        ]  # fmt: skip


JSON_SCHEMA = {
    "type": "object",
    "properties": {"customer_name": {"type": "string"}, "age": {"type": "integer"}, "email": {"type": "string"},
                   "card": {"type": "integer"}, "iban": {"type": "string"}, "phone": {"type": "string"}},
    "required": ["customer_name", "email"],
}  # fmt: skip
TOOLS = [{"type": "function", "function": {"name": "lookup_customer", "parameters": {
    "type": "object", "properties": {"customer_name": {"type": "string"}, "email": {"type": "string"},
                                     "card": {"type": "string"}}}}}]  # fmt: skip


def build_stream(seed: int = 12) -> tuple[list[tuple[bytes | None, bytes]], list[Seeds], HostileCandidate]:
    """The messages to publish, the seeds they carry, and the candidate that answers them."""
    rng = random.Random(seed)
    candidate = HostileCandidate()
    messages: list[tuple[bytes | None, bytes]] = []
    all_seeds: list[Seeds] = []
    for i in range(VALID):
        s = Seeds(i, rng)
        all_seeds.append(s)
        case = f"pii_{i:03d}"
        kind = ("prose", "json", "tool", "keys_json", "error")[i % 5]
        user = f"[case:{case}] Hi, I am {s.name} ({s.email}, {s.phones[0]}); my card {s.card}, IBAN {s.iban}."
        request = openai_request(user)
        if kind == "prose":
            response = openai_response(s.prose())
            candidate.replies[case] = Reply(text=s.prose().replace("blocked", "frozen"))
        elif kind == "json":
            schema = {**JSON_SCHEMA, "properties": {**JSON_SCHEMA["properties"], "email": {"enum": [s.email]}}}
            request = openai_request(user, response_format={"type": "json_schema", "json_schema": {
                "name": "customer", "schema": schema}})  # fmt: skip
            production = {"customer_name": s.name, "age": 41, "email": s.email, "card": int(s.card),
                          "iban": s.iban, "phone": s.phones[1], "note": f"escaped:\n{s.email}"}  # fmt: skip
            answer = {**production, "age": s.email, "phone": s.phones[2]}  # age: a schema error quoting the e-mail
            response = openai_response(orjson.dumps(production, option=orjson.OPT_INDENT_2).decode())
            candidate.replies[case] = Reply(text=orjson.dumps(answer).decode())
        elif kind == "tool":
            request = openai_request(user, tools=TOOLS)
            args = {"customer_name": s.name, "email": s.email, "card": grouped(s.card, sep="-")}
            response = openai_response(None, tool_calls=[("lookup_customer", args)])
            candidate.replies[case] = Reply(
                text=None, tool_calls=(("lookup_customer", {**args, "email": s.phones[3]}),)
            )
        elif kind == "keys_json":  # personal data as JSON keys: the differing paths quote them
            response = openai_response(orjson.dumps({s.email: 1, s.iban: [s.ssn], s.name: s.api_key}).decode())
            candidate.replies[case] = Reply(
                text=orjson.dumps({s.email: 2, s.iban: [s.ssn], s.name: s.aws_key}).decode()
            )
        else:  # the candidate refuses the call with an error that quotes the request
            response = openai_response(s.prose())
            candidate.specials[case] = error_quoting(s)
        event = make_event(
            event_id=f"evt_pii_{i:03d}", request=request, response=response, subject=s.email, tenant=s.email,
            tags={"prompt_version": "v7", "customer_email": s.email, "callback": s.phones[0], s.name: "vip"},
        )  # fmt: skip
        messages.append((f"{s.email}|{i}".encode(), event_bytes(event)))
    for j in range(MALFORMED):
        s = all_seeds[j]
        malformed = j % 4
        if malformed == 0:  # not JSON
            value = b'{"event_id": "bad", "request": "' + s.prose().encode() + b'"'
        elif malformed == 1:  # JSON, not an event
            bad = make_event(event_id=f"evt_bad_{j}", text=s.prose(), subject=s.email)
            bad["occurred_at"] = s.email
            value = event_bytes(bad)
        elif malformed == 2:  # not UTF-8
            value = b"\xff\xfe" + s.prose().encode() + b"\xc3"
        else:  # oversized (over pipeline.max_event_bytes below)
            value = event_bytes(make_event(event_id=f"evt_big_{j}", text=(s.prose() + " ") * 400))
        messages.append((s.email.encode(), value))
    random.Random(seed + 1).shuffle(messages)
    return messages, all_seeds, candidate


def error_quoting(s: Seeds) -> Any:
    async def answer(request: web.Request) -> web.StreamResponse:
        body = {"error": {"message": f"Invalid 'user' {s.email} / {s.phones[0]} with key {s.api_key}",
                          "type": "invalid_request_error"}}  # fmt: skip
        return web.Response(status=400, body=orjson.dumps(body), content_type="application/json")

    return answer


def write_config(path: Path, *, bootstrap: str, topic: str, group: str, ch: ClickHouseTarget, database: str,
                 base_url: str) -> Path:  # fmt: skip
    clickhouse: dict[str, Any] = {"dsn": ch.dsn, "database": database, "flush_interval_s": 0.2}
    if ch.username:
        clickhouse["username"] = ch.username
    config = {
        "source": {"kind": "kafka"},
        "kafka": {"bootstrap_servers": bootstrap, "topic": topic, "group_id": group, "commit_interval_s": 0.2},
        "clickhouse": clickhouse,
        "pipeline": {"max_in_flight": 32, "max_event_bytes": 32_768},
        "sampling": {"default_rate": 1.0},
        "redaction": {
            # Names have no shape: the operator names the JSON field and writes a rule for the prose.
            "json_paths": ["$..customer_name"],
            "rules": [{"name": "person", "pattern": "|".join(NAMES)}],
        },
        "candidates": [
            {
                "name": "cand",
                "provider": "openai",
                "base_url": base_url + "/v1",
                "model": "gpt-4.1-mini",
                "timeout_s": 5,
                "max_retries": 0,
            }
        ],
    }
    path.write_text(yaml.safe_dump(config))
    return path


async def read_dead_letters(bootstrap: str, topic: str, expected: int) -> list[str]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=None, fetch_max_bytes=8 << 20, max_partition_fetch_bytes=8 << 20)  # fmt: skip
    await consumer.start()
    texts: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while len(texts) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    headers = " ".join(f"{k}={v.decode('utf-8', 'replace')}" for k, v in record.headers)
                    key = (record.key or b"").decode("utf-8", "replace")
                    texts.append(f"{key}\n{headers}\n{record.value.decode('utf-8', 'replace')}")
    finally:
        await consumer.stop()
    return texts


def dump_database(ch: ClickHouseTarget, database: str) -> tuple[str, list[dict[str, Any]]]:
    """Every row of every table of the database as text, and the comparison rows (FINAL)."""
    with ClickHouseStore(ch.settings(database)) as store:
        columns: dict[str, list[str]] = {}
        for table, column, kind in store.query_rows(
            f"SELECT table, name, type FROM system.columns WHERE database = '{database}'"
        ):
            if not kind.startswith("AggregateFunction"):  # rollup states: numbers, and not readable by chDB
                columns.setdefault(table, []).append(f"`{column}`")
        assert {"comparisons", "ingest_log"} <= set(columns)
        text = "\n".join(
            str(row)
            for table, names in columns.items()
            for row in store.query_rows(f"SELECT {', '.join(names)} FROM {database}.`{table}`")
        )
        rows = store.query_dicts(f"SELECT * FROM {database}.comparisons FINAL")
    return text, rows


def leaked(texts: dict[str, str], seeds: list[Seeds]) -> list[tuple[str, str]]:
    found = []
    for where, text in texts.items():
        lowered = text.lower()
        for seed in seeds:
            found += [(where, form) for form in seed.forms() if form.lower() in lowered]
    return found


def metrics_page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def records_seen(page: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in page.splitlines() if line.startswith("shadow_records_total{"))


@pytest.mark.timeout(400)
def test_a_seeded_pii_stream_leaves_no_personal_value_anywhere(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    topic, group, database = unique("pii"), unique("shadow"), unique("pii")
    messages, seeds, candidate = build_stream()
    assert len(messages) == VALID + MALFORMED >= 200
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=3))
    asyncio.run(publish(kafka_bootstrap, topic, messages))
    env = {**os.environ, "SHADOW_REDACTION_KEY": "e2e-redaction-key-0123456789"}
    port = _free_port()
    with running(candidate):
        config = write_config(tmp_path / "shadow.yaml", bootstrap=kafka_bootstrap, topic=topic, group=group,
                              ch=clickhouse, database=database, base_url=candidate.base_url)  # fmt: skip
        log_path = tmp_path / "worker.log"
        with log_path.open("w") as log:
            worker = subprocess.Popen(
                [*SHADOW, "run", "--config", str(config), "--log-level", "DEBUG", "--stop-after-idle", "5",
                 "--metrics-port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            page, deadline = "", time.monotonic() + 180
            while time.monotonic() < deadline and worker.poll() is None:
                try:
                    page = metrics_page(port)
                except OSError:
                    page = ""
                if records_seen(page) >= len(messages):
                    break
                time.sleep(0.3)
            assert records_seen(page) >= len(messages), log_path.read_text()[-3000:]
            assert worker.wait(120) == 0, log_path.read_text()[-3000:]
        requests = [body for _, case, body in candidate.received if case.startswith("pii_")]
    assert len(requests) == VALID, sorted({case for _, case, _ in candidate.received})[:5]  # every valid event replayed

    stored, rows = dump_database(clickhouse, database)
    letters = asyncio.run(read_dead_letters(kafka_bootstrap, f"{topic}.dlq", MALFORMED))
    assert len(letters) == MALFORMED
    assert len(rows) == VALID and {r["status"] for r in rows} == {"ok", "candidate_error"}
    cli = {
        "summary": ["summary", "--config", str(config)],
        "summary-json": ["summary", "--config", str(config), "--format", "json"],
        "summary-wide": ["summary", "--config", str(config), "--wide"],
        "report": ["report", "--config", str(config), "--output", str(tmp_path / "report.html")],
        # A tenant filter in clear finds the rows stored under its token (the same key as the worker's).
        "summary-tenant": ["summary", "--config", str(config), "--format", "json", "--tenant", seeds[0].email],
    }
    outputs, stdouts = {}, {}
    for name, args in cli.items():
        done = subprocess.run([*SHADOW, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs[name], stdouts[name] = done.stdout + done.stderr, done.stdout
    outputs["report.html"] = (tmp_path / "report.html").read_text()
    one_tenant = orjson.loads(stdouts["summary-tenant"])
    assert one_tenant["candidates"][0]["compared"] == 1, one_tenant
    assert "evt_pii" in outputs["report.html"] or "Worst examples" in outputs["report.html"]

    # Nothing seeded anywhere, in any form it was written.
    texts = {"clickhouse": stored, "dead letters": "\n".join(letters), "log": log_path.read_text(),
             "metrics": page, **outputs}  # fmt: skip
    assert texts["log"].count("dead letter") >= MALFORMED  # each one logged, with its (redacted) reason
    found = leaked(texts, seeds)
    assert found == [], sorted(set(found))[:40]
    assert "[EMAIL:" in stored and "[IBAN:" in stored and "[PHONE:" in stored and "[SECRET:" in stored
    assert "[PERSON:" in stored and "[FIELD:" in stored and "[SSN:" in stored
    assert "[EMAIL:" in texts["dead letters"]

    # Redacted JSON answers still parse; equal values kept equal tokens (the e-mail in both answers).
    json_rows = [r for r in rows if r["production_json_valid"] and r["status"] == "ok"]
    assert len(json_rows) >= 60
    for row in json_rows:
        production = orjson.loads(row["production_text"])
        if row["candidate_json_valid"]:
            candidate_answer = orjson.loads(row["candidate_text"])
            if "email" in production:
                assert production["email"] == candidate_answer["email"]  # same address, same token
                assert production["customer_name"].startswith("[FIELD:")
                assert isinstance(production["card"], int)  # a card written as a number stays a number

    # rescore on the stored rows finds the JSON validity the live run found.
    live = {(r["event_id"], r["candidate"]): (r["production_json_valid"], r["candidate_json_valid"]) for r in rows}
    done = subprocess.run([*SHADOW, "rescore", "--config", str(config)], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    _, rescored = dump_database(clickhouse, database)
    assert {(r["event_id"], r["candidate"]): (r["production_json_valid"], r["candidate_json_valid"])
            for r in rescored} == live  # fmt: skip
    assert min(r["row_version"] for r in rescored) > max(r["row_version"] for r in rows)
