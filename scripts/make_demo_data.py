#!/usr/bin/env python3
"""Generate the bundled demo data set used by ``shadow demo``.

Writes two files (both are rewritten on every run, byte-for-byte deterministic):

* ``shadow/demo/data/events.ndjson``   -- ~230 mirror events (schema v1) that look like six hours of production LLM
  traffic of a company using OpenAI and Anthropic models for five workflows.
* ``shadow/demo/data/recordings.json`` -- the answers the local demo candidate server returns, per (model, key), for
  the candidate models and the control lane (production model replayed against itself).

The content lives in ``scripts/demo_content/`` (its README.md describes every file): system prompts, KB articles and
long answers as plain text; conversations, invoices and their layouts, travel and order scripts, request settings,
rewording tables, candidate quirks and the plan of injected differences as JSON. This program is the logic: one
seeded RNG drawn in a fixed order, conversations replayed into requests in both wire formats, token and latency
estimates, candidate variations. Any change to content or logic changes the output: regenerate, run the check
(``scripts/check_demo_data.py``), and commit the two data files with the change.

Usage (from the repository root)::

    python scripts/make_demo_data.py           # regenerate both files
    python scripts/check_demo_data.py          # re-read both files and validate them

Only the standard library is used (the check uses ``jsonschema`` when it is importable). Nothing is imported from the
``shadow`` package on purpose: the generator must keep working while the package evolves.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import random
import re
from collections import Counter
from pathlib import Path

SEED = 20261123
ROOT = Path(__file__).resolve().parent.parent
CONTENT = Path(__file__).resolve().parent / "demo_content"
DATA_DIR = ROOT / "shadow" / "demo" / "data"
EVENTS_PATH, RECORDINGS_PATH = DATA_DIR / "events.ndjson", DATA_DIR / "recordings.json"
NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)
START = NOW - dt.timedelta(hours=6)
DEPLOY_AT = dt.datetime(2026, 11, 23, 8, 40, 0, tzinfo=dt.UTC)  # events before the deploy carry the old release

PROD_OPENAI, PROD_ANTHROPIC = "gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022"
MINI, HAIKU = "gpt-4.1-mini", "claude-haiku-4-5"
API_OPENAI, API_ANTHROPIC = "openai.chat.completions", "anthropic.messages"
API_RESPONSES = "openai.responses"
RESPONSES_WORKFLOWS = ("travel_agent",)
"""Workflows whose service calls OpenAI's Responses API: their calls are made as chat completions, then written
in the Responses wire format (``as_responses``), so the sample has all three APIs."""
WORKFLOWS = {  # workflow -> (service, api, production model, number of events)
    "support_chat": ("support-api", API_OPENAI, PROD_OPENAI, 72),
    "invoice_extraction": ("billing-extractor", API_OPENAI, PROD_OPENAI, 50),
    "travel_agent": ("travel-agent", API_OPENAI, PROD_OPENAI, 40),
    "kb_answer": ("kb-search", API_ANTHROPIC, PROD_ANTHROPIC, 40),
    "order_assistant": ("order-bot", API_ANTHROPIC, PROD_ANTHROPIC, 30),
}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
LOWER_ALNUM, HEX = "abcdefghijklmnopqrstuvwxyz0123456789", "0123456789abcdef"
CJK = re.compile("[\u3000-\u9fff\uff00-\uffef]")


def load(name: str) -> dict:
    return json.loads((CONTENT / name).read_text(encoding="utf-8"))


def load_sections(name: str) -> dict[str, str]:
    """A text file of ``=== key ===`` sections separated by one blank line; text before the first one is a note."""
    parts = re.split(r"(?:^|\n\n)=== (.+) ===\n", (CONTENT / name).read_text(encoding="utf-8").removesuffix("\n"))
    return dict(zip(parts[1::2], parts[2::2], strict=True))


PROMPTS, LONG_ANSWERS = load_sections("prompts.txt"), load_sections("long_answers.txt")
KB_DOCS = {k.partition(" | ")[0]: (k.partition(" | ")[2], text) for k, text in load_sections("kb_docs.txt").items()}
SUPPORT, INVOICES, LAYOUTS = load("support.json"), load("invoices.json"), load("invoice_layouts.json")
TRAVEL, KB, ORDERS = load("travel.json"), load("kb.json"), load("orders.json")
WORDS, MODELS = load("paraphrase.json"), load("models.json")
VENDORS = {v["key"]: v for v in INVOICES["en_vendors"] + INVOICES["receipt_vendors"] + INVOICES["zh_vendors"]}
REQUESTS = {wf: c["request"] for wf, c in zip(WORKFLOWS, (SUPPORT, INVOICES, TRAVEL, KB, ORDERS), strict=True)}
FAULTS, VENDOR_SUFFIXES = tuple(MODELS["fault_latency_ms"]), tuple(MODELS["vendor_suffixes"])
RNG = random.Random(SEED)


# --- Recording key (must match the demo candidate server) -------------------------------------------------------


def user_texts(api: str, request: dict) -> list[str]:
    """Texts of all user-role messages, in order: string content, or the text parts / text blocks of a list (so
    ``tool_result`` blocks are ignored). Same rule for every wire format (Responses: the ``input`` items, or the
    ``input`` string); system and ``tool`` messages never count."""
    turns = request.get("input", []) if api == API_RESPONSES else request.get("messages", [])
    if isinstance(turns, str):
        return [turns]
    texts: list[str] = []
    for message in turns:
        content = message.get("content") if message.get("role") == "user" else None
        if isinstance(content, str):
            texts.append(content)
        for p in content if isinstance(content, list) else []:
            if isinstance(p, dict) and p.get("type") in ("text", "input_text") and isinstance(p.get("text"), str):
                texts.append(p["text"])
    return texts


def recording_key(api: str, request: dict) -> str:
    return hashlib.sha256("\n".join(user_texts(api, request)).encode("utf-8")).hexdigest()[:16]


# --- Small helpers ------------------------------------------------------------------------------------------------


def rand_str(alphabet: str, n: int, rng: random.Random = RNG) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def ulid(ts: dt.datetime) -> str:
    ms, head = int(ts.timestamp() * 1000), ""
    for _ in range(10):
        head, ms = CROCKFORD[ms % 32] + head, ms // 32
    return head + rand_str(CROCKFORD, 16)


def est_tokens(text: str) -> int:
    """Rough token estimate: ~4 chars/token for Latin text, ~1.5 chars/token for CJK."""
    cjk = len(CJK.findall(text or ""))
    return max(1, round(cjk / 1.5 + (len(text) - cjk) / 4)) if text else 0


def jdump(obj, **kw) -> str:
    return json.dumps(obj, ensure_ascii=False, **kw)


def compact(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def money(x: float) -> float:
    return round(x + 1e-9, 2)


def num(x):
    """Whole amounts are written without a fractional part, as a model would."""
    return int(x) if float(x).is_integer() else x


def pick(options: list, rng: random.Random):
    """One of ``options``; the RNG is only drawn when there is a choice."""
    return rng.choice(options) if len(options) > 1 else options[0]


def draw(spec: dict, rng: random.Random) -> dict:
    """Named random values from content (``{"name": {"randint": [lo, hi]} | {"choice": [...]}}``), drawn in order."""
    return {k: rng.randint(*d["randint"]) if "randint" in d else rng.choice(d["choice"]) for k, d in spec.items()}


# --- Paraphrasing (derives candidate answers from production's; tables in paraphrase.json) -------------------------

SUBS = {"en": [tuple(s) for s in WORDS["en_subs"]], "zh": [(re.escape(p), r) for p, r in WORDS["zh_subs"]]}
CONNECTIVES, QMARKS = tuple(WORDS["connectives"]), ("?", "？")
EN_SPLIT = re.compile(r"(?<=[.!?])(?<!p\.m\.)(?<!a\.m\.)(?<!e\.g\.)(?<!i\.e\.)\s+(?=[A-Z0-9\"'(\[*])")


def text_lang(lang: str) -> str:
    """Paraphrase tables: 'mixed' answers are Chinese sentences with English terms."""
    return "en" if lang == "en" else "zh"


def paraphrase(text: str, lang: str, rng: random.Random, n: int = 3) -> str:
    """Apply ``n`` random applicable substitutions in one pass (no chaining)."""
    table = [(p, r) for p, r in SUBS[text_lang(lang)] if re.search(p, text)]
    if not table or n <= 0:
        return text
    tokens = {}
    for i, (pattern, repl) in enumerate(rng.sample(table, min(n, len(table)))):
        new = re.sub(pattern, f"\x00{i}\x00", text, count=1)
        if new != text:
            tokens[f"\x00{i}\x00"], text = repl, new
    for token, repl in tokens.items():
        text = text.replace(token, repl)
    return text


def split_sentences(text: str, lang: str) -> list[str]:
    if text_lang(lang) == "en":
        return [p for p in EN_SPLIT.split(text.strip()) if p] or [text]
    return [p for p in re.findall(r"[^。！？!?]+[。！？!?]?", text.strip()) if p.strip()] or [text]


def join_sentences(parts: list[str], lang: str) -> str:
    return " ".join(p.strip() for p in parts) if text_lang(lang) == "en" else "".join(parts)


def tiny_paraphrase(text: str, lang: str, rng: random.Random) -> str:
    """One word changed or two adjacent sentences swapped (control lane)."""
    if "\n" not in text and rng.random() < 0.3 and len(parts := split_sentences(text, lang)) >= 3:
        i = rng.randrange(1, len(parts) - 1)
        a, b = parts[i].strip(), parts[i + 1].strip()
        if not (a.startswith(CONNECTIVES) or b.startswith(CONNECTIVES) or a.endswith(QMARKS) or b.endswith(QMARKS)):
            parts[i], parts[i + 1] = parts[i + 1], parts[i]
            return join_sentences(parts, lang)
    for n in (1, 2):
        if (new := paraphrase(text, lang, rng, n)) != text:
            return new
    return text


def shorten(text: str, lang: str, rng: random.Random) -> str:
    """A somewhat shorter answer (~60-90% of the length): drop a trailing sentence and reword a little."""
    parts = split_sentences(text, lang)
    if text_lang(lang) == "zh" and parts[0].startswith("您好，") and rng.random() < 0.5:
        parts[0] = parts[0][len("您好，") :]
    for drop in (len(parts) - 1, len(parts) - 2):
        kept = parts[:drop] + parts[drop + 1 :]
        if len(parts) >= 3 and drop >= 1 and len(join_sentences(kept, lang)) >= 0.6 * len(text):
            parts = kept
            break
    return paraphrase(join_sentences(parts, lang), lang, rng, n=rng.randint(1, 3))


def lengthen(text: str, lang: str, rng: random.Random, style: dict, user_text: str, first_turn: bool) -> str:
    """Add an opener / closer / extra sentence from ``style`` until the text is longer by the style's range."""
    tl = text_lang(lang)
    base = bare = paraphrase(text, lang, rng, n=rng.randint(1, 2))
    for greeting in WORDS["zh_greetings"]:
        if tl == "zh" and base.startswith(greeting):
            bare = base[len(greeting) :]
    complaint = any(w in user_text.lower() for w in WORDS["complaint_markers"])
    apologizes = any(w in split_sentences(text, lang)[0].lower() for w in WORDS["apology_markers"])
    fits = {  # when an opener of each kind fits
        "any": True,
        "first": first_turn,
        "later": not first_turn,
        "question": "?" in user_text or "？" in user_text,
        "details": est_tokens(user_text) >= 22,
        "empathy": complaint and not apologizes,
    }
    ops = [o.partition("|")[2] for o in style["openers"][tl] if fits[o.partition("|")[0]]] or [None]
    asks = text.rstrip().endswith(QMARKS)
    cls = [c for c in style["closers"][tl] if not (asks and c.rstrip().endswith(QMARKS))] or [None]
    extras, target, best = style["extras"][tl], len(text) * rng.uniform(*style["range"]), None
    for _ in range(40):
        op = rng.choice(ops) if rng.random() < 0.75 else None
        cl = rng.choice(cls) if rng.random() < 0.8 else None
        ex = rng.choice(extras) if extras and rng.random() < 0.5 else None
        pieces = ([op] if op else []) + [bare if op else base] + [p for p in (ex, cl) if p]
        cand = (" " if tl == "en" else "").join(pieces)
        if best is None or abs(len(cand) - target) < abs(len(best) - target):
            best = cand
    return best


