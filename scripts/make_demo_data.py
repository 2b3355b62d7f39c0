#!/usr/bin/env python3
"""Generate the bundled demo data set used by ``shadow demo``.

Writes two files (both are rewritten on every run, byte-for-byte deterministic):

* ``shadow/demo/data/events.ndjson``   -- ~230 mirror events (schema v1) that look like six hours of production LLM
  traffic of a company using OpenAI and Anthropic models for five workflows.
* ``shadow/demo/data/recordings.json`` -- the answers the local demo candidate server returns, per (model, key), for
  the candidate models and the control lane (production model replayed against itself).

The content lives in ``scripts/demo_content/`` (its README.md describes every file): system prompts, KB articles and
long answers as plain text; conversations, invoices and their layouts, travel and order scripts, rewording tables,
candidate quirks and the plan of injected differences as JSON. This program is the logic: one seeded RNG drawn in a
fixed order, request/response building, token and latency estimates, candidate variations. Any change to content or
logic changes the output: regenerate, run the check, and commit the two data files with the change.

Usage (from the repository root)::

    python scripts/make_demo_data.py           # regenerate both files
    python scripts/make_demo_data.py --check   # re-read both files and validate

Only the standard library is used (``jsonschema`` is used by ``--check`` when it is importable). Nothing is imported
from the ``shadow`` package on purpose: the generator must keep working while the package evolves.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import random
import re
from collections import Counter, defaultdict
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
WORKFLOWS = {  # workflow -> (service, api, production model, number of events)
    "support_chat": ("support-api", API_OPENAI, PROD_OPENAI, 72),
    "invoice_extraction": ("billing-extractor", API_OPENAI, PROD_OPENAI, 50),
    "travel_agent": ("travel-agent", API_OPENAI, PROD_OPENAI, 40),
    "kb_answer": ("kb-search", API_ANTHROPIC, PROD_ANTHROPIC, 40),
    "order_assistant": ("order-bot", API_ANTHROPIC, PROD_ANTHROPIC, 30),
}
SF, GW, LO, RF, UA = "search_flights", "get_weather", "lookup_order", "refund_order", "update_address"
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
FAULTS = tuple(MODELS["fault_latency_ms"])
RNG = random.Random(SEED)


# --- Recording key (must match the demo candidate server) -------------------------------------------------------


def user_texts(api: str, request: dict) -> list[str]:
    """Texts of all user-role messages, in order: string content, or the text parts / text blocks of a list (so
    ``tool_result`` blocks are ignored). Same rule for both wire formats; system and ``tool`` messages never count."""
    del api
    texts: list[str] = []
    for message in request.get("messages", []):
        content = message.get("content") if message.get("role") == "user" else None
        if isinstance(content, str):
            texts.append(content)
        for p in content if isinstance(content, list) else []:
            if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str):
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


def has_cjk(text: str | None) -> bool:
    return bool(text and CJK.search(text))


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
    for greeting in ("您好，", "你好，", "好的，"):
        if tl == "zh" and base.startswith(greeting):
            bare = base[len(greeting) :]
    complaint = any(w in user_text.lower() for w in WORDS["complaint_markers"])
    apologizes = any(w in split_sentences(text, lang)[0].lower() for w in ("sorry", "apolog", "抱歉", "不便"))
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

    def unique_number(make) -> str:
        number = make()
        while number in used:
            number = make()
        used.add(number)
        return number

    def sampled(vendors: list[dict]) -> list[tuple]:
        return [(v, layout) for v in vendors for layout in rng.sample(v["layouts"], 2)]

    plan = sampled(INVOICES["en_vendors"]) + [(v, "receipt") for v in INVOICES["receipt_vendors"] for _ in range(2)]
    plan += [(VENDORS[key], layout) for key, layout in INVOICES["extra_invoices"]] + sampled(INVOICES["zh_vendors"])
    for v, layout in plan:
        d = dt.date(2026, 10, 19) + dt.timedelta(days=rng.randint(0, 34))
        if v.get("lang") == "zh":  # fapiao: tax per line, a note
            tenant, buyer = "stark-cn", INVOICES["zh_buyer"]
            number = unique_number(lambda v=v: v["num"].format(n=rng.randint(0, 999999999)))
            lines = pick_items(v, rng, 1, 4)
            for ln in lines:
                ln["line_tax"] = money(money(ln["qty"] * ln["price"]) * v["tax_rate"])
            subtotal = money(sum(money(ln["qty"] * ln["price"]) for ln in lines))
            tax = money(sum(ln["line_tax"] for ln in lines))
            values = draw(INVOICES["zh_notes"]["draw"], rng)
            extra = {"note": rng.choice(INVOICES["zh_notes"]["choices"]).format(**values)}
        else:
            tenant = rng.choice(INVOICES["en_tenants"])
            buyer, template = INVOICES["buyers"][tenant], v["num"]
            number = unique_number(
                lambda template=template, d=d: template.format(
                    n=rng.randint(1000, 99999) if "{n:0" in template else rng.randint(1000, 9999999),
                    k=rng.randint(1, 999),
                    y=d.year,
                    m=d.month,
                )
            )
            if layout != "receipt":
                lines = pick_items(v, rng)
                subtotal = money(sum(money(ln["qty"] * ln["price"]) for ln in lines))
                if v["currency"] == "JPY":
                    subtotal = float(round(subtotal))
                    tax = float(int(subtotal * v["tax_rate"]))
                else:
                    tax = money(subtotal * v["tax_rate"])
            else:  # tax included; vendors with optional items bill every item once, the optional ones sometimes
                if "optional_items" in v:
                    optional = v["optional_items"]
                    lines = [it | {"qty": 1} for it in v["items"] if it["desc"] not in optional or rng.random() < 0.5]
                else:
                    lines = pick_items(v, rng, 2, 4)
                subtotal, tax = money(sum(ln["qty"] * ln["price"] for ln in lines)), 0.0
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
        spec = {"lang": v.get("lang", "en"), "tenant": tenant, "vendor": v["key"], "layout": layout, "text": text}
        specs.append(spec | {"expected": expected, "tax_rate": v["tax_rate"], "subtotal": subtotal})
    rng.shuffle(specs)
    return specs


# --- Production cases: one list of cases per conversation or thread -------------------------------------------------


def new_case(workflow: str, src: dict, subject: str, request: dict, out: dict, meta: dict) -> dict:
    case = {"workflow": workflow, "api": WORKFLOWS[workflow][1], "tenant": src["tenant"], "lang": src["lang"]}
    return case | {"subject": subject, "request": request, "out": out, "meta": meta, "error": None}


def text_out(text: str) -> dict:
    return {"text": text, "tool_calls": [], "finish_reason": "stop"}


def calls_out(text: str | None, ids: list[str], calls: list) -> dict:
    tool_calls = [{"id": i, "name": n, "arguments": copy.deepcopy(a)} for i, (n, a) in zip(ids, calls, strict=True)]
    return {"text": text, "finish_reason": "tool_calls", "tool_calls": tool_calls}


def build_support_cases(rng: random.Random) -> list[list[dict]]:
    convs = []
    for conv in SUPPORT["conversations"]:
        tenant, cases = SUPPORT["tenants"][conv["tenant"]], []
        subject = "chat_" + rand_str(LOWER_ALNUM, 16, rng)
        tags = {"prompt_version": tenant["prompt_version"], "channel": rng.choice(tenant["channels"])}
        history = [{"role": "system", "content": PROMPTS["support/" + conv["tenant"]]}]
        for k, (user, answer) in enumerate(conv["turns"]):
            messages = [*history, {"role": "user", "content": user}]
            request = {"model": PROD_OPENAI, "messages": copy.deepcopy(messages)}
            request |= {"temperature": tenant["temperature"], "max_tokens": tenant["max_tokens"]}
            meta = {"ref": f"{conv['id']}#{k}", "turn": k, "kind": "text", "tags": tags}
            cases.append(new_case("support_chat", conv, subject, request, text_out(answer), meta))
            history = [*messages, {"role": "assistant", "content": answer}]
        convs.append(cases)
    return convs


def build_invoice_cases(rng: random.Random) -> list[list[dict]]:
    convs = []
    for spec in build_invoices(rng):
        subject, layout = "doc_" + rand_str(HEX, 20, rng), LAYOUTS[spec["layout"]]
        head = f"Extract the invoice fields from this document.\nSource: {rng.choice(layout['sources'])}\n"
        text = f"{head}Document ID: {subject}\n\n-----\n{spec['text']}\n-----"
        content = [{"type": "text", "text": text}] if rng.random() < 0.3 else text
        messages = [{"role": "system", "content": PROMPTS["invoice"]}, {"role": "user", "content": content}]
        schema = {"name": "invoice", "strict": True, "schema": copy.deepcopy(INVOICES["schema"])}
        request = {"model": PROD_OPENAI, "messages": messages, "temperature": 0, "max_tokens": 800}
        request["response_format"] = {"type": "json_schema", "json_schema": schema}
        tags = {"prompt_version": INVOICES["prompt_version"], "source": layout["source_tag"]}
        meta = {"ref": f"invoice:{spec['expected']['invoice_number']}", "kind": "json", "tags": tags}
        meta |= {k: spec[k] for k in ("expected", "layout", "vendor", "subtotal", "tax_rate")}
        tags["doc_layout"] = spec["layout"]
        out = text_out(compact(spec["expected"]))
        convs.append([new_case("invoice_extraction", spec, subject, request, out, meta)])
    return convs


def build_travel_cases(rng: random.Random) -> list[list[dict]]:
    """Steps: ["user", text] | ["call", [[tool, args], ...]] | ["tool", [result, ...]] | ["assistant", text]."""
    convs = []
    for script in TRAVEL["scripts"]:
        subject, ids, cases = "trip_" + rand_str(LOWER_ALNUM, 14, rng), {}, []
        system = PROMPTS["travel"].format(company=TRAVEL["companies"][script["tenant"]])
        messages = [{"role": "system", "content": system}]
        for i, (kind, payload) in enumerate(script["steps"]):
            if kind == "call":
                ids[i] = ["call_" + rand_str(ALNUM, 24, rng) for _ in payload]
            if i in script["events"]:
                request = {
                    "model": PROD_OPENAI,
                    "messages": copy.deepcopy(messages),
                    "tools": copy.deepcopy(TRAVEL["tools"]),
                    "tool_choice": "auto",
                    "parallel_tool_calls": True,
                    "temperature": 0.2,
                }
                out = calls_out(None, ids[i], payload) if kind == "call" else text_out(payload)
                meta = {"ref": f"{script['id']}#{i}", "kind": "tools" if kind == "call" else "text"}
                meta |= {
                    "parallel": kind == "call" and len(payload) > 1,
                    "tags": {"prompt_version": TRAVEL["prompt_version"]},
                }
                cases.append(new_case("travel_agent", script, subject, request, out, meta))
            if kind in ("user", "assistant"):
                messages.append({"role": kind, "content": payload})
            elif kind == "call":
                calls = [{"name": n, "arguments": compact(a)} for n, a in payload]
                calls = [{"id": c, "type": "function", "function": f} for c, f in zip(ids[i], calls, strict=True)]
                messages.append({"role": "assistant", "content": None, "tool_calls": calls})
            else:
                results = zip(ids[i - 1], payload, strict=True)
                messages += [{"role": "tool", "tool_call_id": c, "content": compact(r)} for c, r in results]
        convs.append(cases)
    return convs


def build_kb_cases(rng: random.Random) -> list[list[dict]]:
    convs = []
    for i, qa in enumerate(KB["qa"]):
        subject, product = "kbs_" + rand_str(LOWER_ALNUM, 16, rng), KB["products"][qa["tenant"]]
        content = [{"type": "text", "text": qa["question"]}] if rng.random() < 0.35 else qa["question"]
        head = PROMPTS["kb/" + product["lang"]].format(product=product["name"], first_doc=qa["docs"][0])
        docs = "\n".join(
            f'<document id="{d}" title="{KB_DOCS[d][0]}">\n{KB_DOCS[d][1]}\n</document>' for d in qa["docs"]
        )
        request = {
            "model": PROD_ANTHROPIC,
            "max_tokens": 1024,
            "temperature": 0,
            "system": f"{head}\n\n<documents>\n{docs}\n</documents>",
            "messages": [{"role": "user", "content": content}],
        }
        tags = {
            "prompt_version": product["prompt_version"],
            "retriever": KB["retriever"],
            "top_k": str(len(qa["docs"])),
        }
        meta = {"ref": f"kb#{i}", "kind": "text", "doc_ids": qa["docs"], "tags": tags}
        convs.append([new_case("kb_answer", qa, subject, request, text_out(qa["answer"]), meta)])
    return convs


def build_order_cases(rng: random.Random) -> list[list[dict]]:
    """Steps: ["user", text] | ["call", preface, [[tool, input], ...]] | ["result", [...]] | ["assistant", text]."""
    convs = []
    for script in ORDERS["scripts"]:
        tenant, steps, messages, ids = script["tenant"], script["steps"], [], {}
        subject = "ord_thread_" + rand_str(LOWER_ALNUM, 12, rng)
        for i, (kind, *payload) in enumerate(steps):
            if kind == "call":
                ids[i] = ["toolu_01" + rand_str(BASE58, 22, rng) for _ in payload[1]]
            if i == len(steps) - 1:  # the last step is the mirrored call
                request = {
                    "model": PROD_ANTHROPIC,
                    "max_tokens": 1024,
                    "system": PROMPTS["orders/" + tenant],
                    "tools": copy.deepcopy(ORDERS["tools"]),
                    "messages": copy.deepcopy(messages),
                }
                out = calls_out(payload[0], ids[i], payload[1]) if kind == "call" else text_out(payload[0])
                meta = {"ref": script["id"], "kind": "tools" if kind == "call" else "text"}
                meta |= {"parallel": kind == "call" and len(payload[1]) > 1}
                meta["tags"] = {"prompt_version": ORDERS["prompt_versions"][tenant]}
                convs.append([new_case("order_assistant", script, subject, request, out, meta)])
            if kind == "user":
                messages.append({"role": "user", "content": payload[0]})
            elif kind == "assistant":
                messages.append({"role": "assistant", "content": [{"type": "text", "text": payload[0]}]})
            elif kind == "call":
                blocks = [{"type": "text", "text": payload[0]}] if payload[0] else []
                uses = zip(ids[i], payload[1], strict=True)
                blocks += [{"type": "tool_use", "id": t, "name": n, "input": a} for t, (n, a) in uses]
                messages.append({"role": "assistant", "content": blocks})
            else:
                results = zip(ids[i - 1], payload[0], strict=True)
                results = [{"type": "tool_result", "tool_use_id": t, "content": compact(r)} for t, r in results]
                messages.append({"role": "user", "content": results})
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
    out = case["out"]
    message = {"role": "assistant", "content": out["text"]}
    if out["tool_calls"]:
        calls = [(tc["id"], {"name": tc["name"], "arguments": compact(tc["arguments"])}) for tc in out["tool_calls"]]
        message["tool_calls"] = [{"id": i, "type": "function", "function": f} for i, f in calls]
    message |= {"refusal": None, "annotations": []}
    cached = 0
    if in_tok >= 1024 and (case["meta"].get("turn", 0) > 0 or rng.random() < 0.5):
        cached = min(max(1024, (in_tok - rng.randint(40, 400)) // 128 * 128), in_tok // 128 * 128)
    details = ("reasoning_tokens", "audio_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens")
    return {
        "id": "chatcmpl-" + rand_str(ALNUM, 29, rng),
        "object": "chat.completion",
        "created": created,
        "model": PROD_OPENAI,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": out["finish_reason"]}],
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
    out = case["out"]
    content = [{"type": "text", "text": out["text"]}] if out["text"] else []
    content += [
        {"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["arguments"]} for c in out["tool_calls"]
    ]
    return {
        "id": "msg_01" + rand_str(BASE58, 22, rng),
        "type": "message",
        "role": "assistant",
        "model": PROD_ANTHROPIC,
        "content": content,
        "stop_reason": {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}[out["finish_reason"]],
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
    case["prod_in"], case["prod_out"] = in_tok, out_tok
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


def ok_answer(text, tool_calls, finish, in_tok, out_tok, latency) -> dict:
    usage = {"input_tokens": int(in_tok), "output_tokens": int(out_tok)}
    return {
        "kind": "ok",
        "text": text,
        "tool_calls": tool_calls,
        "finish_reason": finish,
        "usage": usage,
        "latency_ms": int(latency),
    }


def fault_answer(fault: str, rng: random.Random) -> dict:
    # every range is drawn, in order, whichever the fault
    latency = {k: v if isinstance(v, int) else rng.randint(*v) for k, v in MODELS["fault_latency_ms"].items()}
    return {"kind": "fault", "fault": fault, "latency_ms": latency[fault]}


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
        suffix = next((s for s in MODELS["vendor_suffixes"] if obj["vendor"].endswith(s)), "")
        obj["vendor"] = obj["vendor"][: len(obj["vendor"]) - len(suffix)]
    elif label == "total_excl_tax":
        obj["total"] = num(case["meta"]["subtotal"])
    else:
        raise ValueError(label)
    return compact(obj), "stop"


def vary_calls(label: str | None, calls: list[dict], rng: random.Random) -> list[dict]:
    """Tool calls (copies of production's) with the injected difference ``label``."""
    if label in MODELS["arg_maps"]:  # another spelling of an argument value
        spec = MODELS["arg_maps"][label]
        *path, key = spec["arg"]
        for call in [c for c in calls if spec["tool"] in (None, c["name"])]:
            obj = call["arguments"]
            for p in path:
                obj = obj[p]
            if obj.get(key) in spec["map"]:
                obj[key] = spec["map"][obj[key]]
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
        if key in ("date", "check_in"):
            args[key] = rng.choice(MODELS["retype_args"]["dates"]).format(date=dt.date.fromisoformat(args[key]))
        else:
            args[key] = str(args[key])
    elif label == "invalid_args_json":
        raw = compact(calls[-1]["arguments"])
        calls[-1] = {"name": calls[-1]["name"], "arguments_raw": raw[: max(8, len(raw) * 2 // 3)]}
    elif label == "amount_string":
        for c in calls:
            if c["name"] == RF:
                c["arguments"]["amount"] = f"{c['arguments']['amount']:.2f}"
    elif label == "passengers_omitted":
        for c in calls:
            if c["name"] == SF and c["arguments"].get("passengers") == 1:
                del c["arguments"]["passengers"]
    elif label == "lookup_first":  # look the order up instead of refunding it (once per order)
        unique = {}
        for c in calls:
            call = {"name": LO, "arguments": {"order_id": c["arguments"]["order_id"]}} if c["name"] == RF else c
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
    flights = calling(travel, lambda tc: tc["name"] == SF)
    suffixed = re.compile(r"(Inc\.|Ltd\.?|GmbH|B\.V\.|LLP|LLC|K\.K\.|Co\.)$")
    pools = {
        "everything": cases,
        "openai": [c for c in cases if c["api"] == API_OPENAI],
        "anthropic": [c for c in cases if c["api"] == API_ANTHROPIC],
        "invoices": invoices,
        "en_invoices": [c for c in invoices if c["lang"] == "en"],
        "zh_invoices": [c for c in invoices if c["lang"] == "zh"],
        "big_total_invoices": [c for c in invoices if c["meta"]["expected"]["total"] >= 1000],
        "taxed_invoices": [c for c in invoices if c["meta"]["tax_rate"] > 0 and c["meta"]["layout"] != "receipt"],
        "suffixed_vendor_invoices": [
            c for c in invoices if c["lang"] == "en" and suffixed.search(c["meta"]["expected"]["vendor"])
        ],
        "fapiao_invoices": [c for c in invoices if c["meta"]["layout"] in ("zh_special", "zh_normal")],
        "travel_calls": travel,
        "parallel_travel_calls": [c for c in travel if c["meta"]["parallel"]],
        "flight_calls": flights,
        "one_passenger_flight_calls": calling(flights, lambda tc: tc["arguments"].get("passengers") == 1),
        "weather_calls": calling(travel, lambda tc: tc["name"] == GW),
        "city_calls": calling(
            travel, lambda tc: tc["arguments"].get("city") in MODELS["arg_maps"]["city_country"]["map"]
        ),
        "refunds": calling(orders, lambda tc: tc["name"] == RF),
        "address_changes": calling(orders, lambda tc: tc["name"] == UA),
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
    if label == "refusal":
        text, calls, finish = MODELS["refusals"][MINI][text_lang(lang)], [], "stop"
    elif kind == "json":
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
    if label == "refusal":
        text, calls, finish = MODELS["refusals"][HAIKU][case["meta"]["ref"]], [], "stop"
    elif label == "length":  # a long answer cut at max_tokens
        text = cut_to_tokens(LONG_ANSWERS[case["meta"]["ref"]], case["request"]["max_tokens"])
        calls, finish = [], "length"
    elif kind == "json" and label:
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
    if label in FAULTS:
        return fault_answer(label, rng)
    vary = {MINI: mini_variant, HAIKU: haiku_variant}.get(model, control_variant)
    text, calls, finish = vary(case, label, rng)
    out_tok = case["request"]["max_tokens"] if label == "length" else output_tokens(text, calls)
    latency = cand_latency(model, out_tok, rng, case["prod_latency"])
    return ok_answer(text, calls, finish, cand_input_tokens(model, case), out_tok, latency)


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
    for wf in ("support_chat", "invoice_extraction", "travel_agent", "kb_answer"):
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
    return events, {"version": 1, "models": models}, {"cases": cases, "plan": plan}


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


# --- Self-check (python scripts/make_demo_data.py --check) -------------------------------------------------------

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


def check() -> None:
    try:
        import jsonschema  # type: ignore  # noqa: PLC0415  (optional; only --check uses it)
    except ImportError:  # pragma: no cover - depends on the environment
        jsonschema = None

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
        need(list(e) == EVENT_FIELDS, f"{where}: fields {list(e)}")
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
        need(e["api"] == api and e["request"].get("model") == model, f"{where}: api/model for {wf}")
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
        (check_openai if api == API_OPENAI else check_anthropic)(e, need, validate)

    # ---------------------------------------------------------------- recordings
    need(recordings.get("version") == 1, "recordings.version")
    models = recordings.get("models", {})
    expected_keys = {
        MINI: set(keys),
        HAIKU: set(keys),
        PROD_OPENAI: {k for k, e in keys.items() if e["api"] == API_OPENAI},
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
    need(set(ans) == {"kind", "text", "tool_calls", "finish_reason", "usage", "latency_ms"}, f"{where}: answer keys")
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
    if e["response"] is not None and e["api"] == API_OPENAI:
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="validate the generated files instead of writing them")
    if parser.parse_args().check:
        check()
    else:
        main()
