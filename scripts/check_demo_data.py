#!/usr/bin/env python3
"""Validate the bundled demo data set: ``shadow/demo/data/events.ndjson`` and ``shadow/demo/data/recordings.json``.

Re-reads both files as written by ``scripts/make_demo_data.py`` and checks that they hold what the demo needs: the event
count per workflow, the mirror event schema (v1) and both wire formats (OpenAI chat completions, Anthropic messages),
tool calls and JSON answers valid against their schemas, unique recording keys, a recorded answer per candidate model
(and per production model, for the control lane) for every key, and Chinese events answered in Chinese. Prints a
summary per workflow and per model, then every problem found; exits 1 when there is one.

Usage (from the repository root)::

    python scripts/check_demo_data.py

``jsonschema`` is used when it is importable, else a built-in subset validator. The constants, the recording key and
the refusal texts come from the generator, so both always agree.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict

from make_demo_data import (
    API_ANTHROPIC,
    API_OPENAI,
    API_RESPONSES,
    CJK,
    EVENTS_PATH,
    FAULTS,
    HAIKU,
    MINI,
    MODELS,
    NOW,
    PROD_ANTHROPIC,
    PROD_OPENAI,
    RECORDINGS_PATH,
    RESPONSES_WORKFLOWS,
    START,
    STREAMED_WORKFLOWS,
    WORKFLOWS,
    recording_key,
    user_texts,
)

try:
    import jsonschema  # type: ignore
except ImportError:  # pragma: no cover - depends on the environment
    jsonschema = None

EVENT_FIELDS = (  # noqa: SIM905  (a word list reads better than 14 lines of quoted names)
    "schema_version event_id occurred_at service environment workflow tenant subject api request response error "
    "latency_ms tags"
).split()
KNOWN_REFUSALS = (*MODELS["refusals"][MINI].values(), *MODELS["refusals"][HAIKU].values())


def _mini_validate(instance, schema, path="$") -> list[str]:
    """Small JSON-schema subset validator used when jsonschema is not installed."""
    t = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "number": (int, float)}
    if t in types and (
        not isinstance(instance, types[t]) or (isinstance(instance, bool) and t in ("integer", "number"))
    ):
        return [f"{path}: not of type {t}"]
    errs = [f"{path}: {instance!r} not in enum"] if "enum" in schema and instance not in schema["enum"] else []
    if t == "object":
        errs += [f"{path}: missing {key}" for key in schema.get("required", []) if key not in instance]
        for key, value in instance.items():
            if key in schema.get("properties", {}):
                errs += _mini_validate(value, schema["properties"][key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errs.append(f"{path}: unexpected {key}")
    if t == "array":
        for i, item in enumerate(instance):
            errs += _mini_validate(item, schema.get("items", {}), f"{path}[{i}]")
    return errs


def has_cjk(text: str | None) -> bool:
    return bool(text and CJK.search(text))


def check() -> None:
    def validate(instance, schema) -> list[str]:
        if jsonschema is not None:
            return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(instance)]
        return _mini_validate(instance, schema)

    problems: list[str] = []

    def need(cond, msg):
        if not cond:
            problems.append(msg)

    for path in (EVENTS_PATH, RECORDINGS_PATH):
        need(path.stat().st_size < 1_500_000, f"{path.name} is {path.stat().st_size} bytes (limit 1.5 MB)")
    events = [json.loads(line) for line in EVENTS_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    recordings = json.loads(RECORDINGS_PATH.read_text(encoding="utf-8"))

    # ---------------------------------------------------------------- events
    counts = Counter(e.get("workflow") for e in events)
    need(len(events) >= 230, f"only {len(events)} events")
    for wf, (*_, n) in WORKFLOWS.items():
        need(counts[wf] == n, f"{wf}: {counts[wf]} events, expected {n}")
    ids, keys, prev_ts = set(), {}, ""
    ts_re, id_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"), re.compile(r"^evt_[0-9A-HJKMNP-TV-Z]{26}$")
    for e in events:
        where, wf = e.get("event_id"), e["workflow"]
        streamed = wf in STREAMED_WORKFLOWS and e.get("response") is not None
        need(list(e) == EVENT_FIELDS + (["stream", "ttft_ms"] if streamed else []), f"{where}: fields {list(e)}")
        if streamed:
            need(e["stream"] is True and 0 < e["ttft_ms"] < e["latency_ms"], f"{where}: stream/ttft_ms")
        need(e["schema_version"] == 1, f"{where}: schema_version")
        need(bool(id_re.match(e["event_id"])) and e["event_id"] not in ids, f"{where}: bad or duplicate event_id")
        ids.add(e["event_id"])
        need(bool(ts_re.match(e["occurred_at"])), f"{where}: occurred_at format")
        ts = dt.datetime.strptime(e["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        need(START <= ts < NOW, f"{where}: occurred_at outside the window")
        need(e["occurred_at"] >= prev_ts, f"{where}: events not sorted by time")
        prev_ts = e["occurred_at"]
        service, api, model, _ = WORKFLOWS.get(wf, (None, None, None, 0))
        need(e["service"] == service and e["environment"] == "prod", f"{where}: service/environment")
        published = API_RESPONSES if wf in RESPONSES_WORKFLOWS else api
        need(e["api"] == published and e["request"].get("model") == model, f"{where}: api/model for {wf}")
        need(isinstance(e["tenant"], str) and isinstance(e["subject"], str), f"{where}: tenant/subject")
        tags_ok = isinstance(e["tags"], dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in e["tags"].items()
        )
        need(tags_ok, f"{where}: tags must be str->str")
        need(isinstance(e["latency_ms"], int) and 300 <= e["latency_ms"] <= 4000, f"{where}: latency_ms")
        if e["error"] is None:
            need(isinstance(e["response"], dict), f"{where}: response missing")
        else:
            need(e["response"] is None, f"{where}: failed event with a response")
            need(
                set(e["error"]) == {"status", "type", "message"} and e["error"]["status"] == 500,
                f"{where}: error shape",
            )
        key = recording_key(e["api"], e["request"])
        need(key not in keys, f"{where}: duplicate recording key {key} (also {keys.get(key, {}).get('event_id')})")
        keys[key] = e
        if e["api"] == API_RESPONSES:
            check_responses(e, need, validate)
        else:
            (check_openai if api == API_OPENAI else check_anthropic)(e, need, validate)

    # ---------------------------------------------------------------- recordings
    need(recordings.get("version") == 1, "recordings.version")
    models = recordings.get("models", {})
    expected_keys = {
        MINI: set(keys),
        HAIKU: set(keys),
        PROD_OPENAI: {k for k, e in keys.items() if e["api"] in (API_OPENAI, API_RESPONSES)},
        PROD_ANTHROPIC: {k for k, e in keys.items() if e["api"] == API_ANTHROPIC},
    }
    need(set(models) == set(expected_keys), f"recorded models {sorted(models)}")
    for model, exp in expected_keys.items():
        got = set(models.get(model, {}))
        need(got == exp, f"{model}: {len(exp - got)} keys missing, {len(got - exp)} unexpected")
    stats = defaultdict(Counter)
    for model, answers in models.items():
        for key, ans in answers.items():
            if key in keys:
                check_answer(model, keys[key], ans, need, validate, stats[model])

    for wf in WORKFLOWS:
        wf_events = [e for e in events if e["workflow"] == wf]
        cjk = sum(1 for e in wf_events if has_cjk("\n".join(user_texts(e["api"], e["request"]))))
        errors = sum(1 for e in wf_events if e["error"])
        print(f"  {wf:<20} {len(wf_events):>3} events, {cjk:>2} with Chinese user text, {errors} production errors")
    print(f"  {len(events)} events, {len(keys)} unique keys, {len({e['subject'] for e in events})} subjects")
    for model in models:
        s = stats[model]
        for wf in ("support_chat", "kb_answer"):
            n, total = s.pop(f"len_pct_n:{wf}", 0), s.pop(f"len_pct_sum:{wf}", 0)
            if n:
                s[f"avg_len_vs_prod:{wf}"] = f"{total / n:.0f}%"
        print(f"  {model:<27} " + ", ".join(f"{k}={v}" for k, v in sorted(s.items())))
    print(f"  jsonschema: {'used' if jsonschema else 'not installed, built-in subset validator used'}")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems[:60]:
            print("  -", p)
        raise SystemExit(1)
    print("check OK")


def _tool_schemas(event: dict) -> dict:
    tools = event["request"].get("tools", [])
    if event["api"] == API_RESPONSES:
        return {t["name"]: t["parameters"] for t in tools}
    if event["api"] == API_OPENAI:
        return {t["function"]["name"]: t["function"]["parameters"] for t in tools}
    return {t["name"]: t["input_schema"] for t in tools}


def _strict_ok(schema: dict) -> bool:
    """OpenAI strict mode: every object closed and with all its properties required."""
    if schema.get("type") == "object":
        closed = schema.get("additionalProperties") is False and set(schema.get("required", [])) == set(
            schema["properties"]
        )
        return closed and all(_strict_ok(v) for v in schema["properties"].values())
    return _strict_ok(schema["items"]) if schema.get("type") == "array" else True


def check_openai(e: dict, need, validate) -> None:
    where, req = e["event_id"], e["request"]
    msgs = req.get("messages")
    need(isinstance(msgs, list) and msgs and msgs[0]["role"] == "system", f"{where}: messages/system")
    seen_calls: set[str] = set()
    for m in msgs:
        need(m.get("role") in ("system", "user", "assistant", "tool"), f"{where}: role {m.get('role')}")
        c = m.get("content")
        if m["role"] == "user":
            need(
                isinstance(c, str) or (isinstance(c, list) and all(p.get("type") == "text" for p in c)),
                f"{where}: user content",
            )
        if m["role"] == "assistant":
            for tc in m.get("tool_calls") or []:
                need(tc["type"] == "function" and tc["id"].startswith("call_"), f"{where}: history tool_call shape")
                need(isinstance(json.loads(tc["function"]["arguments"]), dict), f"{where}: history arguments")
                seen_calls.add(tc["id"])
            need(c is not None or m.get("tool_calls"), f"{where}: empty assistant message")
        if m["role"] == "tool":
            need(m.get("tool_call_id") in seen_calls and isinstance(c, str), f"{where}: tool message")
    need(msgs[-1]["role"] in ("user", "tool"), f"{where}: last message role")
    schemas = _tool_schemas(e)
    if "tools" in req:
        need(req.get("tool_choice") in ("auto", "required", "none"), f"{where}: tool_choice")
        for t in req["tools"]:
            need(t["type"] == "function" and t["function"]["parameters"]["type"] == "object", f"{where}: tool def")
    if rf := req.get("response_format"):
        js = rf["json_schema"]
        need(rf["type"] == "json_schema" and js.get("strict") is True and js.get("name"), f"{where}: response_format")
        need(_strict_ok(js["schema"]), f"{where}: schema not valid for strict mode")
    if (r := e["response"]) is None:
        return
    envelope_ok = r["object"] == "chat.completion" and r["id"].startswith("chatcmpl-") and isinstance(r["created"], int)
    need(envelope_ok, f"{where}: response envelope")
    need(r["model"] == req["model"], f"{where}: response model")
    choice = r["choices"][0]
    msg, u = choice["message"], r["usage"]
    need(msg["role"] == "assistant" and "refusal" in msg, f"{where}: response message")
    need(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"], f"{where}: usage totals")
    if not msg.get("tool_calls"):
        need(isinstance(msg["content"], str) and choice["finish_reason"] == "stop", f"{where}: text message")
        if rf:
            try:
                errs = validate(json.loads(msg["content"]), rf["json_schema"]["schema"])
                need(not errs, f"{where}: production JSON violates schema: {errs}")
            except ValueError:
                need(False, f"{where}: production JSON does not parse")
        return
    need(msg["content"] is None and choice["finish_reason"] == "tool_calls", f"{where}: tool_calls message")
    for tc in msg["tool_calls"]:
        need(tc["id"].startswith("call_") and tc["type"] == "function", f"{where}: tool_call shape")
        need(isinstance(tc["function"]["arguments"], str), f"{where}: arguments must be a JSON string")
        try:
            args = json.loads(tc["function"]["arguments"])
        except ValueError:
            need(False, f"{where}: arguments do not parse")
            continue
        name = tc["function"]["name"]
        need(isinstance(args, dict), f"{where}: arguments not an object")
        need(name in schemas, f"{where}: unknown tool {name}")
        if name in schemas:
            errs = validate(args, schemas[name])
            need(not errs, f"{where}: production arguments invalid: {errs}")


def chat_view(e: dict) -> dict:
    """A Responses event read back as the chat completions call it was written from (to be checked as one)."""
    req, messages = e["request"], []
    if "instructions" in req:
        messages.append({"role": "system", "content": req["instructions"]})
    for item in req["input"]:
        kind = item.get("type", "message")
        if kind == "function_call":
            call = {"id": item["call_id"], "type": "function",
                    "function": {"name": item["name"], "arguments": item["arguments"]}}  # fmt: skip
            if messages and messages[-1]["role"] == "assistant":
                messages[-1].setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]})
        else:
            content = item["content"]
            if isinstance(content, list):
                content = [{"type": "text", "text": p["text"]} for p in content if p["type"] == "input_text"]
            messages.append({"role": item["role"], "content": content})
    chat = {key: value for key, value in req.items() if key not in ("input", "instructions", "tools")}
    chat["messages"] = messages
    if "tools" in req:
        chat["tools"] = [{"type": "function", "function": {k: v for k, v in t.items() if k != "type"}}
                         for t in req["tools"]]  # fmt: skip
    response = None
    if (r := e["response"]) is not None:
        texts = [p["text"] for item in r["output"] if item["type"] == "message" for p in item["content"]]
        calls = [{"id": item["call_id"], "type": "function",
                  "function": {"name": item["name"], "arguments": item["arguments"]}}
                 for item in r["output"] if item["type"] == "function_call"]  # fmt: skip
        message = {"role": "assistant", "content": "".join(texts) if texts else None, "refusal": None}
        if calls:
            message["tool_calls"] = calls
        finish = "tool_calls" if calls else "length" if r["status"] == "incomplete" else "stop"
        u = r["usage"]
        response = {
            "id": "chatcmpl-" + r["id"].removeprefix("resp_"), "object": "chat.completion", "created": r["created_at"],
            "model": r["model"], "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": u["input_tokens"], "completion_tokens": u["output_tokens"],
                      "total_tokens": u["total_tokens"]},
        }  # fmt: skip
    return {**e, "api": API_OPENAI, "request": chat, "response": response}


def check_responses(e: dict, need, validate) -> None:
    """The Responses wire shape, then every check of a chat completions event on the call it was written from."""
    where, req = e["event_id"], e["request"]
    need(isinstance(req.get("instructions"), str) and isinstance(req.get("input"), list), f"{where}: input")
    need("messages" not in req and all("function" not in t for t in req.get("tools", [])), f"{where}: chat fields")
    if (r := e["response"]) is not None:
        need(r["object"] == "response" and r["id"].startswith("resp_"), f"{where}: response envelope")
        need(r["status"] in ("completed", "incomplete") and r["model"] == req["model"], f"{where}: status/model")
        u = r["usage"]
        need(u["total_tokens"] == u["input_tokens"] + u["output_tokens"], f"{where}: usage totals")
    check_openai(chat_view(e), need, validate)


def check_anthropic(e: dict, need, validate) -> None:
    where, req = e["event_id"], e["request"]
    need(isinstance(req.get("max_tokens"), int) and isinstance(req.get("system"), str), f"{where}: max_tokens/system")
    msgs = req["messages"]
    need(msgs and msgs[0]["role"] == "user" and msgs[-1]["role"] == "user", f"{where}: first/last role")
    prev_tool_ids: set[str] = set()
    for i, m in enumerate(msgs):
        need(m["role"] == ("user" if i % 2 == 0 else "assistant"), f"{where}: roles must alternate")
        c = m["content"]
        need(isinstance(c, (str, list)), f"{where}: content type")
        for b in c if isinstance(c, list) else []:
            need(b.get("type") in ("text", "tool_use", "tool_result"), f"{where}: block type {b.get('type')}")
            if b["type"] == "tool_use":
                need(b["id"].startswith("toolu_") and isinstance(b["input"], dict), f"{where}: history tool_use")
            if b["type"] == "tool_result":
                need(b["tool_use_id"] in prev_tool_ids, f"{where}: tool_result without tool_use")
        if isinstance(c, list):
            prev_tool_ids = {b["id"] for b in c if b["type"] == "tool_use"}
    for t in req.get("tools", []):
        need(t.get("name") and t.get("description") and t["input_schema"]["type"] == "object", f"{where}: tool def")
    if (r := e["response"]) is None:
        return
    need(r["type"] == "message" and r["role"] == "assistant" and r["id"].startswith("msg_"), f"{where}: envelope")
    need(r["model"] == req["model"] and r["stop_sequence"] is None, f"{where}: model/stop_sequence")
    need(all(isinstance(r["usage"][k], int) for k in ("input_tokens", "output_tokens")), f"{where}: usage")
    blocks = r["content"]
    uses = [b for b in blocks if b["type"] == "tool_use"]
    need(all(b["type"] in ("text", "tool_use") for b in blocks) and blocks, f"{where}: content blocks")
    need(r["stop_reason"] == ("tool_use" if uses else "end_turn"), f"{where}: stop_reason")
    schemas = _tool_schemas(e)
    for b in uses:
        need(b["id"].startswith("toolu_") and isinstance(b["input"], dict), f"{where}: tool_use block")
        need(b["name"] in schemas and not validate(b["input"], schemas[b["name"]]), f"{where}: tool_use input invalid")


def check_answer(model: str, e: dict, ans: dict, need, validate, st: Counter) -> None:
    where = f"{model}/{e['event_id']}"
    if ans.get("kind") == "fault":
        need(ans.get("fault") in FAULTS and isinstance(ans.get("latency_ms"), int), f"{where}: fault shape")
        st["fault:" + ans["fault"]] += 1
        return
    need(ans.get("kind") == "ok", f"{where}: kind")
    keys = {"kind", "text", "tool_calls", "finish_reason", "usage", "latency_ms", "ttft_ms"}
    need(set(ans) == keys, f"{where}: answer keys")
    need(isinstance(ans["ttft_ms"], int) and 0 < ans["ttft_ms"] < ans["latency_ms"], f"{where}: ttft_ms")
    text, calls, u = ans["text"], ans["tool_calls"], ans["usage"]
    need(text is None or isinstance(text, str), f"{where}: text")
    need(ans["finish_reason"] in ("stop", "length", "tool_calls"), f"{where}: finish_reason")
    need((ans["finish_reason"] == "tool_calls") == bool(calls), f"{where}: finish_reason vs tool_calls")
    need(isinstance(ans["latency_ms"], int) and 0 < ans["latency_ms"] < 3000, f"{where}: latency {ans['latency_ms']}")
    need(
        set(u) == {"input_tokens", "output_tokens"} and all(isinstance(v, int) and v >= 0 for v in u.values()),
        f"{where}: usage",
    )
    need(text is not None or calls, f"{where}: empty answer")
    schemas, invalid_args = _tool_schemas(e), False
    for c in calls:
        need(isinstance(c.get("name"), str), f"{where}: tool name")
        if "arguments_raw" in c:
            need(set(c) == {"name", "arguments_raw"} and isinstance(c["arguments_raw"], str), f"{where}: arguments_raw")
            st["tool_args_not_json"] += 1
        else:
            need(set(c) == {"name", "arguments"} and isinstance(c["arguments"], dict), f"{where}: arguments")
            invalid_args |= c["name"] not in schemas or bool(validate(c["arguments"], schemas[c["name"]]))
    if invalid_args:
        st["answers_with_schema_invalid_tool_args"] += 1
    if ans["finish_reason"] == "length":
        st["finish_length"] += 1
    if text in KNOWN_REFUSALS:
        st["refusal"] += 1
        return
    prod_text = None
    if e["response"] is not None and e["api"] == API_RESPONSES:
        prod_text = chat_view(e)["response"]["choices"][0]["message"]["content"]
    elif e["response"] is not None and e["api"] == API_OPENAI:
        prod_text = e["response"]["choices"][0]["message"]["content"]
    elif e["response"] is not None:
        prod_text = "".join(b["text"] for b in e["response"]["content"] if b["type"] == "text") or None
    if e["workflow"] == "invoice_extraction":
        try:
            if validate(json.loads(text), e["request"]["response_format"]["json_schema"]["schema"]):
                st["json_schema_invalid"] += 1
        except (TypeError, ValueError):
            st["json_invalid"] += 1
        return
    last_user = "\n".join(user_texts(e["api"], e["request"])[-1:])
    if text and not calls and ((has_cjk(last_user) and e["workflow"] != "travel_agent") or has_cjk(prod_text)):
        need(has_cjk(text), f"{where}: Chinese event answered without Chinese text")
    if (
        prod_text
        and text
        and not calls
        and e["workflow"] in ("support_chat", "kb_answer")
        and ans["finish_reason"] == "stop"
    ):
        st[f"len_pct_sum:{e['workflow']}"] += round(100 * len(text) / len(prod_text))
        st[f"len_pct_n:{e['workflow']}"] += 1


if __name__ == "__main__":
    check()