# --- Invoices (layouts in invoice_layouts.json) -------------------------------------------------------------------


def fmt_money(x: float, fmt: str | None, unit: bool = False) -> str:
    if fmt == "jp":
        return f"{round(x):,}"
    s = f"{x:,.3f}" if unit and round(x, 2) != x else f"{x:,.2f}"
    return s.replace(",", "X").replace(".", ",").replace("X", ".") if fmt == "de" else s


def fmt_date(d: dt.date, style: str) -> str:
    return INVOICES["date_styles"][style].format(date=d)


def rmb_upper(amount: float) -> str:
    """Amount in Chinese capital numerals, as on the 价税合计（大写） line of a fapiao."""
    digits, cents = "零壹贰叁肆伍陆柒捌玖", round(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10

    def four(n: int) -> str:
        out, pending_zero = "", False
        for power, unit in ((3, "仟"), (2, "佰"), (1, "拾"), (0, "")):
            if d := n // 10**power % 10:
                out, pending_zero = out + ("零" if pending_zero else "") + digits[d] + unit, False
            else:
                pending_zero = bool(out)
        return out

    text = ""
    for group, unit in ((yuan // 10**8, "亿"), (yuan // 10**4 % 10**4, "万"), (yuan % 10**4, "")):
        if group < 1000 and text and not text.endswith("零"):
            text += "零"
        text += four(group) + unit if group else ""
    text = text.rstrip("零") + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        return text + "整"
    text += digits[jiao] + "角" if jiao else ("零" if text else "")
    return text + (digits[fen] + "分" if fen else "")


def render_lines(lines: list, ctx: dict, items: list[dict]) -> list[str]:
    out = []
    for line in lines:
        if isinstance(line, str):
            out.append(line.format(**ctx))
        elif isinstance(line, list):  # cells: a template, or [template, format spec]
            out.append(
                "".join(c.format(**ctx) if isinstance(c, str) else format(c[0].format(**ctx), c[1]) for c in line)
            )
        elif "each" in line:
            out += [s for item in items for s in render_lines(line["each"], ctx | item, items)]
        else:
            out += render_lines(line["then"] if ctx[line["if"]] else line.get("else", []), ctx, items)
    return out


def render_invoice(v: dict, layout: str, inv: dict, lines: list[dict], rng: random.Random) -> str:
    spec, fmt = LAYOUTS[layout], v.get("fmt")  # no fmt: the fapiao templates format raw numbers themselves

    def m(x):
        return x if fmt is None else fmt_money(x, fmt)

    total, rate = inv["total"], v["tax_rate"]
    ctx = {**v, **spec.get("vars", {}), **inv, **draw(spec.get("draw", {}), rng)}
    ctx |= {
        "date_s": fmt_date(inv["date"], v["date_style"]),
        "rate_pct": f"{rate * 100:g}",
        "has_tax": bool(rate),
        "reverse_charge": "reverse charge" in v["taxid"],
        "subtotal": m(inv["subtotal"]),
        "tax": m(inv["tax"]),
        "total": m(total),
        "zero": m(0),
        "incl": m(total - total / (1 + rate)),  # tax included in a receipt's total
        "total_upper": rmb_upper(total),
        "buyer_first": inv["buyer"].split()[0],
        "NAME": v["name"].upper(),
        "TAX_LABEL": v.get("tax_label", "").upper(),
    }
    items = []
    for i, ln in enumerate(lines, 1):
        price, qty = ln["price"], ln["qty"]
        fields = {"i": i, "price": m(price), "unit_price": fmt_money(price, fmt, unit=True)}
        items.append(ln | fields | {"amount": m(qty * price), "multi": qty > 1})
    text = "\n".join(render_lines(LAYOUTS[spec.get("same_as", layout)]["lines"], ctx, items))
    for a, b in spec.get("ocr_noise", []):
        if a in text and rng.random() < 0.6:
            text = text.replace(a, b, 1)
    return text


def pick_items(vendor: dict, rng: random.Random, n_lo: int = 1, n_hi: int = 5) -> list[dict]:
    pool, out = vendor["items"], []
    for i in sorted(rng.sample(range(len(pool)), rng.randint(min(n_lo, len(pool)), min(n_hi, len(pool))))):
        qlo, qhi = pool[i]["qty"]
        qty = rng.randint(qlo, qhi)
        if qhi >= 200:  # round big quantities like a real bill would
            qty = max(qlo, round(qty, -1) if qhi < 5000 else round(qty, -2))
        out.append(pool[i] | {"qty": qty})
    return out


def build_invoices(rng: random.Random) -> list[dict]:
    """Invoice specs: {lang, tenant, vendor, layout, text, expected, tax_rate, subtotal}."""
    specs, used = [], set()

    def new_number(v: dict, d: dt.date) -> str:
        """The vendor's number template filled with drawn values (again, until no other invoice has the number)."""
        spec = INVOICES["number_draws"][v.get("lang", "en")]
        while (number := v["num"].format(**draw(spec, rng), y=d.year, m=d.month)) in used:
            pass
        used.add(number)
        return number

    def sampled(vendors: list[dict]) -> list[tuple]:
        return [(v, layout) for v in vendors for layout in rng.sample(v["layouts"], 2)]

    plan = sampled(INVOICES["en_vendors"]) + [(v, "receipt") for v in INVOICES["receipt_vendors"] for _ in range(2)]
    plan += [(VENDORS[key], layout) for key, layout in INVOICES["extra_invoices"]] + sampled(INVOICES["zh_vendors"])
    for v, layout in plan:
        lang, d = v.get("lang", "en"), dt.date(2026, 10, 19) + dt.timedelta(days=rng.randint(0, 34))
        tenant = pick(INVOICES["tenants"][lang], rng)
        buyer, number = INVOICES["buyers"][tenant], new_number(v, d)
        if lang == "zh":  # fapiao: tax per line, a note
            lines = pick_items(v, rng, 1, 4)
            for ln in lines:
                ln["line_tax"] = money(money(ln["qty"] * ln["price"]) * v["tax_rate"])
            subtotal = money(sum(money(ln["qty"] * ln["price"]) for ln in lines))
            tax = money(sum(ln["line_tax"] for ln in lines))
            values = draw(INVOICES["zh_notes"]["draw"], rng)
            extra = {"note": rng.choice(INVOICES["zh_notes"]["choices"]).format(**values)}
        elif layout == "receipt":  # tax included; vendors with optional items bill every item once, those sometimes
            if "optional_items" in v:
                optional = v["optional_items"]
                lines = [it | {"qty": 1} for it in v["items"] if it["desc"] not in optional or rng.random() < 0.5]
            else:
                lines = pick_items(v, rng, 2, 4)
            subtotal, tax = money(sum(ln["qty"] * ln["price"] for ln in lines)), 0.0
        else:
            lines = pick_items(v, rng)
            subtotal = money(sum(money(ln["qty"] * ln["price"]) for ln in lines))
            if v["currency"] == "JPY":
                subtotal = float(round(subtotal))
                tax = float(int(subtotal * v["tax_rate"]))
            else:
                tax = money(subtotal * v["tax_rate"])
        if lang == "en":
            due = fmt_date(d + dt.timedelta(days=30), v["date_style"])
            extra = {"due_s": due, "terms": rng.choice(INVOICES["terms"])}
        total = subtotal if layout == "receipt" else money(subtotal + tax)
        inv = {**buyer, "number": number, "date": d, "subtotal": subtotal, "tax": tax, "total": total, **extra}
        items = [{"description": ln["desc"], "quantity": ln["qty"], "unit_price": num(ln["price"])} for ln in lines]
        expected = {
            "vendor": v["name"],
            "invoice_number": number,
            "issue_date": d.isoformat(),
            "currency": v["currency"],
            "total": num(total),
            "line_items": items,
        }
        text = render_invoice(v, layout, inv, lines, rng)
        spec = {"lang": lang, "tenant": tenant, "vendor": v["key"], "layout": layout, "text": text}
        specs.append(spec | {"expected": expected, "tax_rate": v["tax_rate"], "subtotal": subtotal})
    rng.shuffle(specs)
    return specs


# --- Production cases: one list of cases per conversation ----------------------------------------------------------


def wire_messages(api: str, kind: str, payload: list, ids: list[str] | None) -> list[dict]:
    """One step of a conversation as messages in the wire format of ``api`` (also the message of a response).
    ``ids`` are the tool call ids of a call step, or of the call a result step answers."""
    text, openai = payload[0], api == API_OPENAI
    if kind == "user":
        return [{"role": "user", "content": text}]
    if kind == "assistant":
        return [{"role": "assistant", "content": text if openai else [{"type": "text", "text": text}]}]
    if kind == "call" and openai:
        calls = [{"name": n, "arguments": compact(a)} for n, a in payload[1]]
        calls = [{"id": i, "type": "function", "function": f} for i, f in zip(ids, calls, strict=True)]
        return [{"role": "assistant", "content": text, "tool_calls": calls}]
    if kind == "call":
        uses = [{"type": "tool_use", "id": i, "name": n, "input": a} for i, (n, a) in zip(ids, payload[1], strict=True)]
        return [{"role": "assistant", "content": ([{"type": "text", "text": text}] if text else []) + uses}]
    results = [(i, compact(r)) for i, r in zip(ids, text, strict=True)]  # a result step
    if openai:
        return [{"role": "tool", "tool_call_id": i, "content": r} for i, r in results]
    return [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": i, "content": r} for i, r in results]}]


def new_case(workflow: str, conv: dict, messages: list[dict], ref: str, step: tuple) -> dict:
    """A mirrored call: the request of ``messages`` (the workflow's request template with its nulls filled: messages,
    system, or from ``conv``) and production's output, ``step`` = (kind, payload, ids): an assistant text or calls."""
    _, api, model, _ = WORKFLOWS[workflow]
    (kind, payload, ids), fill = step, conv | {"messages": messages}
    request = {"model": model} | {k: copy.deepcopy(fill[k] if v is None else v) for k, v in REQUESTS[workflow].items()}
    calls = []
    if kind == "call":
        calls = [{"id": c, "name": n, "arguments": copy.deepcopy(a)} for c, (n, a) in zip(ids, payload[1], strict=True)]
    out = {"text": payload[0], "tool_calls": calls, "finish_reason": "tool_calls" if calls else "stop"}
    meta = {"ref": ref, "kind": "tools" if calls else "text", "parallel": len(calls) > 1, "tags": conv["tags"]}
    case = {"workflow": workflow, "api": api} | {k: conv[k] for k in ("tenant", "lang", "subject")}
    return case | {"request": request, "out": out, "step": step, "meta": meta, "error": None}


def replay(workflow: str, conv: dict, rng: random.Random) -> list[dict]:
    """The cases of one conversation: its ``steps`` replayed into messages in the workflow's wire format, after its
    ``system`` prompt; each step whose index is in ``events`` is production's output for a mirrored request."""
    api = WORKFLOWS[workflow][1]
    messages, ids, cases = [{"role": "system", "content": conv["system"]}] if api == API_OPENAI else [], {}, []
    for i, (kind, *payload) in enumerate(conv["steps"]):
        if kind == "call":
            prefix, alphabet, n = ("call_", ALNUM, 24) if api == API_OPENAI else ("toolu_01", BASE58, 22)
            ids[i] = [prefix + rand_str(alphabet, n, rng) for _ in payload[1]]
        if i in conv["events"]:
            cases.append(new_case(workflow, conv, messages, f"{conv.get('id')}#{i}", (kind, payload, ids.get(i))))
        messages += wire_messages(api, kind, payload, ids.get(i, ids.get(i - 1)))
    return cases


def text_parts(text: str, share: float, rng: random.Random) -> str | list[dict]:
    """User content as a plain string, or (a ``share`` of the time) as a list of one text part."""
    return [{"type": "text", "text": text}] if rng.random() < share else text


def build_support_cases(rng: random.Random) -> list[list[dict]]:
    convs = []
    for src in SUPPORT["conversations"]:
        tenant, subject = SUPPORT["tenants"][src["tenant"]], "chat_" + rand_str(LOWER_ALNUM, 16, rng)
        tags = {"prompt_version": tenant["prompt_version"], "channel": rng.choice(tenant["channels"])}
        steps = [[kind, text] for turn in src["turns"] for kind, text in zip(("user", "assistant"), turn, strict=True)]
        conv = src | tenant | {"subject": subject, "system": PROMPTS["support/" + src["tenant"]], "tags": tags}
        convs.append(replay("support_chat", conv | {"steps": steps, "events": range(1, len(steps), 2)}, rng))
        for turn, case in enumerate(convs[-1]):
            case["meta"] |= {"ref": f"{src['id']}#{turn}", "turn": turn}
    return convs


def build_invoice_cases(rng: random.Random) -> list[list[dict]]:
    convs = []
    for spec in build_invoices(rng):
        subject, layout = "doc_" + rand_str(HEX, 20, rng), LAYOUTS[spec["layout"]]
        head = f"Extract the invoice fields from this document.\nSource: {rng.choice(layout['sources'])}\n"
        text = text_parts(f"{head}Document ID: {subject}\n\n-----\n{spec['text']}\n-----", 0.3, rng)
        steps = [["user", text], ["assistant", compact(spec["expected"])]]
        tags = {"prompt_version": INVOICES["prompt_version"], "source": layout["source_tag"]}
        conv = spec | {"subject": subject, "system": PROMPTS["invoice"], "tags": tags | {"doc_layout": spec["layout"]}}
        convs.append(replay("invoice_extraction", conv | {"steps": steps, "events": [1]}, rng))
        convs[-1][0]["meta"] |= {"ref": f"invoice:{spec['expected']['invoice_number']}", "kind": "json"}
        convs[-1][0]["meta"] |= {k: spec[k] for k in ("expected", "layout", "vendor", "subtotal", "tax_rate")}
    return convs


def build_travel_cases(rng: random.Random) -> list[list[dict]]:
    convs = []
    for script in TRAVEL["scripts"]:
        subject = "trip_" + rand_str(LOWER_ALNUM, 14, rng)
        system = PROMPTS["travel"].format(company=TRAVEL["companies"][script["tenant"]])
        conv = script | {"subject": subject, "system": system, "tags": {"prompt_version": TRAVEL["prompt_version"]}}
        convs.append(replay("travel_agent", conv, rng))
    return convs


def build_kb_cases(rng: random.Random) -> list[list[dict]]:
    convs = []
    for i, qa in enumerate(KB["qa"]):
        subject, product, ids = "kbs_" + rand_str(LOWER_ALNUM, 16, rng), KB["products"][qa["tenant"]], qa["docs"]
        steps = [["user", text_parts(qa["question"], 0.35, rng)], ["assistant", qa["answer"]]]
        head = PROMPTS["kb/" + product["lang"]].format(product=product["name"], first_doc=ids[0])
        docs = "\n".join(f'<document id="{d}" title="{KB_DOCS[d][0]}">\n{KB_DOCS[d][1]}\n</document>' for d in ids)
        tags = {"prompt_version": product["prompt_version"], "retriever": KB["retriever"], "top_k": str(len(ids))}
        conv = qa | {"subject": subject, "system": f"{head}\n\n<documents>\n{docs}\n</documents>", "tags": tags}
        convs.append(replay("kb_answer", conv | {"steps": steps, "events": [1]}, rng))
        convs[-1][0]["meta"]["ref"] = f"kb#{i}"
    return convs


def build_order_cases(rng: random.Random) -> list[list[dict]]:
    convs = []
    for script in ORDERS["scripts"]:
        subject, tenant = "ord_thread_" + rand_str(LOWER_ALNUM, 12, rng), script["tenant"]
        tags, events = {"prompt_version": ORDERS["prompt_versions"][tenant]}, [len(script["steps"]) - 1]
        conv = script | {"subject": subject, "system": PROMPTS["orders/" + tenant], "tags": tags, "events": events}
        convs.append(replay("order_assistant", conv, rng))
    return convs


# --- Token usage, latency and production events -------------------------------------------------------------------


def content_text(content) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = []
    for p in content:
        if p.get("type") == "text":
            parts.append(p["text"])
        elif p.get("type") == "tool_use":
            parts.append(p["name"] + compact(p["input"]))
        elif p.get("type") == "tool_result":
            parts.append(p["content"] if isinstance(p.get("content"), str) else content_text(p.get("content")))
    return "\n".join(parts)


def request_tokens(api: str, req: dict) -> int:
    n = 3
    if api == API_OPENAI:
        for m in req["messages"]:
            n += 4 + est_tokens(content_text(m.get("content")))
            for tc in m.get("tool_calls") or []:
                n += 3 + est_tokens(tc["function"]["name"] + tc["function"]["arguments"])
        if "tools" in req:
            n += round(est_tokens(compact(req["tools"])) * 0.7)
        if (rf := req.get("response_format")) and rf.get("type") == "json_schema":
            n += round(est_tokens(compact(rf["json_schema"])) * 0.6)
        return n
    n += est_tokens(req.get("system") or "") + sum(4 + est_tokens(content_text(m["content"])) for m in req["messages"])
    return n + (346 + round(est_tokens(compact(req["tools"])) * 0.8) if "tools" in req else 0)


def output_tokens(text, tool_calls) -> int:
    n = est_tokens(text or "")
    for tc in tool_calls:
        n += 8 + est_tokens(tc["name"]) + est_tokens(tc.get("arguments_raw") or compact(tc.get("arguments")))
    return max(n, 1)


def prod_latency(api: str, in_tok: int, out_tok: int, tools: bool, rng: random.Random) -> int:
    if api == API_OPENAI:
        base = (280 + out_tok * 10 + in_tok * 0.06) if tools else (330 + out_tok * 14 + in_tok * 0.05)
    else:
        base = (520 + out_tok * 13 + in_tok * 0.05) if tools else (560 + out_tok * 17 + in_tok * 0.04)
    ms = base * rng.uniform(0.85, 1.25)
    if rng.random() < 0.08:  # provider-side tail latency
        ms *= rng.uniform(1.4, 2.2)
    return int(clamp(3950 - rng.uniform(0, 350) if ms > 3950 else ms, 300, 4000))


def openai_body(case: dict, created: int, in_tok: int, out_tok: int, rng: random.Random) -> dict:
    message = wire_messages(API_OPENAI, *case["step"])[0] | {"refusal": None, "annotations": []}
    cached = 0
    if in_tok >= 1024 and (case["meta"].get("turn", 0) > 0 or rng.random() < 0.5):
        cached = min(max(1024, (in_tok - rng.randint(40, 400)) // 128 * 128), in_tok // 128 * 128)
    details = ("reasoning_tokens", "audio_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens")
    return {
        "id": "chatcmpl-" + rand_str(ALNUM, 29, rng),
        "object": "chat.completion",
        "created": created,
        "model": PROD_OPENAI,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": case["out"]["finish_reason"]}],
        "usage": {
            "prompt_tokens": in_tok,
            "completion_tokens": out_tok,
            "total_tokens": in_tok + out_tok,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": dict.fromkeys(details, 0),
        },
        "service_tier": "default",
        "system_fingerprint": rng.choice(MODELS["production"]["openai_fingerprints"]),
    }


def anthropic_body(case: dict, in_tok: int, out_tok: int, rng: random.Random) -> dict:
    return {
        "id": "msg_01" + rand_str(BASE58, 22, rng),
        "type": "message",
        "role": "assistant",
        "model": PROD_ANTHROPIC,
        "content": wire_messages(API_ANTHROPIC, *case["step"])[0]["content"],
        "stop_reason": "tool_use" if case["out"]["tool_calls"] else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": in_tok,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": out_tok,
        },
    }


def assign_times(convs: list[list[dict]], rng: random.Random) -> None:
    for cases in convs:
        gaps = [rng.uniform(25, 210) for _ in range(len(cases) - 1)]
        lo, hi, u = START.timestamp() + 30, NOW.timestamp() - sum(gaps) - 30, rng.random()
        if cases[0]["tenant"] != "stark-cn":
            u = max(u, rng.random())  # US/EU traffic ramps up towards the end of the window (12:00 UTC)
        t = lo + (hi - lo) * u
        for case, gap in zip(cases, [*gaps, 0], strict=True):
            case["t"] = dt.datetime.fromtimestamp(round(t * 1000) / 1000, tz=dt.UTC)
            t += gap


def render_event(case: dict, rng: random.Random) -> dict:
    api, ts, out = case["api"], case["t"], case["out"]
    in_tok, out_tok = request_tokens(api, case["request"]), output_tokens(out["text"], out["tool_calls"])
    case["prod_in"] = in_tok
    latency = case["prod_latency"] = prod_latency(api, in_tok, out_tok, bool(out["tool_calls"]), rng)
    response, error = None, None
    if case["error"]:
        error, latency = case["error"], rng.randint(900, 3600)
    elif api == API_OPENAI:
        response = openai_body(case, int(ts.timestamp()), in_tok, out_tok, rng)
    else:
        response = anthropic_body(case, in_tok, out_tok, rng)
    return {
        "schema_version": 1,
        "event_id": "evt_" + ulid(ts),
        "occurred_at": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
        "service": WORKFLOWS[case["workflow"]][0],
        "environment": "prod",
        "workflow": case["workflow"],
        "tenant": case["tenant"],
        "subject": case["subject"],
        "api": api,
        "request": case["request"],
        "response": response,
        "error": error,
        "latency_ms": latency,
        "tags": case["meta"]["tags"] | {"release": "2026.11.3" if ts >= DEPLOY_AT else "2026.11.2"},
    }


# --- Candidate answers (recordings); the quirks and the plan are in models.json -------------------------------------


def cut_to_tokens(text: str, max_tok: int) -> str:
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if est_tokens(text[:mid]) <= max_tok else (lo, mid - 1)
    return text[:lo]


def reorder_keys(d: dict, rng: random.Random) -> dict:
    keys = perm = list(d)
    for _ in range(10 if len(keys) >= 2 else 0):
        perm = keys[:]
        rng.shuffle(perm)
        if perm != keys:
            break
    return {k: d[k] for k in perm}


def cand_latency(model: str, out_tok: int, rng: random.Random, prod_latency_ms: int = 0) -> int:
    if model == MINI:
        return int(clamp((180 + out_tok * 6 + rng.uniform(0, 250)) * rng.uniform(0.9, 1.15), 200, 2500))
    if model == HAIKU:
        return int(clamp((300 + out_tok * 7.5 + rng.uniform(0, 300)) * rng.uniform(0.9, 1.15), 300, 2950))
    ms = prod_latency_ms * rng.uniform(0.8, 1.2)
    return int(clamp(2950 - rng.uniform(0, 250) if ms > 2950 else ms, 250, 2950))


def cand_input_tokens(model: str, case: dict) -> int:
    base, tools = case["prod_in"], 346 if "tools" in case["request"] else 0
    if model == MINI and case["api"] == API_ANTHROPIC:
        return round((base - tools) * 0.93)
    if model == HAIKU and case["api"] == API_OPENAI:
        return round(base * 1.1) + tools
    return base


def invoice_text(case: dict, label: str, rng: random.Random) -> tuple[str, str]:
    """(text, finish_reason) of an invoice answer with the injected difference ``label``."""
    obj = copy.deepcopy(case["meta"]["expected"])
    if label == "trailing_comma":
        s = compact(obj)
        return (s[:-3] + "},]}" if s.endswith("}]}") else s[:-1] + ",}"), "stop"
    if label == "truncated_length":
        items = [compact(it) for it in obj["line_items"]]
        s = compact({k: v for k, v in obj.items() if k != "line_items"})[:-1] + ',"line_items":[' + ",".join(items)
        while est_tokens(s) < 800:
            s += "," + items[-1]
        return cut_to_tokens(s, 800), "length"
    if label in MODELS["fenced_json"]:
        style = MODELS["fenced_json"][label][text_lang(case["lang"])]
        pre, post = pick(style["pre"], rng), pick(style["post"], rng)
        return f"{pre}\n\n```json\n{jdump(obj, indent=2)}\n```{post}", "stop"
    if label == "desc_prefix":
        for it in obj["line_items"]:
            it["description"] = f"*{VENDORS[case['meta']['vendor']]['cat']}*{it['description']}"
        return jdump(obj, indent=2), "stop"
    if label == "total_string":
        obj["total"] = f"{obj['total']:,.2f}" if obj["currency"] != "JPY" else f"{obj['total']:,}"
    elif label == "missing_key":
        obj.pop(rng.choice(["invoice_number", "issue_date"]))
    elif label == "vendor_variant":
        suffix = next((s for s in VENDOR_SUFFIXES if obj["vendor"].endswith(s)), "")
        obj["vendor"] = obj["vendor"][: len(obj["vendor"]) - len(suffix)]
    elif label == "total_excl_tax":
        obj["total"] = num(case["meta"]["subtotal"])
    else:
        raise ValueError(label)
    return compact(obj), "stop"


def vary_calls(label: str | None, calls: list[dict], rng: random.Random) -> list[dict]:
    """Tool calls (copies of production's) with the injected difference ``label``."""
    if label in MODELS["arg_edits"]:  # one argument (at the path ``arg``) spelled, typed or left out differently
        spec = MODELS["arg_edits"][label]
        *path, key = spec["arg"]
        for call in [c for c in calls if spec["tool"] in (None, c["name"])]:
            obj = call["arguments"]
            for p in path:
                obj = obj[p]
            if key not in obj:
                continue
            if "format" in spec:
                obj[key] = spec["format"].format(obj[key])
            elif obj[key] in spec.get("drop", []):
                del obj[key]
            else:
                obj[key] = spec["map"].get(obj[key], obj[key])
    elif label == "drop_parallel":
        calls = calls[:-1]
    elif label == "rename_arg":
        name, args = calls[0]["name"], calls[0]["arguments"]
        old, new = rng.choice([(o, n) for o, n in MODELS["rename_args"][name] if o in args])
        for c in calls:
            if c["name"] == name and old in c["arguments"]:
                c["arguments"] = {(new if k == old else k): v for k, v in c["arguments"].items()}
    elif label == "retype_arg":
        args = calls[0]["arguments"]
        key = rng.choice([k for k in MODELS["retype_args"]["args"] if k in args])
        if isinstance(args[key], str):  # a date, in another format
            args[key] = rng.choice(MODELS["retype_args"]["dates"]).format(date=dt.date.fromisoformat(args[key]))
        else:
            args[key] = str(args[key])
    elif label == "invalid_args_json":
        raw = compact(calls[-1]["arguments"])
        calls[-1] = {"name": calls[-1]["name"], "arguments_raw": raw[: max(8, len(raw) * 2 // 3)]}
    elif label == "lookup_first":  # look the order up instead of refunding it (once per order)
        unique = {}
        for c in calls:
            lookup = {"name": "lookup_order", "arguments": {"order_id": c["arguments"].get("order_id")}}
            call = lookup if c["name"] == "refund_order" else c
            unique.setdefault((call["name"], compact(call["arguments"])), call)
        calls = list(unique.values())
    return calls


def make_plan(cases: list[dict], rng: random.Random) -> dict[str, dict[int, str]]:
    """Which events get which injected difference, per model: the steps are in models.json, the pools are here."""

    def wf(name: str) -> list[dict]:
        return [c for c in cases if c["workflow"] == name]

    def calling(pool: list[dict], pred) -> list[dict]:
        return [c for c in pool if any(pred(tc) for tc in c["out"]["tool_calls"])]

    invoices, orders = wf("invoice_extraction"), wf("order_assistant")
    travel = [c for c in wf("travel_agent") if c["meta"]["kind"] == "tools"]
    flights = calling(travel, lambda tc: tc["name"] == "search_flights")
    pools = {
        "everything": cases,
        "openai": [c for c in cases if c["api"] == API_OPENAI],
        "anthropic": [c for c in cases if c["api"] == API_ANTHROPIC],
        "invoices": invoices,
        "en_invoices": [c for c in invoices if c["lang"] == "en"],
        "zh_invoices": [c for c in invoices if c["lang"] == "zh"],
        "big_total_invoices": [c for c in invoices if c["meta"]["expected"]["total"] >= 1000],
        "taxed_invoices": [c for c in invoices if c["meta"]["tax_rate"] > 0 and c["meta"]["layout"] != "receipt"],
        "suffixed_vendor_invoices": [  # vendor_variant drops the suffix
            c for c in invoices if c["lang"] == "en" and c["meta"]["expected"]["vendor"].endswith(VENDOR_SUFFIXES)
        ],
        "fapiao_invoices": [c for c in invoices if c["meta"]["layout"] in ("zh_special", "zh_normal")],
        "travel_calls": travel,
        "parallel_travel_calls": [c for c in travel if c["meta"]["parallel"]],
        "flight_calls": flights,
        "one_passenger_flight_calls": calling(flights, lambda tc: tc["arguments"].get("passengers") == 1),
        "weather_calls": calling(travel, lambda tc: tc["name"] == "get_weather"),
        "city_calls": calling(
            travel, lambda tc: tc["arguments"].get("city") in MODELS["arg_edits"]["city_country"]["map"]
        ),
        "refunds": calling(orders, lambda tc: tc["name"] == "refund_order"),
        "address_changes": calling(orders, lambda tc: tc["name"] == "update_address"),
        "kb_answers": wf("kb_answer"),
    }
    plan = {}
    for model, steps in MODELS["plan"].items():
        chosen = plan[model] = {}
        for label, pool, n in steps:
            if pool == "ref":  # one named event
                chosen[next(c["idx"] for c in cases if c["meta"]["ref"] == n)] = label
                continue
            free = [c for c in pools[pool] if c["idx"] not in chosen]
            for c in rng.sample(free, n if isinstance(n, int) else round(len(pools[pool]) * n)):  # n: count or share
                chosen[c["idx"]] = label
    return plan


def calls_of(out: dict) -> list[dict]:
    return [{"name": tc["name"], "arguments": copy.deepcopy(tc["arguments"])} for tc in out["tool_calls"]]


def tool_preamble(calls: list[dict], lang: str, rng: random.Random) -> str:
    """A short sentence before tool calls: per tool and number of calls ("n": more), or "multi" for several tools."""
    names, table = [c["name"] for c in calls], MODELS["preambles"][text_lang(lang)]
    if len(set(names)) > 1:
        return pick(table["multi"], rng)
    return pick(table[names[0]].get(str(len(names)), table[names[0]]["n"]), rng)


def mini_variant(case: dict, label: str | None, rng: random.Random) -> tuple:
    wf, out, lang, kind = case["workflow"], case["out"], case["lang"], case["meta"]["kind"]
    text, calls, finish = out["text"], calls_of(out), out["finish_reason"]
    if kind == "json":
        text, finish = invoice_text(case, label, rng) if label else (text, "stop")
    elif kind == "text" and wf == "support_chat":
        text = shorten(text, lang, rng)
    elif kind == "text" and wf == "kb_answer":
        text = paraphrase(text, lang, rng, n=rng.randint(2, 3))
        if len(parts := split_sentences(text, lang)) >= 3 and rng.random() < 0.4:
            text = join_sentences(parts[:-1], lang)
        if label == "no_citations":
            text = re.sub(r"\s?\[[a-z]+-[a-z0-9]+-\d\d\]", "", text)
    elif kind == "text":
        text = shorten(text, lang, rng) if rng.random() < 0.5 else paraphrase(text, lang, rng, 2)
    else:  # tool calls: usually no content; keeps a short preface sometimes when production had one
        text = paraphrase(text, lang, rng, 1) if text and rng.random() < 0.7 else None
        calls = vary_calls(label, calls, rng)
        text = None if label == "lookup_first" else text
    return text, calls, finish


def haiku_variant(case: dict, label: str | None, rng: random.Random) -> tuple:
    wf, out, lang, kind = case["workflow"], case["out"], case["lang"], case["meta"]["kind"]
    text, calls, finish = out["text"], calls_of(out), out["finish_reason"]
    if kind == "json" and label:
        text, finish = invoice_text(case, label, rng)
    elif kind == "json":
        text = jdump(case["meta"]["expected"], indent=2) if rng.random() < 0.5 else text
    elif kind == "text":
        last_user = user_texts(case["api"], case["request"])[-1]
        text = lengthen(text, lang, rng, WORDS["lengthen"][wf], last_user, case["meta"].get("turn", 0) == 0)
    else:  # tool calls
        calls = vary_calls(label, calls, rng)
        if label == "lookup_first":
            text = MODELS["lookup_first"][text_lang(lang)]
        elif wf == "order_assistant" and text and rng.random() < 0.7:
            text = paraphrase(text, lang, rng, 2)
        elif rng.random() < (0.6 if wf == "order_assistant" else 0.4):
            text = tool_preamble(calls, lang, rng)
    return text, calls, finish


def control_variant(case: dict, label: str | None, rng: random.Random) -> tuple:
    """The production model replayed: the same answer, or (label "paraphrase") a tiny variation of it."""
    out, lang, kind = case["out"], case["lang"], case["meta"]["kind"]
    text, calls = out["text"], calls_of(out)
    if label == "paraphrase" and kind == "json":
        obj = reorder_keys(case["meta"]["expected"], rng)
        if rng.random() < 0.5:
            obj["line_items"] = [reorder_keys(it, rng) for it in obj["line_items"]]
        text = compact(obj)
    elif label == "paraphrase" and (kind == "text" or (text and rng.random() < 0.5)):
        text = tiny_paraphrase(text, lang, rng)
    elif label == "paraphrase":
        calls = [{"name": c["name"], "arguments": reorder_keys(c["arguments"], rng)} for c in calls]
        if all(len(c["arguments"]) < 2 for c in calls) and text:
            text = tiny_paraphrase(text, lang, rng)
    return text, calls, out["finish_reason"]


def candidate_answer(model: str, case: dict, label: str | None, rng: random.Random) -> dict:
    """A fault (every fault latency range is drawn, in order, whichever the fault), a refusal, a long answer cut at
    ``max_tokens``, or the model's variant of production's output; with its usage and latency."""
    ref, max_tokens = case["meta"]["ref"], case["request"].get("max_tokens")
    if label in FAULTS:
        latency = {k: v if isinstance(v, int) else rng.randint(*v) for k, v in MODELS["fault_latency_ms"].items()}
        return {"kind": "fault", "fault": label, "latency_ms": latency[label]}
    if label == "refusal":
        text, calls, finish = MODELS["refusals"][model][ref], [], "stop"
    elif label == "length":
        text, calls, finish = cut_to_tokens(LONG_ANSWERS[ref], max_tokens), [], "length"
    else:
        text, calls, finish = {MINI: mini_variant, HAIKU: haiku_variant}.get(model, control_variant)(case, label, rng)
    out_tok = max_tokens if label == "length" else output_tokens(text, calls)
    usage = {"input_tokens": cand_input_tokens(model, case), "output_tokens": out_tok}
    answer = {"kind": "ok", "text": text, "tool_calls": calls, "finish_reason": finish, "usage": usage}
    return answer | {"latency_ms": cand_latency(model, out_tok, rng, case["prod_latency"])}


# --- Generation ---------------------------------------------------------------------------------------------------


def sub_rng(name: str) -> random.Random:
    """Independent deterministic stream per concern, all derived from the one seeded RNG."""
    return random.Random(f"{SEED}:{name}:{RNG.random()}")


def generate() -> tuple[list[dict], dict, dict]:
    convs = build_support_cases(sub_rng("support")) + build_invoice_cases(sub_rng("invoice"))
    convs += build_travel_cases(sub_rng("travel")) + build_kb_cases(sub_rng("kb")) + build_order_cases(sub_rng("order"))
    assign_times(convs, sub_rng("times"))
    cases = sorted((c for conv in convs for c in conv), key=lambda c: c["t"])
    for i, c in enumerate(cases):
        c["idx"] = i

    # A few production failures (response null, error set), on events whose subject has no other event.
    err_rng, per_subject = sub_rng("errors"), Counter(c["subject"] for c in cases)
    for wf in MODELS["production"]["failing_workflows"]:
        c = err_rng.choice([c for c in cases if c["workflow"] == wf and per_subject[c["subject"]] == 1])
        message = err_rng.choice(MODELS["production"]["errors"][c["api"]])
        c["error"] = {"status": 500, "type": "server_error", "message": message}

    keys = {}  # keys must be unique: they identify the recorded answer
    for c in cases:
        c["key"] = recording_key(c["api"], c["request"])
        if c["key"] in keys:
            raise SystemExit(f"duplicate recording key for {c['meta']['ref']} and {keys[c['key']]}")
        keys[c["key"]] = c["meta"]["ref"]

    ev_rng = sub_rng("events")
    events = [render_event(c, ev_rng) for c in cases]
    plan, cand_rng = make_plan(cases, sub_rng("plan")), sub_rng("candidates")
    models = {MINI: {}, HAIKU: {}, PROD_OPENAI: {}, PROD_ANTHROPIC: {}}
    for c in cases:
        for model in (MINI, HAIKU, PROD_OPENAI if c["api"] == API_OPENAI else PROD_ANTHROPIC):
            models[model][c["key"]] = candidate_answer(model, c, plan[model].get(c["idx"]), cand_rng)
    for event in events:
        if event["workflow"] in RESPONSES_WORKFLOWS:
            as_responses(event)
    add_streaming(events, models, sub_rng("streaming"))
    return events, {"version": 1, "models": models}, {"cases": cases, "plan": plan}


def responses_request(chat: dict) -> dict:
    """A chat completions request as a Responses service sends it: the system prompt as ``instructions``, turns as
    input items (tool calls as ``function_call``, their results as ``function_call_output``), flat tools."""
    items: list[dict] = []
    out: dict = {"model": chat["model"]}
    for m in chat["messages"]:
        if m["role"] == "system":
            out["instructions"] = m["content"]
        elif m["role"] == "user":
            content = m["content"]
            if isinstance(content, list):
                content = [{"type": "input_text", "text": p["text"]} for p in content]
            items.append({"role": "user", "content": content})
        elif m["role"] == "assistant":
            if m.get("content"):
                items.append({"role": "assistant", "content": m["content"]})
            for tc in m.get("tool_calls") or []:
                call = {"call_id": tc["id"], "name": tc["function"]["name"], "arguments": tc["function"]["arguments"]}
                items.append({"type": "function_call"} | call)
        else:  # tool
            items.append({"type": "function_call_output", "call_id": m["tool_call_id"], "output": m["content"]})
    out["input"] = items
    if "tools" in chat:
        out["tools"] = [
            {"type": "function", "name": t["function"]["name"], "description": t["function"].get("description", ""),
             "parameters": t["function"]["parameters"], "strict": t["function"].get("strict", False)}
            for t in chat["tools"]
        ]  # fmt: skip
    for key in ("tool_choice", "parallel_tool_calls", "temperature", "top_p"):
        if key in chat:
            out[key] = chat[key]
    if "max_tokens" in chat or "max_completion_tokens" in chat:
        out["max_output_tokens"] = chat.get("max_completion_tokens", chat.get("max_tokens"))
    return out


def responses_body(chat: dict, request: dict) -> dict:
    """A ``chat.completion`` body as the Responses API answers the same call (a ``response`` object)."""
    message, finish = chat["choices"][0]["message"], chat["choices"][0]["finish_reason"]
    suffix = chat["id"].removeprefix("chatcmpl-")
    output: list[dict] = []
    if message.get("content"):
        part = {"type": "output_text", "text": message["content"], "annotations": [], "logprobs": []}
        output.append({"type": "message", "id": "msg_" + suffix, "status": "completed", "role": "assistant",
                       "content": [part]})  # fmt: skip
    for i, tc in enumerate(message.get("tool_calls") or []):
        output.append({"type": "function_call", "id": f"fc_{i}{suffix}", "call_id": tc["id"],
                       "name": tc["function"]["name"], "arguments": tc["function"]["arguments"],
                       "status": "completed"})  # fmt: skip
    usage = chat["usage"]
    cached = usage.get("prompt_tokens_details", {}).get("cached_tokens", 0)
    return {
        "id": "resp_" + suffix,
        "object": "response",
        "created_at": chat["created"],
        "status": "incomplete" if finish == "length" else "completed",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if finish == "length" else None,
        "instructions": request.get("instructions"),
        "model": chat["model"],
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "temperature": request.get("temperature"),
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools", []),
        "top_p": request.get("top_p"),
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["total_tokens"],
        },
    }


def as_responses(event: dict) -> None:
    """Rewrite a chat completions event of a Responses workflow in the Responses wire format."""
    event["api"] = API_RESPONSES
    event["request"] = responses_request(event["request"])
    if event["response"] is not None:
        event["response"] = responses_body(event["response"], event["request"])


STREAMED_WORKFLOWS = ("support_chat", "kb_answer")
"""Chat UIs stream their answers: their events say so and carry production's time to first token."""


def add_streaming(events: list[dict], models: dict, rng: random.Random) -> None:
    """Streamed production calls (ttft_ms on the event) and every recorded answer's time to first token.

    Drawn from their own stream after everything else, so the rest of the sample does not move."""
    for event in events:
        if event["workflow"] in STREAMED_WORKFLOWS and event["response"] is not None:
            event["stream"] = True
            event["ttft_ms"] = int(event["latency_ms"] * rng.uniform(0.12, 0.3))
    for answers in models.values():
        for answer in answers.values():
            if answer.get("kind") == "ok":
                answer["ttft_ms"] = max(1, int(answer["latency_ms"] * rng.uniform(0.1, 0.3)))


def dump_recordings(recordings: dict) -> str:
    """One answer per line, so that diffs of the file stay readable."""
    models, lines = recordings["models"], ["{", f' "version": {recordings["version"]},', ' "models": {']
    for mi, (model, answers) in enumerate(models.items()):
        lines.append(f"  {jdump(model)}: {{")
        for ki, (key, answer) in enumerate(answers.items()):
            comma = "," if ki < len(answers) - 1 else ""
            lines.append(f"   {jdump(key)}: {jdump(answer, separators=(', ', ': '))}{comma}")
        lines.append("  }" + ("," if mi < len(models) - 1 else ""))
    return "\n".join([*lines, " }", "}"]) + "\n"


def summarize(events: list[dict], recordings: dict, stats: dict) -> None:
    cases = stats["cases"]
    print(f"events: {len(events)} -> {EVENTS_PATH.relative_to(ROOT)} ({EVENTS_PATH.stat().st_size / 1e6:.2f} MB)")
    print(f"recordings -> {RECORDINGS_PATH.relative_to(ROOT)} ({RECORDINGS_PATH.stat().st_size / 1e6:.2f} MB)")
    per = Counter((c["workflow"], c["lang"]) for c in cases)
    for wf in WORKFLOWS:
        langs = ", ".join(f"{lang}={per[(wf, lang)]}" for lang in ("en", "zh", "mixed") if per[(wf, lang)])
        print(f"  {wf:<20} {sum(v for (w, _), v in per.items() if w == wf):>3}  ({langs})")
    print(f"  production errors: {sum(1 for e in events if e['error'])}")
    subjects = Counter(c["subject"] for c in cases)
    print(f"  subjects: {len(subjects)} ({sum(1 for v in subjects.values() if v > 1)} shared by several events)")
    for model, plan in stats["plan"].items():
        injected = ", ".join(f"{k}={v}" for k, v in sorted(Counter(plan.values()).items()))
        print(f"  {model}: {len(recordings['models'][model])} answers; injected: {injected}")


def main() -> None:
    events, recordings, stats = generate()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with EVENTS_PATH.open("w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(jdump(event, separators=(",", ":")) + "\n" for event in events)
    RECORDINGS_PATH.write_text(dump_recordings(recordings), encoding="utf-8", newline="\n")
    summarize(events, recordings, stats)


if __name__ == "__main__":
    # The checker imports this module's constants; this module never imports the checker.
    argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="Then: python scripts/check_demo_data.py"
    ).parse_args()
    main()
