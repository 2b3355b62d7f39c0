#!/usr/bin/env python3
"""Generate the bundled demo data set used by ``shadow demo``.

Writes two files (both are rewritten on every run, byte-for-byte deterministic):

* ``shadow/demo/data/events.ndjson``   -- ~230 mirror events (schema v1) that look
  like six hours of production LLM traffic of a company using OpenAI and
  Anthropic models for five workflows.
* ``shadow/demo/data/recordings.json`` -- the answers the local demo candidate
  server returns, per (model, key), for the candidate models and the control
  lane (production model replayed against itself).

Usage (from the repository root)::

    python scripts/make_demo_data.py           # regenerate both files
    python scripts/make_demo_data.py --check   # re-read both files and validate

Only the standard library is used (``jsonschema`` is used by ``--check`` when it
is importable). Nothing is imported from the ``shadow`` package on purpose: the
generator must keep working while the package evolves.
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
DATA_DIR = ROOT / "shadow" / "demo" / "data"
EVENTS_PATH = DATA_DIR / "events.ndjson"
RECORDINGS_PATH = DATA_DIR / "recordings.json"

NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=6)
START = NOW - WINDOW

PROD_OPENAI = "gpt-4o-2024-08-06"
PROD_ANTHROPIC = "claude-3-5-sonnet-20241022"
MINI = "gpt-4.1-mini"
HAIKU = "claude-haiku-4-5"

API_OPENAI = "openai.chat.completions"
API_ANTHROPIC = "anthropic.messages"

SERVICES = {
    "support_chat": "support-api",
    "invoice_extraction": "billing-extractor",
    "travel_agent": "travel-agent",
    "kb_answer": "kb-search",
    "order_assistant": "order-bot",
}
WORKFLOW_API = {
    "support_chat": (API_OPENAI, PROD_OPENAI),
    "invoice_extraction": (API_OPENAI, PROD_OPENAI),
    "travel_agent": (API_OPENAI, PROD_OPENAI),
    "kb_answer": (API_ANTHROPIC, PROD_ANTHROPIC),
    "order_assistant": (API_ANTHROPIC, PROD_ANTHROPIC),
}
EXPECTED_COUNTS = {
    "support_chat": 72,
    "invoice_extraction": 50,
    "travel_agent": 40,
    "kb_answer": 40,
    "order_assistant": 30,
}

# A deploy happened during the window: events before it carry the old release.
DEPLOY_AT = dt.datetime(2026, 11, 23, 8, 40, 0, tzinfo=dt.UTC)

RNG = random.Random(SEED)


# ---------------------------------------------------------------------------
# Recording key (must match the demo candidate server)
# ---------------------------------------------------------------------------


def user_texts(api: str, request: dict) -> list[str]:
    """Texts of all user-role messages, in order.

    OpenAI: ``content`` when it is a string, else the ``text`` of each
    ``{"type": "text"}`` part. Anthropic: same rule on content blocks, so
    ``tool_result`` (and image, ...) blocks are ignored. System prompts and
    ``role: "tool"`` messages never count.
    """
    del api  # same rule for both wire formats
    texts: list[str] = []
    for message in request.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return texts


def recording_key(api: str, request: dict) -> str:
    joined = "\n".join(user_texts(api, request))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX = "0123456789abcdef"


def rand_str(alphabet: str, n: int, rng: random.Random = RNG) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def ulid(ts: dt.datetime) -> str:
    ms = int(ts.timestamp() * 1000)
    head = ""
    for _ in range(10):
        head = CROCKFORD[ms % 32] + head
        ms //= 32
    return head + rand_str(CROCKFORD, 16)


def rfc3339(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def has_cjk(text: str | None) -> bool:
    return bool(text) and any(is_cjk(c) for c in text)


def est_tokens(text: str) -> int:
    """Rough token estimate: ~4 chars/token for Latin text, ~1.5 chars/token for CJK."""
    if not text:
        return 0
    cjk = sum(1 for c in text if is_cjk(c))
    return max(1, round(cjk / 1.5 + (len(text) - cjk) / 4))


def jdump(obj, **kw) -> str:
    return json.dumps(obj, ensure_ascii=False, **kw)


def compact(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def money(x: float) -> float:
    return round(x + 1e-9, 2)


# ---------------------------------------------------------------------------
# Paraphrasing helpers (used to derive candidate answers from production ones)
# ---------------------------------------------------------------------------

EN_SUBS = [
    (r"\bI'm sorry\b", "Sorry"),
    (r"\bSorry for\b", "Apologies for"),
    (r"\busually\b", "typically"),
    (r"\btypically\b", "usually"),
    (r"\bYou'll\b", "You will"),
    (r"\byou'll\b", "you will"),
    (r"\bmake sure\b", "ensure"),
    (r"\bMake sure\b", "Ensure"),
    (r"\bright away\b", "immediately"),
    (r"\bI've\b", "I have"),
    (r"\bcan't\b", "cannot"),
    (r"\bdon't\b", "do not"),
    (r"\bdoesn't\b", "does not"),
    (r"\bisn't\b", "is not"),
    (r"\bIt's\b", "It is"),
    (r"\bit's\b", "it is"),
    (r"\bGreat\b", "Perfect"),
    (r"\bOf course\b", "Sure"),
    (r"\bcheck your\b", "look in your"),
    (r"\bbusiness days\b", "working days"),
    (r"\bGo to\b", "Open"),
    (r"\bgo to\b", "open"),
    (r"\bselect\b", "choose"),
    (r"\bselecting\b", "choosing"),
    (r"\bneed to\b", "have to"),
    (r"\bvery likely\b", "most likely"),
    (r"\bI'd recommend\b", "I suggest"),
    (r"\bFor example\b", "For instance"),
    (r"\bshows up\b", "appears"),
    (r"\bshow up\b", "appear"),
    (r"\bThanks\b", "Thank you"),
    (r"\bWould you like\b", "Do you want"),
    (r"\blet me know\b", "tell me"),
    (r"\bLet me know\b", "Tell me"),
    (r"\bdocuments\b", "docs"),
    (r"\bThat (?=happens|usually|was|is|lets|means)", "This "),
    (r"\bapproximately\b", "about"),
    (r"\baround\b", "about"),
    (r"\bquickly\b", "fast"),
    (r"\bthe cheapest\b", "the least expensive"),
    (r"\bThe cheapest\b", "The least expensive"),
    (r"\bIn that case\b", "If so"),
    (r"\bas soon as\b", "once"),
]

ZH_SUBS = [
    ("您好，", "你好，"),
    ("非常抱歉", "十分抱歉"),
    ("很抱歉", "抱歉"),
    ("已经", "已"),
    ("一般", "通常"),
    ("通常", "一般"),
    ("尽快", "尽早"),
    ("如果", "若"),
    ("您可以", "您可"),
    ("可以在", "能在"),
    ("都可以", "都能"),
    ("需要先", "需先"),
    ("不需要", "无需"),
    ("查看", "查询"),
    ("联系", "联络"),
    ("大约", "约"),
    ("请您", "请"),
    ("目前", "当前"),
    ("帮您", "为您"),
    ("建议您", "推荐您"),
    ("感谢", "谢谢"),
    ("不客气", "不用谢"),
    ("之后", "以后"),
    ("即可", "就可以"),
    ("请确认", "请核实"),
    ("但是", "不过"),
    ("所以", "因此"),
    ("马上", "立即"),
    ("进入“", "打开“"),
    ("无法", "不能"),
    ("给您带来不便", "给您造成不便"),
    ("然后", "再"),
    ("会在", "将在"),
]


def _sub_table(lang: str):
    if lang == "en":
        return [(p, r) for p, r in EN_SUBS]
    return [(re.escape(p), r) for p, r in ZH_SUBS]


def apply_subs(text: str, lang: str, n: int, rng: random.Random, every: bool = False) -> str:
    """Apply ``n`` random applicable substitutions in one pass (no chaining)."""
    table = [(p, r) for p, r in _sub_table(lang) if re.search(p, text)]
    if not table or n <= 0:
        return text
    chosen = rng.sample(table, min(n, len(table)))
    tokens = {}
    for i, (pattern, repl) in enumerate(chosen):
        token = f"\x00{i}\x00"
        new = re.sub(pattern, token, text, count=0 if every else 1)
        if new != text:
            tokens[token] = repl
            text = new
    for token, repl in tokens.items():
        text = text.replace(token, repl)
    return text


_EN_SPLIT = re.compile(r"(?<=[.!?])(?<!p\.m\.)(?<!a\.m\.)(?<!e\.g\.)(?<!i\.e\.)\s+(?=[A-Z0-9\"'(\[*])")


def split_sentences(text: str, lang: str) -> list[str]:
    if lang == "en":
        parts = [p for p in _EN_SPLIT.split(text.strip()) if p]
    else:
        parts = [p for p in re.findall(r"[^。！？!?]+[。！？!?]?", text.strip()) if p.strip()]
    return parts or [text]


def join_sentences(parts: list[str], lang: str) -> str:
    return (" " if lang == "en" else "").join(p.strip() if lang == "en" else p for p in parts)


def text_lang(lang: str) -> str:
    """Paraphrase tables: 'mixed' answers are Chinese sentences with English terms."""
    return "en" if lang == "en" else "zh"


CONNECTIVES = (
    "Then",
    "Also",
    "That",
    "This",
    "It ",
    "They",
    "Otherwise",
    "Once",
    "After",
    "So ",
    "But",
    "If it",
    "然后",
    "另外",
    "此外",
    "所以",
    "因此",
    "但",
    "不过",
    "这",
    "之后",
    "期间",
    "再",
)


def tiny_paraphrase(text: str, lang: str, rng: random.Random) -> str:
    """One word changed or two adjacent sentences swapped (control lane)."""
    tl = text_lang(lang)
    if "\n" not in text and rng.random() < 0.3:
        parts = split_sentences(text, tl)
        if len(parts) >= 3:
            i = rng.randrange(1, len(parts) - 1)
            a, b = parts[i].strip(), parts[i + 1].strip()
            if not (
                a.startswith(CONNECTIVES)
                or b.startswith(CONNECTIVES)
                or a.endswith(("?", "？"))
                or b.endswith(("?", "？"))
            ):
                parts[i], parts[i + 1] = parts[i + 1], parts[i]
                return join_sentences(parts, tl)
    for n in (1, 2):
        new = apply_subs(text, tl, n, rng)
        if new != text:
            return new
    return text


def paraphrase(text: str, lang: str, rng: random.Random, n_subs: int = 3) -> str:
    return apply_subs(text, text_lang(lang), n_subs, rng)


def shorten(text: str, lang: str, rng: random.Random) -> str:
    """A somewhat shorter answer (~60-90% of the length): drop a trailing sentence and reword a little."""
    tl = text_lang(lang)
    parts = split_sentences(text, tl)
    if tl == "zh" and parts[0].startswith("您好，") and rng.random() < 0.5:
        parts[0] = parts[0][len("您好，") :]
    total = len(text)
    for drop in (len(parts) - 1, len(parts) - 2):
        if len(parts) >= 3 and drop >= 1:
            candidate = parts[:drop] + parts[drop + 1 :]
            if len(join_sentences(candidate, tl)) >= 0.6 * total:
                parts = candidate
                break
    return paraphrase(join_sentences(parts, tl), lang, rng, n_subs=rng.randint(1, 3))


COMPLAINT_MARKERS = (
    "not ",
    "n't",
    "never",
    "wrong",
    "broken",
    "cracked",
    "lost",
    "twice",
    "late",
    "fail",
    "error",
    "expired",
    "full",
    "stuck",
    "charged",
    "crash",
    "429",
    "没",
    "不了",
    "错",
    "坏",
    "丢",
    "一直",
    "失败",
    "过期",
    "拦截",
)


def lengthen(
    text: str,
    lang: str,
    rng: random.Random,
    *,
    openers: list[str],
    closers: list[str],
    extras: list[str],
    lo: float = 1.3,
    hi: float = 1.6,
    user_text: str = "",
    first_turn: bool = True,
) -> str:
    """Add an opener / closer / extra sentence until the text is ~30-60% longer."""
    tl = text_lang(lang)
    base = paraphrase(text, lang, rng, n_subs=rng.randint(1, 2))
    base_wo = base
    for greeting in ("您好，", "你好，", "好的，"):
        if tl == "zh" and base.startswith(greeting):
            base_wo = base[len(greeting) :]
    head = split_sentences(text, tl)[0].lower()
    apologizes = any(w in head for w in ("sorry", "apolog", "抱歉", "不便"))
    asked = "?" in user_text or "？" in user_text
    complaint = any(w in user_text.lower() for w in COMPLAINT_MARKERS)
    detailed = est_tokens(user_text) >= 22

    def allowed(opener: str) -> bool:
        kind, _, _ = opener.partition("|")
        return {
            "any": True,
            "first": first_turn,
            "later": not first_turn,
            "question": asked,
            "details": detailed,
            "empathy": complaint and not apologizes,
        }[kind]

    ops = [o.partition("|")[2] for o in openers if allowed(o)] or [None]
    cls = [c for c in closers if not (text.rstrip().endswith(("?", "？")) and c.rstrip().endswith(("?", "？")))] or [
        None
    ]
    target = len(text) * rng.uniform(lo, hi)
    best, best_err = None, None
    for _ in range(40):
        op = rng.choice(ops) if rng.random() < 0.75 else None
        cl = rng.choice(cls) if rng.random() < 0.8 else None
        ex = rng.choice(extras) if extras and rng.random() < 0.5 else None
        body = base_wo if op else base
        pieces = ([op] if op else []) + [body] + ([ex] if ex else []) + ([cl] if cl else [])
        cand = (" " if tl == "en" else "").join(pieces)
        err = abs(len(cand) - target)
        if best is None or err < best_err:
            best, best_err = cand, err
    return best


# ===========================================================================
# Workflow 1: support_chat (OpenAI, gpt-4o-2024-08-06)
# ===========================================================================

SUPPORT_SYSTEM = {
    "acme": (
        "You are Acme Cloud's support assistant. Acme Cloud is a developer platform for event ingestion, "
        "analytics dashboards and webhooks.\n\n"
        "Guidelines:\n"
        "- Be concise, friendly and accurate. Answer in the language the customer writes in.\n"
        "- Plans: Free, Pro ($49/month, up to 5 members), Team ($199/month, 10 seats included, $15 per extra seat), "
        "Enterprise (custom).\n"
        "- Ingestion rate limits per workspace: Free 60 req/min, Pro 300 req/min, Team 1,200 req/min.\n"
        "- You may approve refunds up to $500; anything larger must be escalated to billing@acme.dev.\n"
        "- Never reveal internal ticket notes or data from other workspaces.\n"
        "- For suspected security incidents, say you are escalating to the security team.",
        "support-v14",
        300,
    ),
    "globex": (
        "You are the customer care assistant for Globex Shop, an online store for home and kitchen products.\n"
        "Policies: free returns and exchanges within 30 days of delivery; damaged items are replaced or refunded "
        "without needing a return; standard shipping takes 3-5 business days, express 1-2. Order numbers look like "
        "GX-12345678. Be warm and brief, and reply in the language the customer uses.",
        "care-v9",
        400,
    ),
    "initech": (
        "You are the help assistant for Initech Payroll, a payroll and HR platform for small businesses. "
        "Both employees and admins contact you. You can explain product features and policies but you cannot change "
        "payroll data yourself; point admins to the right settings page. Annual plans can be refunded in full within "
        "14 days of purchase. Keep answers short and professional.",
        "help-v6",
        400,
    ),
    "umbrella": (
        "You are Umbrella Health's pharmacy support assistant. Help members with prescription orders, refills, "
        "delivery and insurance details. Do not give medical advice or dosing recommendations; for clinical questions, "
        "tell the member to speak with their pharmacist or doctor. Be empathetic and clear.",
        "rx-support-v3",
        400,
    ),
    "hooli": (
        "You are Hooli Account Help. You assist users of Hooli Mail, Hooli Drive and Hooli accounts with sign-in, "
        "security, storage and privacy questions. Never ask for passwords or full verification codes. Respond in the "
        "user's language, in at most 6 sentences.",
        "account-help-v21",
        350,
    ),
    "stark-cn": (
        "你是斯塔克智能（Stark）官方商城的在线客服助手，负责解答订单、物流、退换货、发票、保修和会员相关问题。\n要求："
        "\n1. 使用简体中文回复，语气礼貌、简洁，每次回复不超过6句话；用户使用英文术语时可以保留英文。\n2. "
        "退款原路返回，一般1-7个工作日到账；7天无理由退货，15天内质量问题可换货，整机保修1年。\n3. 不要编造订单信息；"
        "需要人工处理时，告知用户将转接人工客服。",
        "cs-zh-v8",
        256,
    ),
}

SUPPORT_CHANNELS = {
    "acme": ["web", "web", "dashboard-widget"],
    "globex": ["web", "app", "app"],
    "initech": ["web", "app"],
    "umbrella": ["app", "app", "web"],
    "hooli": ["help-center", "app"],
    "stark-cn": ["app", "wechat", "wechat", "web"],
}

# Each conversation: id, tenant, lang, turns [(user, assistant), ...]. Every turn is one mirror event.
SUPPORT_CONVERSATIONS = [
    # ------------------------------------------------------------------ English
    {
        "id": "acme-double-charge",
        "tenant": "acme",
        "lang": "en",
        "turns": [
            (
                "Hi, I just noticed two charges of $199.00 from Acme Cloud on my card, both dated Nov 21. We're on the "
                "Team "
                "plan, workspace is brightpath-analytics. Can you sort this out?",
                "Sorry about that, I can see why that's alarming. The second $199.00 charge on Nov 21 came from a "
                "payment retry "
                "that should have been voided after the first payment succeeded. I've issued a refund for the "
                "duplicate charge, "
                "and it usually shows up on your statement within 5-10 business days. You'll also get a confirmation "
                "email with "
                "the refund receipt.",
            ),
            (
                "ok thanks. does this change anything about our next invoice?",
                "No, your next invoice on Dec 21 will be the normal Team plan amount. The refund goes back to your "
                "card rather "
                "than becoming account credit, so your billing cycle isn't affected.",
            ),
        ],
    },
    {
        "id": "hooli-reset-email",
        "tenant": "hooli",
        "lang": "en",
        "turns": [
            (
                "I've requested a password reset 3 times for mara.lindqvist@hoolimail.com and nothing arrives",
                "Sorry for the trouble. Reset emails can land in Spam or Promotions, so please check those folders for "
                "a message "
                "from no-reply@accounts.hooli.com. Resets are only sent to the recovery address on file, so if "
                "mara.lindqvist@hoolimail.com is the account itself, the email goes to your recovery address instead. "
                "Each "
                "link expires after 30 minutes.",
            ),
            (
                "found it in my recovery inbox but the link says it's expired",
                "That usually happens when an older link is opened after a newer one was requested, because each new "
                "request "
                "cancels the previous link. Please request one more reset and open that email right away. If it still "
                "shows as "
                "expired, try opening the link in a private browser window.",
            ),
            (
                "that worked, I'm in. thanks!",
                "Great, glad you're back in! Since you just recovered the account, I'd recommend turning on 2-Step "
                "Verification "
                "under Security > Sign-in so it's easier to get back in next time.",
            ),
        ],
    },
    {
        "id": "globex-stuck-tracking",
        "tenant": "globex",
        "lang": "en",
        "turns": [
            (
                "My order GX-40718823 was supposed to arrive Nov 19 and tracking hasn't moved since Nov 17 (still says "
                "'In transit - Memphis hub'). What's going on?",
                "I'm sorry your order is running late. Packages sometimes sit at a hub without a new scan when the "
                "carrier is "
                "backed up, and the Memphis hub has had delays this week. If there's no new scan by tomorrow, we'll "
                "treat the "
                "parcel as lost and send a free replacement with express shipping. Would you prefer a replacement or a "
                "refund "
                "if it comes to that?",
            ),
            (
                "Replacement please, it's a birthday gift for Saturday.",
                "Got it. I've noted that you prefer a replacement, and if tracking hasn't updated by tomorrow at noon, "
                "we'll "
                "ship it by express so it arrives before Saturday. You'll get an email with the new tracking number as "
                "soon "
                "as it ships.",
            ),
        ],
    },
    {
        "id": "hooli-delete-account",
        "tenant": "hooli",
        "lang": "en",
        "turns": [
            (
                "How do I permanently delete my Hooli account and all the data attached to it? I don't want anything "
                "kept.",
                "You can delete your account at myaccount.hooli.com under Data & privacy > Delete your Hooli account. "
                "Before you "
                "do, download anything you want to keep with Hooli Takeout, because deletion removes your Mail, Drive "
                "files and "
                "contacts. There's a 20-day grace period during which you can still restore the account. After that "
                "the data is "
                "permanently erased from our active systems, and backups are purged within 60 days.",
            ),
        ],
    },
    {
        "id": "acme-429-launch",
        "tenant": "acme",
        "lang": "en",
        "turns": [
            (
                "We're getting HTTP 429 Too Many Requests on POST /v2/events since about 7am UTC. We're on Pro. "
                "Nothing "
                "changed on our side.",
                "On the Pro plan, the ingestion API allows 300 requests per minute per workspace. A 429 means you're "
                "above that "
                "rate, which can happen if traffic grew or if retries pile up after a slowdown. Each 429 response "
                "includes a "
                "Retry-After header, so please back off for that long and retry with exponential backoff and jitter. "
                "Batching "
                "events (up to 500 per request) also cuts the request count a lot.",
            ),
            (
                "We do retry, but immediately. Could that be the issue?",
                "Yes, that's very likely the cause. Immediate retries multiply the request rate as soon as you hit the "
                "limit, "
                "so the client stays throttled. Wait for the Retry-After value before retrying, and add random jitter "
                "so your "
                "workers don't all retry at the same moment.",
            ),
            (
                "ok. we also have a launch on Dec 2, expecting maybe 5x traffic. Can the limit be raised?",
                "Yes. Team plan workspaces get 1,200 requests per minute, and we can also grant a temporary increase "
                "for a "
                "launch. I've filed a request for a temporary limit of 1,500 requests per minute on your workspace "
                "from Dec 1 "
                "to Dec 9. Someone from the platform team will confirm by email within one business day.",
            ),
            (
                "perfect, thank you",
                "You're welcome, and good luck with the launch! If you switch to batched ingestion before Dec 2, "
                "you'll have "
                "plenty of headroom even at 5x traffic.",
            ),
        ],
    },
    {
        "id": "initech-annual-refund",
        "tenant": "initech",
        "lang": "en",
        "turns": [
            (
                "I accidentally switched us from monthly to the annual plan yesterday ($1,188). Can I get that "
                "reversed?",
                "Yes. Annual plans can be refunded in full within 14 days of purchase, so you're well within the "
                "window. An "
                "account admin can request it under Settings > Billing > Plan history by selecting the annual charge "
                "and "
                "choosing 'Request refund'. Once it's processed, your company goes back to the monthly plan at the "
                "start of the "
                "next cycle.",
            ),
            (
                "Will my employees lose access to their pay stubs while this happens?",
                "No, employees keep full access to their pay stubs and tax documents the whole time. Switching plans "
                "only "
                "changes billing, not your data or anyone's access.",
            ),
        ],
    },
    {
        "id": "acme-vat-reissue",
        "tenant": "acme",
        "lang": "en",
        "turns": [
            (
                "Our finance team needs our EU VAT number (DE318274950) on all invoices since July. Is it possible to "
                "reissue "
                "them?",
                "Yes. First add the VAT number under Settings > Billing > Tax information so it appears on all future "
                "invoices. "
                "For the invoices from July through November, I've asked our billing team to reissue them with "
                "DE318274950 "
                "included. Reissued invoices usually arrive by email within 3 business days, and they'll also be "
                "available in "
                "your billing history.",
            ),
        ],
    },
    {
        "id": "acme-okta-sso",
        "tenant": "acme",
        "lang": "en",
        "turns": [
            (
                "How do I set up SAML SSO with Okta for our workspace?",
                "SAML SSO is available on the Team and Enterprise plans. In Acme, go to Settings > Security > Single "
                "sign-on and "
                "copy the ACS URL and Entity ID. In Okta, create a new SAML 2.0 app, paste those values, and set the "
                "Name ID "
                "format to EmailAddress. Then download the Okta metadata XML and upload it on the Acme SSO page. Test "
                "with one "
                "user before you enforce SSO for everyone.",
            ),
            (
                "Do users need to be provisioned manually or does Acme support SCIM?",
                "Acme supports SCIM 2.0 on the Enterprise plan, so users and groups can be provisioned and "
                "deprovisioned "
                "automatically from Okta. On the Team plan, users are created just-in-time the first time they sign in "
                "through "
                "SSO, but removing them still has to be done in Acme.",
            ),
        ],
    },
    {
        "id": "globex-cracked-blender",
        "tenant": "globex",
        "lang": "en",
        "turns": [
            (
                "The blender from order GX-40992157 arrived with a cracked jar. Box looked fine from outside.",
                "I'm really sorry it arrived damaged. You don't need to send it back: we can ship a replacement jar or "
                "a whole "
                "new blender, or refund you in full. Could you reply with a photo of the crack so I can attach it to "
                "the "
                "claim?",
            ),
            (
                "[photo attached] I'd rather have a full new blender",
                "Thanks for the photo. I've set up a free replacement blender, which ships today with standard "
                "delivery and "
                "should arrive in 3-5 business days. You can recycle or keep the damaged one, whatever is easier for "
                "you.",
            ),
        ],
    },
    {
        "id": "initech-w2-former",
        "tenant": "initech",
        "lang": "en",
        "turns": [
            (
                "Where can I download my W-2 for 2025? I left the company in March.",
                "Former employees keep access to their tax documents. Sign in at my.initechpayroll.com with your "
                "personal "
                "email, then go to Documents > Tax forms to download your 2025 W-2. If you can't sign in, ask your "
                "former "
                "employer's payroll admin to resend the access invitation to your personal address.",
            ),
        ],
    },
    {
        "id": "umbrella-refill-review",
        "tenant": "umbrella",
        "lang": "en",
        "turns": [
            (
                "My refill for order RX-7731094 has said 'pending pharmacist review' for two days. I only have 3 pills "
                "left.",
                "I'm sorry for the wait, especially with so few doses left. A refill usually sits in pharmacist review "
                "when the "
                "prescription needs a renewal or an insurance check. I've flagged your order as urgent so a pharmacist "
                "looks at "
                "it today. If you need your medication before it ships, we can transfer this refill to a local "
                "pharmacy for "
                "same-day pickup.",
            ),
            (
                "Yes please transfer it to the CityCare pharmacy on 5th Ave in Brooklyn.",
                "Done. I've requested a transfer to CityCare Pharmacy on 5th Ave in Brooklyn, and transferred "
                "prescriptions are "
                "usually ready there within 2-4 hours. They'll text you when it's ready, and your Umbrella order "
                "RX-7731094 "
                "will be cancelled so you aren't charged twice.",
            ),
        ],
    },
    {
        "id": "acme-webhook-rotation",
        "tenant": "acme",
        "lang": "en",
        "turns": [
            (
                "After rotating our webhook signing secret, every delivery fails with 'signature mismatch' on our "
                "side. We "
                "updated the env var.",
                "After a rotation, Acme signs new deliveries with the new secret immediately, but deliveries that were "
                "already "
                "queued or are being retried are still signed with the old one for up to 24 hours. During that window "
                "your "
                "endpoint should accept either secret. Also double-check that you compute the HMAC over the raw "
                "request body, "
                "not re-serialized JSON, and compare it with the v1= value in the Acme-Signature header.",
            ),
            (
                "We were parsing JSON before verifying. Switched to raw body and it works now.",
                "Great, that was the culprit. Re-serializing changes whitespace and key order, so the HMAC no longer "
                "matches. "
                "Failed deliveries from the last few hours can be replayed from Settings > Webhooks > Delivery log.",
            ),
        ],
    },
    {
        "id": "globex-promo-sale",
        "tenant": "globex",
        "lang": "en",
        "turns": [
            (
                "The code WINTER25 says 'not valid for items in your cart'. I have a dutch oven and two tea towels.",
                "WINTER25 only applies to full-price items, and the dutch oven in your cart is already on sale, so the "
                "code "
                "skips it. It should still work on the tea towels if they're at full price. If it still won't apply, "
                "let me "
                "know and I'll check the code on my side.",
            ),
        ],
    },
    {
        "id": "hooli-lost-2sv-phone",
        "tenant": "hooli",
        "lang": "en",
        "turns": [
            (
                "I lost my phone and it was my 2-step verification device. I can't get into my account.",
                "Sorry, that's stressful. If you saved backup codes when you set up 2-Step Verification, you can use "
                "one of them "
                "on the sign-in screen by choosing 'Try another way'. If you don't have backup codes, start account "
                "recovery at "
                "accounts.hooli.com/recovery from a device you've used before and answer as many questions as you can. "
                "Recovery "
                "usually takes 3-5 days while we verify it's really you.",
            ),
            (
                "I don't have backup codes. Is there any faster way?",
                "Unfortunately there isn't a faster path, because the waiting period protects your account from "
                "someone who "
                "might have your lost phone. Using a familiar device and Wi-Fi network for the recovery request makes "
                "it more "
                "likely to succeed on the first try. Once you're back in, remove the lost phone under Security > Your "
                "devices.",
            ),
        ],
    },
    {
        "id": "acme-remove-seats",
        "tenant": "acme",
        "lang": "en",
        "turns": [
            (
                "If I remove 3 users from our Team workspace mid-month, do we get credit for the unused seats?",
                "Yes, if those 3 users are beyond the 10 seats included in Team. Extra seats removed mid-cycle are "
                "credited pro "
                "rata for the days left in the billing period, at $15 per seat per month. The credit is applied to "
                "your next "
                "invoice automatically.",
            ),
        ],
    },
    {
        "id": "umbrella-new-insurance",
        "tenant": "umbrella",
        "lang": "en",
        "turns": [
            (
                "I changed jobs and have a new insurance card (BlueRiver PPO). How do I update it before my next "
                "refill?",
                "You can update it in the app under Profile > Insurance > Add new plan, then take photos of the front "
                "and back "
                "of your new card. Set BlueRiver PPO as your primary plan and remove the old one. We'll verify "
                "coverage within "
                "one business day, and your next refill will be billed to the new plan.",
            ),
        ],
    },
    {
        "id": "globex-duvet-exchange",
        "tenant": "globex",
        "lang": "en",
        "turns": [
            (
                "The duvet cover I ordered (GX-41002361) is king size but my bed is a queen. Can I exchange it?",
                "Of course! Exchanges are free within 30 days of delivery. I can email you a prepaid return label now "
                "and ship "
                "the queen size as soon as the carrier scans your return. Would you like me to do that?",
            ),
            (
                "Yes. Same color (sage green) please.",
                "Done! I've emailed a prepaid return label for GX-41002361, and a queen duvet cover in sage green is "
                "reserved "
                "for you. It will ship as soon as your return gets its first carrier scan.",
            ),
        ],
    },
    {
        "id": "initech-direct-deposit",
        "tenant": "initech",
        "lang": "en",
        "turns": [
            (
                "I need to change my direct deposit to a new bank account. Will it be in time for the Nov 30 payroll?",
                "You can update it yourself under Profile > Pay settings > Direct deposit. Changes saved at least 3 "
                "business "
                "days before the pay date apply to that payroll, so if you update it by Nov 25 it should be used on "
                "Nov 30. "
                "Otherwise this payroll still goes to your current account and the new one is used from the next pay "
                "date.",
            ),
        ],
    },
    {
        "id": "acme-q3-export",
        "tenant": "acme",
        "lang": "en",
        "turns": [
            (
                "Is there a way to export all events from a project as CSV? We need everything from Q3 for an audit.",
                "Yes. Open the project, go to Data > Exports and create an export with the date range July 1 to "
                "September 30 "
                "and the CSV format. Large exports run in the background, and you'll get an email with a download link "
                "that's "
                "valid for 7 days. If you need the files split per day or per event type, choose that under "
                "'Partitioning' "
                "before you start.",
            ),
        ],
    },
    {
        "id": "hooli-storage-trash",
        "tenant": "hooli",
        "lang": "en",
        "turns": [
            (
                "It says my storage is full but I deleted a ton of files from Drive yesterday.",
                "Deleted Drive files stay in the Trash and still count toward your storage for 30 days. Empty the "
                "Trash in "
                "Drive to free that space right away. Also check Hooli Mail, since large attachments there share the "
                "same "
                "15 GB quota. It can take up to 24 hours for the storage meter to refresh.",
            ),
        ],
    },
    {
        "id": "globex-giftcard",
        "tenant": "globex",
        "lang": "en",
        "turns": [
            (
                "How do I check the balance on a Globex gift card? The card number ends in 4471.",
                "You can check it at globexshop.com/giftcard by entering the full card number and the PIN under the "
                "scratch-off "
                "strip. For security, I can't look up balances from a partial number here. If the balance looks wrong, "
                "reply "
                "with the order number the card was bought with and I'll take a look.",
            ),
        ],
    },
    {
        "id": "acme-dashboard-incident",
        "tenant": "acme",
        "lang": "en",
        "turns": [
            (
                "Are you having an incident? Our dashboards show no data since 10:40 UTC, workspace id ws_8f2c91.",
                "Yes, we're currently investigating delayed event processing in the us-east region that started around "
                "10:35 "
                "UTC. Your events are being accepted and stored, but dashboards may lag behind until processing "
                "catches up. "
                "You can follow updates at status.acme.dev, and I've added your workspace to the incident so you're "
                "notified "
                "when it's resolved.",
            ),
            (
                "Will we lose any events?",
                "No. Ingestion has stayed up the whole time, so every event sent during the incident is stored and "
                "will show up "
                "in your dashboards once the backlog is processed. Scheduled reports that ran during the delay will be "
                "re-run "
                "automatically.",
            ),
        ],
    },
    # ------------------------------------------------------------------ Chinese
    {
        "id": "stark-refund-earbuds",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "你好，我上周三申请的退款到现在还没到账，订单号 SC2611120387，退的是一副降噪耳机。",
                "您好，非常抱歉让您久等了。订单 SC2611120387 的退货已于11月18日签收入库，退款已经在11月19日原路退回。"
                "银行卡退款一般需要1-7个工作日到账，建议您先查看一下银行App的入账记录。如果11月28日之后仍未到账，"
                "请再联系我们，我们会为您提交加急核查。",
            ),
            (
                "我是用花呗付的，也是一样吗？",
                "花呗付款的退款会退回到花呗额度，通常1-3个工作日内恢复，不会进入银行卡。如果本期账单已经还款，"
                "退回的金额会抵扣下期账单。",
            ),
        ],
    },
    {
        "id": "stark-vat-special",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "请问怎么开增值税专用发票？我们公司买了 20 台 Stark Pad 用于办公。",
                "您好，企业采购可以开具增值税专用发票。请在订单详情页点击“申请开票”，发票类型选择“增值税专用发票”，"
                "并填写公司名称、纳税人识别号、注册地址电话以及开户行和账号。提交后我们会在3个工作日内审核，"
                "审核通过后电子专票会发送到您预留的邮箱。",
            ),
            (
                "订单已经确认收货一个月了，还能开吗？",
                "可以的，确认收货后180天内都可以申请开票。如果之前已经开过普通发票，需要先将原发票红冲，"
                "再重新开具专用发票，整个流程大约需要5个工作日。",
            ),
        ],
    },
    {
        "id": "stark-guangzhou-transit",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "我买的 Stark Buds Pro 显示已发货五天了，物流信息一直停在“广州转运中心”，订单号 SC2611150912。",
                "您好，给您带来不便非常抱歉。近期华南地区转运中心件量较大，部分包裹会出现物流信息延迟更新的情况。"
                "我已经为您向快递公司提交了催件工单，一般24小时内会有反馈。如果48小时后物流仍无更新，"
                "我们将为您补发或办理退款。",
            ),
            (
                "好的，那补发的话需要我做什么吗？",
                "不需要您额外操作。如果确认包裹丢失，我们会直接按原地址为您补发，并通过短信告知新的快递单号。"
                "如果您想修改收货地址，现在告诉我即可。",
            ),
        ],
    },
    {
        "id": "stark-close-account",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "怎么注销我的斯塔克账号？绑定的设备需要先解绑吗？",
                "您好，注销前需要先在“设备管理”中解绑所有设备，并确认没有未完成的订单和售后。然后进入“我的 > 设置 > "
                "账号与安全 > 注销账号”，按提示完成身份验证即可提交申请。注销申请有15天的冷静期，期间重新登录即可撤销；"
                "15天后账号及相关数据将被永久删除，无法恢复。",
            ),
        ],
    },
    {
        "id": "stark-green-line",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "我的 Stark Phone 12 屏幕突然出现一条绿线，去年12月买的，还在保修期内吗？",
                "您好，整机保修期为1年，从签收之日起计算，您去年12月购买的手机目前仍在保修期内。"
                "屏幕出现绿线属于常见的显示故障，只要没有进水或外力损伤，都可以免费维修。您可以选择寄修，"
                "或者前往线下服务中心检测。",
            ),
            (
                "寄修的话要多久？我平时要用手机。",
                "寄修一般需要5-7个工作日，包含往返物流时间。如果您比较着急，建议前往就近的授权服务中心，"
                "屏幕维修通常当天就能完成。",
            ),
            (
                "我在杭州西湖区，最近的服务中心在哪？",
                "杭州西湖区最近的授权服务中心在文三路398号东方通信大厦1楼，营业时间为每天9:00-18:00。"
                "建议您先在App的“服务 > 预约维修”中预约，到店后可以减少排队时间。",
            ),
        ],
    },
    {
        "id": "stark-plus-autorenew",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "我不想再自动续费 Stark+ 会员了，怎么关闭？这个月已经扣了 25 元。",
                "您可以在App中进入“我的 > 会员中心 > 自动续费管理”，点击“关闭自动续费”即可，"
                "关闭后当前会员有效期不受影响。本月已扣的25元对应本期会员权益，一般不支持退款。"
                "如果您是通过微信或支付宝签约的，还需要在对应的支付平台中取消免密支付协议。",
            ),
        ],
    },
    {
        "id": "stark-coupon-expired",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "双十一领的满 1000 减 100 的券为什么用不了？我买的是 1299 的手表。",
                "您好，这张优惠券的有效期是11月1日至11月20日，目前已经过期，所以无法使用。另外，"
                "这张券仅适用于手机品类，智能手表不在使用范围内。您可以在“我的 > 优惠券”中查看当前可用的券，"
                "手表品类目前有满1000减80的活动券可以领取。",
            ),
        ],
    },
    {
        "id": "stark-sms-code",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "登录的时候一直收不到短信验证码，已经试了好几次了。",
                "很抱歉给您带来困扰。请先确认手机号填写正确、手机信号正常，并检查短信是否被安全软件拦截到了“骚扰拦截”"
                "里。同一个手机号每天最多可以获取10次验证码，超过后需要第二天再试。您也可以选择“语音验证码”，"
                "系统会通过电话播报验证码。",
            ),
            (
                "被拦截了，找到了，谢谢",
                "不客气！建议您把我们的短信号码加入白名单，以后就不会再被拦截了。如果还有其他问题，随时联系我们。",
            ),
        ],
    },
    {
        "id": "stark-tradein-quote",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "以旧换新怎么估价？我有一台用了三年的 Stark Phone 9，屏幕有划痕。",
                "您好，您可以在App的“以旧换新”页面选择旧机型号，并如实填写外观和功能情况，系统会给出预估价格。"
                "屏幕有划痕一般会影响成色评级，最终价格以回收后的质检结果为准。下单新机时选择“以旧换新”，"
                "旧机估价会直接抵扣新机货款，还可以叠加换新补贴。",
            ),
        ],
    },
    {
        "id": "stark-watch-sync",
        "tenant": "stark-cn",
        "lang": "zh",
        "turns": [
            (
                "我的 Stark Watch 3 同步不了运动数据了，App 上一直显示“同步中”。",
                "您好，请先确认手机蓝牙已打开，并且 Stark Health App 在后台没有被系统清理。您可以尝试在App中下拉刷新，"
                "或者将手表重启后再同步。",
            ),
            (
                "重启过了，还是不行。",
                "好的，请在手机的蓝牙设置里忽略手表，然后在App中删除设备后重新配对，重新配对不会丢失手表上已有的数据。"
                "另外请确认App已更新到6.4.2及以上版本。",
            ),
            (
                "App 是 6.3.0，我更新一下试试",
                "好的，6.4.2版本修复了部分安卓机型同步卡住的问题，更新后再试一次应该就能恢复了。",
            ),
            (
                "更新之后可以同步了，但是昨天的睡眠数据没有了",
                "很抱歉，手表本地最多保存7天的运动数据，但睡眠数据只保存最近一晚的记录，如果昨晚的数据已经被覆盖，"
                "就无法找回了。建议您之后保持App在后台运行，以便数据自动同步。",
            ),
            (
                "好吧，知道了",
                "给您带来不便非常抱歉。如果之后再遇到同步问题，可以在App的“我的 > 帮助与反馈”里上传日志，"
                "我们的工程师会帮您进一步排查。",
            ),
        ],
    },
    {
        "id": "globex-zh-sheet-size",
        "tenant": "globex",
        "lang": "zh",
        "turns": [
            (
                "你好，我在 Globex 买的床单尺寸买错了，订单号 GX-41277650，能换成 1.8 米的吗？",
                "您好，当然可以。商品签收后30天内都可以免费换货。我已经为您生成了免费的退货面单，"
                "寄回后我们会为您发出1.8米的床单，新床单会在仓库收到退货后1-2个工作日内发出。",
            ),
        ],
    },
    # ------------------------------------------------------------------ Mixed zh/en
    {
        "id": "acme-mixed-invoice-missing",
        "tenant": "acme",
        "lang": "mixed",
        "turns": [
            (
                "我的 invoice 为什么还没到？order #A-20731，上个月 28 号就付款了",
                "您好，invoice 一般会在付款成功后24小时内发送到账单邮箱。order #A-20731 的 invoice "
                "已于10月29日发送到您账户的 billing contact 邮箱，可能被归到了垃圾邮件里。您也可以在 Settings > "
                "Billing > Invoices 里直接下载 PDF。",
            ),
            (
                "找到了，在 spam 里。能改一下账单邮箱吗？改成 finance@lumen-data.cn",
                "可以的。请在 Settings > Billing > Billing contacts 里把账单邮箱改为 finance@lumen-data.cn，只有 "
                "workspace 的 Owner 或 Billing admin 有权限修改。修改后，所有 invoice 和付款通知都会发送到新邮箱。",
            ),
        ],
    },
    {
        "id": "acme-mixed-429-qps",
        "tenant": "acme",
        "lang": "mixed",
        "turns": [
            (
                "API 一直返回 429 Too Many Requests，我们 QPS 才 20 左右，是不是 rate limit 配置有问题？",
                "您好，rate limit 是按 workspace 计算的：Free plan 每分钟 60 个 requests，Pro plan 每分钟 300 个，Team "
                "plan 每分钟 1,200 个。20 QPS 相当于每分钟 1,200 个 requests，已经超过了 Free 和 Pro 的限制。建议您把 "
                "events 合并成 batch 发送（每个 request 最多 500 条），同时根据 response 里的 Retry-After header 做 "
                "backoff。",
            ),
            (
                "我们是 Pro plan 啊，workspace 是 ws_31ad07",
                "确认过了，ws_31ad07 是 Pro plan，上限是每分钟 300 个 requests，也就是 5 QPS 左右，所以 20 QPS "
                "依然会被限流。如果不方便改成 batch，可以升级到 Team plan，或者我帮您提交临时提额的申请。",
            ),
        ],
    },
    {
        "id": "acme-mixed-plan-compare",
        "tenant": "acme",
        "lang": "mixed",
        "turns": [
            (
                "请问 Pro plan 和 Team plan 的区别是什么？我们 team 有 12 个人",
                "主要区别有三点：Team plan 支持 SAML SSO 和 audit log；rate limit 是每分钟 1,200 个 requests（Pro 是 "
                "300）；raw events 保留 13 个月（Pro 是 90 天）。价格上，Team plan 每月 $199 含 10 个 seats，额外每个 "
                "seat 每月 $15，所以 12 个人是每月 $229。Pro plan 每月 $49，但最多只能有 5 个成员，不适合 12 "
                "人的团队。",
            ),
        ],
    },
    {
        "id": "globex-mixed-paypal-refund",
        "tenant": "globex",
        "lang": "mixed",
        "turns": [
            (
                "refund 申请提交后多久能到账？我用的是 PayPal，订单 GX-41120934",
                "您好，订单 GX-41120934 的 refund 已经在11月21日处理完成。PayPal 退款通常1-3个工作日内到账，"
                "会直接退回您的 PayPal balance 或原付款卡。如果11月26日之后还没看到，请回复我，我们会联系 PayPal "
                "核查。",
            ),
        ],
    },
    {
        "id": "acme-mixed-azure-sso",
        "tenant": "acme",
        "lang": "mixed",
        "turns": [
            (
                "SSO 登录一直报 error: invalid_grant，我们用的是 Azure AD，昨天还好好的",
                "invalid_grant 通常是 SAML assertion 校验失败导致的，最常见的原因是 IdP 的 signing certificate "
                "过期或被轮换了。请在 Azure AD 的 Enterprise application 里检查 SAML Signing Certificate 的有效期，"
                "如果有新证书，需要重新下载 Federation Metadata XML 并上传到 Acme 的 Settings > Security > Single "
                "sign-on。另外也请确认服务器时间偏差不超过5分钟。",
            ),
            (
                "确实是证书昨天 rotate 了，上传新的 metadata 后好了",
                "太好了！建议您在 Azure AD 里为证书到期设置提醒邮件，或者在新证书生效前先把它上传到 Acme，这样下次 "
                "rotate 的时候就不会中断登录。",
            ),
        ],
    },
    {
        "id": "hooli-mixed-backup-codes",
        "tenant": "hooli",
        "lang": "mixed",
        "turns": [
            (
                "2-Step Verification 的 backup codes 在哪里生成？我怕以后换手机登不上",
                "您可以在 myaccount.hooli.com 的 Security > 2-Step Verification > Backup codes 里生成一组 10 个 backup "
                "codes，每个 code 只能使用一次。建议打印出来或保存在 password manager 里，不要截图存在手机相册。"
                "重新生成后，旧的 codes 会全部失效。",
            ),
        ],
    },
    {
        "id": "stark-mixed-app-crash",
        "tenant": "stark-cn",
        "lang": "mixed",
        "turns": [
            (
                "App 更新到 v5.2 之后一打开就 crash，手机是 Stark Phone 11，Android 14",
                "您好，非常抱歉。v5.2.0 在部分 Android 14 机型上存在启动 crash 的问题，我们已经在 v5.2.1 中修复，"
                "预计今天晚些时候在应用商店上线。在此之前，您可以在“设置 > 应用 > Stark > 存储”中清除缓存后重试，"
                "通常可以恢复正常。",
            ),
            (
                "清了 cache 还是 crash",
                "抱歉给您带来不便。建议您先卸载 v5.2.0，到官网 stark.cn/app 下载 v5.1.8 安装包临时使用，"
                "账号数据都保存在云端，重新登录后不会丢失。等 v5.2.1 上线后再更新即可。",
            ),
        ],
    },
    {
        "id": "acme-mixed-webhook-retry",
        "tenant": "acme",
        "lang": "mixed",
        "turns": [
            (
                "webhook delivery 失败之后会 retry 几次？间隔是多少？我们 endpoint 昨晚 down 了 2 小时",
                "webhook delivery 失败后会自动 retry 最多 8 次，采用 exponential backoff，总时长大约 24 小时。所以昨晚 "
                "2 小时 downtime 期间的 events 应该会被自动补发。如果有 delivery 最终失败，可以在 Settings > Webhooks "
                "> Delivery log 里手动 replay。",
            ),
        ],
    },
    {
        "id": "stark-mixed-nfc-card",
        "tenant": "stark-cn",
        "lang": "mixed",
        "turns": [
            (
                "Stark Phone 12 的 NFC 能模拟门禁卡吗？我们小区用的是 IC 卡",
                "可以的。打开“钱包 > 门卡 > 添加门卡”，选择“模拟实体门卡”，把 IC 卡贴近手机背面的 NFC 区域即可读取。"
                "需要注意，部分加密门禁卡无法直接模拟，这种情况可以选择“空白卡”，再到物业写入授权。",
            ),
        ],
    },
    {
        "id": "hooli-mixed-share-link",
        "tenant": "hooli",
        "lang": "mixed",
        "turns": [
            (
                "Hooli Drive 分享的 link 别人打开显示 'You need access'，我已经设置成 anyone with the link 了",
                "如果已经设置为 'Anyone with the link'，对方仍然看到 'You need access'，通常是因为您的账号属于 "
                "workspace 组织，管理员限制了对外分享。请确认 Share 设置里的访问权限没有被限定在组织内部，或者联系您的 "
                "workspace admin 开启 external sharing。另外，如果对方登录的是另一个 Hooli 账号，"
                "也可以让他切换账号或用无痕窗口打开。",
            ),
        ],
    },
]

# Long, verbose answers that claude-haiku-4-5 starts and that hit max_tokens (finish_reason "length").
SUPPORT_HAIKU_LONG = {
    ("acme-okta-sso", 0): (
        "Great question! Setting up SAML SSO with Okta usually takes about 15 minutes. Here's a step-by-step "
        "walkthrough:\n\n"
        "1. **Check your plan.** SAML SSO is available on the Team and Enterprise plans, so make sure your workspace "
        "is on "
        "one of those first.\n"
        "2. **Get the Acme values.** In Acme, go to Settings > Security > Single sign-on and copy the ACS (Assertion "
        "Consumer Service) URL and the Entity ID. Keep this tab open, you'll come back to it.\n"
        "3. **Create the Okta app.** In the Okta Admin Console, go to Applications > Create App Integration, choose "
        'SAML 2.0, and give it a name like "Acme Cloud" so your users recognize it on their dashboard.\n'
        '4. **Configure the SAML settings.** Paste the ACS URL into "Single sign-on URL" and the Entity ID into '
        '"Audience URI (SP Entity ID)". Set the Name ID format to EmailAddress and the Application username to Email.\n'
        "5. **Add attribute statements (optional).** You can map firstName, lastName and groups if you want Acme to "
        "pick "
        "up display names and group membership automatically.\n"
        "6. **Download the metadata.** After saving, open the Sign On tab of the new app in Okta and download the "
        "Identity Provider metadata XML file.\n"
        "7. **Upload it to Acme.** Back on the Acme SSO page, upload the metadata XML and click Save. Acme will "
        "validate "
        "the certificate and show the IdP issuer it detected.\n"
        "8. **Test before enforcing.** Assign the app to yourself in Okta and try signing in through SSO in a private "
        'browser window. Once that works, assign the rest of your users and turn on "Enforce SSO" so that everyone '
        "in the workspace signs in through Okta from then on. Workspace Owners keep a break-glass password login in "
        "case Okta is ever unavailable, which is worth documenting for your team."
    ),
    ("acme-webhook-rotation", 0): (
        "Thanks for the details, this is a really common issue right after a secret rotation, so let's work through "
        "it.\n\n"
        "**Why this happens**\n"
        "When you rotate the signing secret, Acme starts signing new deliveries with the new secret right away. "
        "However, "
        "any deliveries that were already queued, or that are being retried after an earlier failure, are still signed "
        "with the old secret for up to 24 hours. If your endpoint only knows about the new secret, those deliveries "
        "will "
        "fail verification.\n\n"
        "**What to do**\n"
        "1. During the 24-hour overlap, configure your endpoint to accept a signature that matches *either* the old or "
        "the new secret.\n"
        "2. Make sure you compute the HMAC-SHA256 over the **raw request body** exactly as received. If your framework "
        "parses the JSON first and you re-serialize it, whitespace and key order can change and the signature will "
        "never match.\n"
        "3. Compare your result against the `v1=` value in the `Acme-Signature` header, using a constant-time "
        "comparison function to avoid timing attacks.\n"
        "4. Check that the environment variable actually reloaded: many platforms only pick up new environment "
        "variables after a restart or a redeploy.\n\n"
        "**Verifying the fix**\n"
        "Once you've deployed the change, trigger a test event from Settings > Webhooks > Send test event and watch "
        "the "
        "delivery log. Any deliveries that failed in the meantime can be replayed from the same page once verification "
        "passes again, so you won't lose any events."
    ),
    ("stark-vat-special", 0): (
        "您好，感谢您选择斯塔克为企业办公采购设备！企业采购 Stark Pad 是可以开具增值税专用发票的，具体操作步骤如下："
        "\n\n1. **进入订单详情**：打开斯塔克商城App或官网，进入“我的订单”，找到本次购买20台 Stark Pad 的订单，"
        "点击进入订单详情页。\n2. **申请开票**：在订单详情页底部点击“申请开票”，发票类型请选择“增值税专用发票”。\n3. "
        "**填写开票信息**：需要准确填写以下信息：\n   - 公司名称（需与营业执照上的名称完全一致）\n   - "
        "纳税人识别号（即统一社会信用代码）\n   - 注册地址及电话\n   - 开户银行及银行账号\n4. **提交审核**：提交后，"
        "我们会在3个工作日内完成审核。审核通过后，电子专票会发送到您预留的邮箱，您也可以在订单详情页直接下载。"
        "\n\n温馨提示：\n- 请务必确保开票信息准确无误，专用发票开具后如需修改，需要先进行红冲处理，整个流程会相对较长。"
        "\n- 如果贵公司的财务需要纸质专票，可以在申请时的备注栏中说明，我们会通过顺丰快递为您寄出，"
        "一般在审核通过后的2个工作日内发出。\n- 如果采购数量较大，后续还有批量采购需求，也可以联系我们的企业客户经理，"
        "享受企业专属价格和账期服务。"
    ),
}


# ===========================================================================
# Workflow 2: invoice_extraction (OpenAI, gpt-4o-2024-08-06, strict json_schema)
# ===========================================================================

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "description": "Legal name of the seller as printed on the document."},
        "invoice_number": {"type": "string", "description": "Invoice, receipt or ticket number exactly as printed."},
        "issue_date": {"type": "string", "description": "Issue date in ISO 8601 format (YYYY-MM-DD)."},
        "currency": {"type": "string", "enum": ["USD", "EUR", "GBP", "CNY", "JPY", "CAD", "AUD", "SGD"]},
        "total": {"type": "number", "description": "Final amount payable, including tax."},
        "line_items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "quantity": {"type": "integer"},
                    "unit_price": {"type": "number"},
                },
                "required": ["description", "quantity", "unit_price"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["vendor", "invoice_number", "issue_date", "currency", "total", "line_items"],
    "additionalProperties": False,
}

INVOICE_SYSTEM = (
    "You are an accounts-payable assistant. Extract the fields defined by the JSON schema from the invoice, receipt or "
    "fapiao text supplied by the user.\nRules:\n- issue_date must be YYYY-MM-DD. Read day/month order according to the "
    "vendor's country.\n- total is the final amount payable including tax (for Chinese fapiao: 价税合计), as a plain "
    "number.\n- currency is the ISO 4217 code; infer it from symbols and the vendor's country if it is not written "
    "out.\n- line_items: one entry per billed line, in document order; unit_price excludes tax when the document shows "
    "tax separately.\n- Keep vendor names and descriptions in the original language and spelling."
)

EN_BUYERS = {
    "acme": ("Acme Cloud Inc.", "1 Market Plaza, Suite 400, San Francisco, CA 94105, USA", "acme.dev"),
    "initech": ("Initech LLC", "4120 Freidrich Lane, Austin, TX 78744, USA", "initech.com"),
    "globex": ("Globex Corporation", "1200 Harbor View Dr, Lake Oswego, OR 97035, USA", "globex.com"),
}
ZH_BUYER = ("斯塔克智能科技（上海）有限公司", "91310000MA1FL8K26R", "上海市闵行区申长路988弄虹桥万科中心3号楼")

EN_VENDORS = [
    dict(
        key="northwind",
        name="Northwind Office Supplies Ltd.",
        addr="14 Wharf Road, London N1 7GR, United Kingdom",
        taxid="VAT Reg. No. GB 284 7193 55",
        currency="GBP",
        sym="£",
        tax_label="VAT",
        tax_rate=0.20,
        num="NW-{n:06d}",
        date_style="uk",
        fmt="en",
        domain="northwind-office.co.uk",
        person="Priya Raman",
        layouts=["formal", "email", "ocr"],
        items=[
            ("A4 copier paper 80gsm, box of 5 reams", (1, 12), 23.50),
            ("Laser toner cartridge, black (TN-2420)", (1, 6), 64.99),
            ("Ergonomic mesh office chair", (1, 8), 189.00),
            ("Whiteboard markers, assorted (pack of 12)", (1, 10), 8.75),
            ("Bamboo desk organiser", (2, 15), 14.20),
            ("Dual monitor arm, gas spring", (1, 6), 74.00),
            ("Recycled sticky notes 76x76mm (12 pads)", (2, 20), 6.40),
            ("Lever arch files A4, black (box of 10)", (1, 5), 21.90),
        ],
    ),
    dict(
        key="blueharbor",
        name="Blue Harbor Cloud Services, Inc.",
        addr="500 Harbor Blvd, Suite 1200, San Francisco, CA 94107",
        taxid="EIN 84-2917735",
        currency="USD",
        sym="$",
        tax_label="Sales tax",
        tax_rate=0.0,
        num="BH-{y}{m:02d}-{n:05d}",
        date_style="long",
        fmt="en",
        domain="blueharbor.cloud",
        person="Billing Team",
        layouts=["us", "email", "formal"],
        items=[
            ("Compute instance c6.xlarge (hours)", (300, 744), 0.17),
            ("Block storage, SSD (GB-month)", (500, 4000), 0.08),
            ("Managed Postgres db.m5.large (hours)", (744, 744), 0.36),
            ("Data transfer out (GB)", (200, 3000), 0.09),
            ("Premium support plan (monthly)", (1, 1), 250.00),
            ("Load balancer (hours)", (744, 744), 0.025),
        ],
    ),
    dict(
        key="kettle",
        name="Kettle & Crumb Catering",
        addr="212 W 38th St, New York, NY 10018",
        taxid="",
        currency="USD",
        sym="$",
        tax_label="Sales tax",
        tax_rate=0.08875,
        num="KC-{n:04d}",
        date_style="us",
        fmt="en",
        domain="kettleandcrumb.com",
        person="Dana Whitfield",
        layouts=["us", "email"],
        items=[
            ("Mediterranean lunch platter (serves 10)", (1, 4), 185.00),
            ("Assorted pastries (dozen)", (1, 5), 42.00),
            ("Cold brew coffee box (96 oz)", (1, 6), 38.50),
            ("Seasonal fruit platter, large", (1, 3), 64.00),
            ("Vegan grain bowl", (5, 30), 14.50),
            ("Delivery and setup", (1, 1), 45.00),
        ],
    ),
    dict(
        key="brightline",
        name="Brightline Freight GmbH",
        addr="Hafenstraße 42, 20457 Hamburg, Deutschland",
        taxid="USt-IdNr. DE 291 847 362",
        currency="EUR",
        sym="€",
        tax_label="MwSt.",
        tax_rate=0.19,
        num="RE-2026-{n:05d}",
        date_style="de",
        fmt="de",
        domain="brightline-freight.de",
        person="Jonas Petersen",
        layouts=["formal", "ocr"],
        items=[
            ("Road freight Hamburg - Munich, full truckload", (1, 3), 1450.00),
            ("Pallet handling", (8, 33), 12.50),
            ("Customs documentation", (1, 2), 85.00),
            ("Fuel surcharge", (1, 1), 176.40),
            ("Waiting time (per hour)", (1, 4), 55.00),
            ("Tail-lift delivery", (1, 2), 95.00),
        ],
    ),
    dict(
        key="mapleleaf",
        name="Maple Leaf Print Co.",
        addr="88 Queen St E, Toronto, ON M5C 1S1, Canada",
        taxid="HST # 81274 9301 RT0001",
        currency="CAD",
        sym="$",
        tax_label="HST",
        tax_rate=0.13,
        num="MLP-{n:05d}",
        date_style="long",
        fmt="en",
        domain="mapleleafprint.ca",
        person="Olivia Tremblay",
        layouts=["formal", "email", "us"],
        items=[
            ("Business cards, 500 pcs, matte", (1, 6), 79.00),
            ("Tri-fold brochures (1,000)", (1, 3), 420.00),
            ("Retractable banner 33x81in", (1, 4), 159.00),
            ("Design revision (hour)", (1, 4), 65.00),
            ("Letterhead, 250 sheets", (1, 4), 58.00),
        ],
    ),
    dict(
        key="sakura",
        name="Sakura Translation K.K.",
        addr="3-5-1 Shibuya, Shibuya-ku, Tokyo 150-0002, Japan",
        taxid="Registration No. T5011001087743",
        currency="JPY",
        sym="¥",
        tax_label="Consumption tax",
        tax_rate=0.10,
        num="ST-{y}-{n:04d}",
        date_style="slash",
        fmt="jp",
        domain="sakura-translation.jp",
        person="Haruka Mori",
        layouts=["formal", "email"],
        items=[
            ("Translation EN>JA (per 1,000 characters)", (5, 40), 4800),
            ("Proofreading (per page)", (5, 30), 1500),
            ("Rush handling fee", (1, 1), 20000),
            ("Terminology glossary setup", (1, 1), 35000),
            ("Localization QA (hour)", (2, 10), 6500),
        ],
    ),
    dict(
        key="harbourbridge",
        name="Harbour Bridge IT Pty Ltd",
        addr="Level 9, 60 Margaret St, Sydney NSW 2000, Australia",
        taxid="ABN 53 614 902 118",
        currency="AUD",
        sym="$",
        tax_label="GST",
        tax_rate=0.10,
        num="HBIT-{n:05d}",
        date_style="uk",
        fmt="en",
        domain="harbourbridgeit.com.au",
        person="Liam O'Connor",
        layouts=["formal", "ocr", "email"],
        items=[
            ("Managed IT support - monthly retainer", (1, 1), 2400.00),
            ("Laptop setup and imaging", (1, 8), 95.00),
            ("Office suite licence (per user, monthly)", (10, 40), 18.70),
            ("On-site call-out", (1, 3), 180.00),
            ("Firewall firmware upgrade", (1, 1), 320.00),
        ],
    ),
    dict(
        key="lioncity",
        name="Lion City Logistics Pte. Ltd.",
        addr="21 Changi South Ave 2, Singapore 486137",
        taxid="GST Reg. No. 201734829K",
        currency="SGD",
        sym="S$",
        tax_label="GST",
        tax_rate=0.09,
        num="LCL/{y}/{n:05d}",
        date_style="uk",
        fmt="en",
        domain="lioncitylogistics.sg",
        person="Tan Wei Ling",
        layouts=["formal", "email"],
        items=[
            ("Warehousing (pallet-month)", (10, 60), 28.00),
            ("Pick and pack (per order)", (200, 1500), 1.35),
            ("Last-mile delivery (per parcel)", (100, 600), 6.90),
            ("Returns processing (per item)", (10, 80), 2.50),
        ],
    ),
    dict(
        key="redwood",
        name="Redwood Legal LLP",
        addr="1 Market St, Spear Tower, 36th Floor, San Francisco, CA 94105",
        taxid="",
        currency="USD",
        sym="$",
        tax_label="Tax",
        tax_rate=0.0,
        num="RL-{n:06d}",
        date_style="long",
        fmt="en",
        domain="redwoodlegal.com",
        person="Accounts Receivable",
        layouts=["us", "formal"],
        items=[
            ("Contract review - SaaS MSA (hours)", (2, 9), 425.00),
            ("Trademark filing preparation, class 9", (1, 1), 350.00),
            ("USPTO filing fee (disbursement)", (1, 1), 350.00),
            ("Employment agreement drafting (hours)", (1, 5), 425.00),
            ("Courier and filing costs", (1, 1), 48.20),
        ],
    ),
    dict(
        key="atlas",
        name="Atlas Coworking B.V.",
        addr="Keizersgracht 520, 1017 EK Amsterdam, Nederland",
        taxid="BTW NL862204917B01",
        currency="EUR",
        sym="€",
        tax_label="BTW",
        tax_rate=0.21,
        num="ATL-{n:05d}",
        date_style="nl",
        fmt="de",
        domain="atlascoworking.nl",
        person="Sanne de Vries",
        layouts=["formal", "ocr"],
        items=[
            ("Dedicated desk - December", (1, 8), 390.00),
            ("Meeting room (hour)", (1, 12), 35.00),
            ("Locker rental (month)", (1, 8), 15.00),
            ("Mail handling service (month)", (1, 1), 29.00),
            ("Day pass", (1, 10), 32.00),
        ],
    ),
    dict(
        key="pixelforge",
        name="Pixelforge Software Ltd",
        addr="Unit 4, Baltic Triangle, Liverpool L1 0AH, United Kingdom",
        taxid="VAT Reg. No. GB 311 5820 14 (reverse charge)",
        currency="USD",
        sym="US$",
        tax_label="VAT",
        tax_rate=0.0,
        num="PF-INV-{n:05d}",
        date_style="iso",
        fmt="en",
        domain="pixelforge.io",
        person="Pixelforge Billing",
        layouts=["email", "formal"],
        items=[
            ("Pixelforge Studio Pro licence (annual, per seat)", (2, 12), 299.00),
            ("Priority support add-on (annual, per seat)", (2, 12), 49.00),
            ("Onboarding workshop (remote, half day)", (1, 1), 600.00),
        ],
    ),
    dict(
        key="greenleaf",
        name="Greenleaf Janitorial Services LLC",
        addr="7781 Commerce Park Dr, Austin, TX 78744",
        taxid="",
        currency="USD",
        sym="$",
        tax_label="Sales tax",
        tax_rate=0.0825,
        num="GJS-{n:04d}",
        date_style="us",
        fmt="en",
        domain="greenleafjanitorial.com",
        person="Marisol Vega",
        layouts=["us", "ocr"],
        items=[
            ("Office cleaning - weekly visit", (4, 5), 180.00),
            ("Carpet deep clean", (1, 1), 320.00),
            ("Interior window cleaning", (1, 1), 140.00),
            ("Restroom supplies restock", (1, 2), 62.50),
        ],
    ),
    dict(
        key="summit",
        name="Summit Events & AV",
        addr="455 Embarcadero West, Oakland, CA 94607",
        taxid="",
        currency="USD",
        sym="$",
        tax_label="Sales tax",
        tax_rate=0.1025,
        num="SEAV-{n:04d}",
        date_style="us",
        fmt="en",
        domain="summitav.com",
        person="Chris Delgado",
        layouts=["us", "email"],
        items=[
            ("Projector rental (per day)", (1, 3), 150.00),
            ("Wireless microphone kit (per day)", (1, 3), 75.00),
            ("AV technician (hours)", (4, 10), 85.00),
            ("LED uplighting package", (1, 1), 280.00),
            ("Delivery and pickup", (1, 1), 120.00),
        ],
    ),
]

RECEIPT_VENDORS = [
    dict(
        key="lumiere",
        name="Café Lumière",
        addr="12 Rue des Martyrs, 75009 Paris",
        taxid="SIRET 812 447 920 00018",
        currency="EUR",
        sym="€",
        tax_label="TVA",
        tax_rate=0.10,
        num="{n:04d}-{k:03d}",
        date_style="fr",
        fmt="de",
        pay="CB VISA ****4411",
        thanks="Merci de votre visite !",
        items=[
            ("Café crème", (1, 4), 4.20),
            ("Croissant", (1, 4), 1.90),
            ("Quiche lorraine", (1, 3), 9.50),
            ("Salade niçoise", (1, 2), 14.00),
            ("Eau minérale 50cl", (1, 3), 3.50),
            ("Tarte au citron", (1, 2), 5.80),
        ],
    ),
    dict(
        key="baycity",
        name="Bay City Cabs",
        addr="1750 Bayshore Blvd, San Francisco, CA 94124",
        taxid="TCP 31842-A",
        currency="USD",
        sym="$",
        tax_label="Tax",
        tax_rate=0.0,
        num="TRIP {n:07d}",
        date_style="us",
        fmt="en",
        pay="AMEX ****1008",
        thanks="Thank you for riding with Bay City Cabs",
        items=[
            ("Metered fare", (1, 1), 54.30),
            ("Airport surcharge", (1, 1), 5.00),
            ("Bridge toll", (1, 1), 8.00),
            ("Tip", (1, 1), 11.00),
        ],
    ),
    dict(
        key="canalhouse",
        name="Canal House Hotel",
        addr="Keizersgracht 148, 1015 CX Amsterdam",
        taxid="BTW NL801337562B01",
        currency="EUR",
        sym="€",
        tax_label="BTW",
        tax_rate=0.09,
        num="FOLIO {n:06d}",
        date_style="nl",
        fmt="de",
        pay="Mastercard ****7720",
        thanks="We hope to welcome you again soon.",
        items=[
            ("Deluxe Canal View room (per night)", (1, 4), 245.00),
            ("Breakfast buffet", (1, 6), 24.50),
            ("Minibar", (1, 1), 18.00),
            ("Laundry service", (1, 1), 32.00),
        ],
    ),
]

ZH_VENDORS = [
    dict(
        key="yunqi",
        name="上海云启信息技术有限公司",
        taxid="91310115MA1K4B7X2Q",
        region="31",
        rate=0.06,
        cat="信息技术服务",
        person="陈静",
        items=[
            ("云服务器ECS 8核32G（包月）", "台", (2, 20), 1280.00),
            ("对象存储OSS", "TB·月", (5, 60), 120.00),
            ("CDN流量包 10TB", "个", (1, 3), 1500.00),
            ("技术支持服务费", "项", (1, 1), 3000.00),
            ("云数据库RDS MySQL 4核16G（包月）", "台", (1, 4), 1650.00),
        ],
    ),
    dict(
        key="huatuo",
        name="深圳市华拓电子有限公司",
        taxid="91440300MA5F8R3W6N",
        region="44",
        rate=0.13,
        cat="电子元件",
        person="林晓东",
        items=[
            ("USB-C数据线 1m", "条", (500, 3000), 6.80),
            ("65W氮化镓充电器", "个", (200, 1000), 48.50),
            ("5000mAh锂电池电芯", "个", (500, 2000), 22.30),
            ("Type-C母座连接器", "个", (1000, 10000), 0.85),
        ],
    ),
    dict(
        key="jiannuo",
        name="北京简诺办公用品有限公司",
        taxid="91110108MA01H2K73P",
        region="11",
        rate=0.13,
        cat="纸制品",
        person="王丽",
        items=[
            ("A4复印纸 70g（5包/箱）", "箱", (5, 40), 115.00),
            ("中性笔 0.5mm（12支/盒）", "盒", (5, 30), 18.00),
            ("四门文件柜", "台", (1, 4), 860.00),
            ("碎纸机", "台", (1, 2), 1290.00),
            ("白板 120×90cm", "块", (1, 4), 268.00),
        ],
    ),
    dict(
        key="qinghe",
        name="杭州青禾餐饮管理有限公司",
        taxid="91330106MA2H5UJ41D",
        region="33",
        rate=0.06,
        cat="餐饮服务",
        person="赵敏",
        items=[
            ("员工午餐", "份", (100, 600), 28.00),
            ("会议茶歇", "套", (1, 4), 680.00),
            ("节日礼盒", "盒", (20, 120), 168.00),
        ],
    ),
    dict(
        key="shunda",
        name="广州顺达物流有限公司",
        taxid="91440101MA59T6QY8C",
        region="44",
        rate=0.09,
        cat="运输服务",
        person="黄志强",
        items=[
            ("干线运输 广州-上海（整车）", "车", (1, 4), 6800.00),
            ("装卸费", "吨", (5, 40), 35.00),
            ("保价费", "项", (1, 1), 260.00),
            ("仓储费", "托·天", (30, 300), 4.50),
        ],
    ),
    dict(
        key="jincheng",
        name="成都锦程商务酒店有限公司",
        taxid="91510104MA6CJ9P02L",
        region="51",
        rate=0.06,
        cat="住宿服务",
        person="刘洋",
        items=[
            ("住宿费（标准间）", "间夜", (2, 12), 458.00),
            ("会议室租赁", "天", (1, 2), 2200.00),
            ("会议餐费", "人次", (10, 60), 88.00),
        ],
    ),
    dict(
        key="zhizao",
        name="苏州智造模具有限公司",
        taxid="91320505MA1WQ8E45T",
        region="32",
        rate=0.13,
        cat="模具",
        person="周建华",
        items=[
            ("注塑模具 外壳上盖", "套", (1, 1), 38000.00),
            ("注塑模具 外壳下盖", "套", (1, 1), 35500.00),
            ("试模费", "次", (1, 3), 2000.00),
            ("模具修改费", "项", (1, 1), 4800.00),
        ],
    ),
    dict(
        key="guanggu",
        name="武汉光谷人力资源服务有限公司",
        taxid="91420100MA4KX3T87B",
        region="42",
        rate=0.06,
        cat="人力资源服务",
        person="孙蕾",
        items=[
            ("招聘服务费", "项", (1, 2), 15000.00),
            ("背景调查", "人次", (3, 15), 300.00),
            ("劳务派遣管理费", "人·月", (5, 40), 260.00),
        ],
    ),
]

ZH_LAYOUTS = ["zh_special", "zh_normal", "zh_email", "zh_scan"]


def fmt_date(d: dt.date, style: str) -> str:
    if style == "uk":
        return f"{d.day} {d:%b %Y}"
    if style == "us":
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if style == "long":
        return f"{d:%B} {d.day}, {d.year}"
    if style == "de":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if style == "nl":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if style == "fr":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "slash":
        return f"{d.year}/{d.month:02d}/{d.day:02d}"
    if style == "zh":
        return f"{d.year}年{d.month:02d}月{d.day:02d}日"
    return d.isoformat()


def fmt_money(x: float, fmt: str) -> str:
    if fmt == "jp":
        return f"{round(x):,}"
    s = f"{x:,.2f}"
    if fmt == "de":
        s = s.replace(",", "X").replace(".", ",").replace("X", ".")
    return s


def fmt_unit_price(x: float, fmt: str) -> str:
    if fmt == "jp":
        return f"{round(x):,}"
    s = f"{x:,.3f}" if round(x, 2) != x else f"{x:,.2f}"
    if fmt == "de":
        s = s.replace(",", "X").replace(".", ",").replace("X", ".")
    return s


def rmb_upper(amount: float) -> str:
    digits = "零壹贰叁肆伍陆柒捌玖"
    cents = round(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10

    def four(n: int) -> str:
        out, pending_zero = "", False
        for power, unit in ((3, "仟"), (2, "佰"), (1, "拾"), (0, "")):
            d = n // 10**power % 10
            if d == 0:
                pending_zero = bool(out)
            else:
                if pending_zero:
                    out += "零"
                    pending_zero = False
                out += digits[d] + unit
        return out

    parts, text = [(yuan // 10**8, "亿"), (yuan // 10**4 % 10**4, "万"), (yuan % 10**4, "")], ""
    for group, unit in parts:
        if group == 0:
            if text and not text.endswith("零"):
                text += "零"
            continue
        if text and group < 1000 and not text.endswith("零"):
            text += "零"
        text += four(group) + unit
    text = text.rstrip("零")
    if yuan == 0:
        text = ""
    out = (text + "元") if text else ""
    if jiao == 0 and fen == 0:
        return out + "整"
    if jiao:
        out += digits[jiao] + "角"
    elif text:
        out += "零"
    if fen:
        out += digits[fen] + "分"
    return out


def num(x):
    """Whole amounts are written without a fractional part, as a model would."""
    return int(x) if float(x).is_integer() else x


def _pick_items(vendor: dict, rng: random.Random, n_lo: int = 1, n_hi: int = 5) -> list[tuple]:
    pool = vendor["items"]
    n = rng.randint(min(n_lo, len(pool)), min(n_hi, len(pool)))
    idx = sorted(rng.sample(range(len(pool)), n))
    out = []
    for i in idx:
        item = pool[i]
        qlo, qhi = item[-2]
        qty = rng.randint(qlo, qhi)
        if qhi >= 200:  # round big quantities like a real bill would
            qty = max(qlo, round(qty, -1) if qhi < 5000 else round(qty, -2))
        out.append((*item[:-2], qty, item[-1]))
    return out


def _ocr_noise(text: str, rng: random.Random) -> str:
    # Typical OCR confusions, applied to labels only (amounts stay readable).
    repl = [
        ("Invoice", "lnvoice"),
        ("INVOICE", "INV0ICE"),
        ("Total", "Tota1"),
        ("Date", "Dale"),
        ("Subtotal", "Sub-total"),
        ("Description", "Descriptlon"),
        ("Qty", "Qtv"),
    ]
    for a, b in repl:
        if a in text and rng.random() < 0.6:
            text = text.replace(a, b, 1)
    return text


def render_en_invoice(v: dict, layout: str, inv: dict, rng: random.Random) -> str:
    sym, fmt, cur = v["sym"], v["fmt"], v["currency"]
    date_s = fmt_date(inv["date"], v["date_style"])
    due_s = fmt_date(inv["due"], v["date_style"])
    rate_pct = f"{v['tax_rate'] * 100:g}"
    buyer, buyer_addr, buyer_domain = inv["buyer"]
    lines = inv["lines"]
    M = lambda x: fmt_money(x, fmt)  # noqa: E731
    U = lambda x: fmt_unit_price(x, fmt)  # noqa: E731
    if layout == "formal":
        out = [v["name"], v["addr"]]
        if v["taxid"]:
            out.append(v["taxid"])
        out += [
            "",
            "INVOICE",
            "",
            f"Invoice No.:    {inv['number']}",
            f"Invoice Date:   {date_s}",
            f"Due Date:       {due_s}",
            f"Bill To:        {buyer}",
            f"                {buyer_addr}",
            "",
            f"{'Description':<50}{'Qty':>6}{'Unit Price':>14}{'Amount':>14}",
            "-" * 84,
        ]
        for desc, qty, price in lines:
            out.append(f"{desc:<50}{qty:>6}{U(price):>14}{M(qty * price):>14}")
        out.append("-" * 84)
        out.append(f"{'Subtotal':>70}{M(inv['subtotal']):>14}")
        if v["tax_rate"]:
            out.append(f"{v['tax_label'] + ' (' + rate_pct + '%)':>70}{M(inv['tax']):>14}")
        elif "reverse charge" in v["taxid"]:
            out.append(f"{'VAT 0% - reverse charge, Art. 196 VAT Directive':>70}{M(0):>14}")
        out.append(f"{'TOTAL DUE (' + cur + ')':>70}{sym + M(inv['total']):>14}")
        out += ["", f"Payment terms: {inv['terms']}. Please quote {inv['number']} with your payment."]
        return "\n".join(out)
    if layout == "us":
        out = [
            f"{v['name']}  |  {v['addr']}",
            "",
            f"INVOICE # {inv['number']}",
            f"Date: {fmt_date(inv['date'], 'us')}        Terms: {inv['terms']}",
            f"BILL TO: {buyer}, Attn: Accounts Payable",
            "",
            f"{'QTY':>5}  {'ITEM':<46}{'RATE':>12}{'AMOUNT':>14}",
        ]
        for desc, qty, price in lines:
            out.append(f"{qty:>5}  {desc:<46}{U(price):>12}{M(qty * price):>14}")
        out += ["", f"{'SUBTOTAL':>63}{M(inv['subtotal']):>14}"]
        if v["tax_rate"]:
            out.append(f"{v['tax_label'].upper() + ' (' + rate_pct + '%)':>63}{M(inv['tax']):>14}")
        out += [f"{'AMOUNT DUE (' + cur + ')':>63}{sym + M(inv['total']):>14}", "", "Thank you for your business!"]
        return "\n".join(out)
    if layout == "email":
        d = inv["date"]
        out = [
            "---------- Forwarded message ---------",
            f"From: {v['name']} <billing@{v['domain']}>",
            f"Date: {d:%a}, {d:%b} {d.day}, {d.year} at "
            f"{rng.randint(7, 17)}:{rng.choice(['02', '14', '27', '38', '51'])}",
            f"Subject: Invoice {inv['number']} from {v['name']}",
            f"To: <ap@{buyer_domain}>",
            "",
            f"Hello {buyer.split()[0]} team,",
            "",
            f"Please find below the details of invoice {inv['number']}, issued {date_s}.",
            "",
        ]
        for desc, qty, price in lines:
            out.append(f"  - {desc}: {qty} x {sym}{U(price)} = {sym}{M(qty * price)}")
        out += ["", f"Subtotal: {sym}{M(inv['subtotal'])}"]
        if v["tax_rate"]:
            out.append(f"{v['tax_label']} {rate_pct}%: {sym}{M(inv['tax'])}")
        out += [
            f"Total due: {sym}{M(inv['total'])} {cur}",
            "",
            f"Payment is due by {due_s}. Reply to this email if you have any questions.",
            "",
            "Kind regards,",
            v["person"],
            f"{v['name']}",
        ]
        return "\n".join(out)
    if layout == "ocr":
        out = ["[scanned document, page 1/1]", v["name"].upper(), v["addr"]]
        if v["taxid"]:
            out.append(v["taxid"])
        out += [
            "",
            f"Invoice   No {inv['number']}",
            f"Date  {date_s}",
            "",
            f"Description{' ' * 34}Qty   Price      Total",
        ]
        for desc, qty, price in lines:
            out.append(f"{desc}  {qty}   {U(price)}   {M(qty * price)}")
        out += ["", f"Subtotal  {M(inv['subtotal'])}"]
        if v["tax_rate"]:
            out.append(f"{v['tax_label']} {rate_pct}%  {M(inv['tax'])}")
        out.append(f"Total {cur}  {M(inv['total'])}")
        return _ocr_noise("\n".join(out), rng)
    raise ValueError(layout)


def render_receipt(v: dict, inv: dict, rng: random.Random) -> str:
    fmt, sym = v["fmt"], v["sym"]
    M = lambda x: fmt_money(x, fmt)  # noqa: E731
    w = 40
    out = [v["name"].center(w), v["addr"].center(w)]
    if v["taxid"]:
        out.append(v["taxid"].center(w))
    out += [
        "-" * w,
        f"{fmt_date(inv['date'], v['date_style'])} {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}   {inv['number']}",
        "-" * w,
    ]
    for desc, qty, price in inv["lines"]:
        label = f"{qty} x {desc}" if qty > 1 else desc
        out.append(f"{label[: w - 10]:<{w - 10}}{M(qty * price):>10}")
        if qty > 1:
            out.append(f"    @ {M(price)}")
    out += ["-" * w, f"{'TOTAL ' + v['currency']:<{w - 12}}{sym + ' ' + M(inv['total']):>12}"]
    if v["tax_rate"]:
        incl = inv["total"] - inv["total"] / (1 + v["tax_rate"])
        out.append(f"  dont/incl. {v['tax_label']} {v['tax_rate'] * 100:g}%: {M(incl)}")
    out += [v["pay"], "", v["thanks"].center(w)]
    return "\n".join(out)


def render_zh_invoice(v: dict, layout: str, inv: dict, rng: random.Random) -> str:
    buyer, buyer_tax, _buyer_addr = ZH_BUYER
    date_s = fmt_date(inv["date"], "zh")
    lines = inv["lines"]
    rate_pct = f"{v['rate'] * 100:g}%"
    M = lambda x: f"{x:,.2f}"  # noqa: E731
    if layout in ("zh_special", "zh_normal"):
        title = "电子发票（增值税专用发票）" if layout == "zh_special" else "电子发票（普通发票）"
        out = [
            title,
            f"发票号码：{inv['number']}",
            f"开票日期：{date_s}",
            "",
            "购买方信息",
            f"  名称：{buyer}",
            f"  统一社会信用代码/纳税人识别号：{buyer_tax}",
            "销售方信息",
            f"  名称：{v['name']}",
            f"  统一社会信用代码/纳税人识别号：{v['taxid']}",
            "",
            "项目名称                          单位      数量          单价            金额    税率/征收率        税额",
        ]
        for (desc, unit, qty, price), tax_i in zip(lines, inv["line_tax"], strict=True):
            out.append(
                f"*{v['cat']}*{desc}    {unit}    {qty}    {price:.2f}    "
                f"{qty * price:.2f}    {rate_pct}    {tax_i:.2f}"
            )
        out += [
            f"合　　计                                                        ¥{inv['subtotal']:.2f}"
            f"                    ¥{inv['tax']:.2f}",
            f"价税合计（大写）{rmb_upper(inv['total'])}                （小写）¥{inv['total']:.2f}",
            "",
            f"备注：{inv['note']}",
            f"开票人：{v['person']}",
        ]
        return "\n".join(out)
    if layout == "zh_email":
        m = inv["date"].month
        out = [
            f"发件人：{v['name']}财务部 <finance@{v['key']}.com.cn>",
            f"主题：{m}月服务费发票信息 - {inv['number']}",
            "",
            f"{rng.choice(['张经理', '李会计', '王老师', '财务部各位同事'])}您好：",
            "",
            f"贵司{m}月份的发票已开具，电子发票文件见附件，发票信息如下：",
            f"发票号码：{inv['number']}",
            f"开票日期：{date_s}",
            "",
        ]
        for i, ((desc, unit, qty, price), _tax_i) in enumerate(zip(lines, inv["line_tax"], strict=True), 1):
            out.append(f"{i}. {desc}，数量 {qty}{unit}，单价 {M(price)} 元，金额 {M(qty * price)} 元")
        out += [
            "",
            f"不含税金额合计：{M(inv['subtotal'])} 元",
            f"税额（{rate_pct}）：{M(inv['tax'])} 元",
            f"价税合计：{M(inv['total'])} 元",
            "",
            "请贵司于30日内安排付款，如有疑问请随时联系，谢谢！",
            "",
            v["person"],
            v["name"],
        ]
        return "\n".join(out)
    if layout == "zh_scan":
        out = [
            "【扫描件 OCR 结果】",
            f"{v['name']}",
            "发 票",
            f"No {inv['number']}",
            f"开票日期 {date_s}",
            f"购买方 {buyer}",
            "货物或应税劳务、服务名称 数量 单价 金额 税率 税额",
        ]
        for (desc, _unit, qty, price), tax_i in zip(lines, inv["line_tax"], strict=True):
            out.append(f"{desc} {qty} {price:.2f} {qty * price:.2f} {rate_pct} {tax_i:.2f}")
        out += [
            f"合计 {inv['subtotal']:.2f} {inv['tax']:.2f}",
            f"价税合计(大写) {rmb_upper(inv['total'])} (小写) ¥{inv['total']:.2f}",
            f"销售方 {v['name']} 纳税人识别号 {v['taxid']}",
            f"收款人：{v['person']}  复核：  开票人：{v['person']}",
        ]
        return "\n".join(out)
    raise ValueError(layout)


def build_invoices(rng: random.Random) -> list[dict]:
    """Returns invoice specs: {lang, tenant, text, expected(dict), source}."""
    specs = []
    used_numbers = set()

    def unique_number(make):
        while True:
            n = make()
            if n not in used_numbers:
                used_numbers.add(n)
                return n

    def issue_date():
        return dt.date(2026, 10, 19) + dt.timedelta(days=rng.randint(0, 34))

    plan = []
    for v in EN_VENDORS:
        for layout in rng.sample(v["layouts"], 2):
            plan.append(("en", v, layout))
    for v in RECEIPT_VENDORS:
        plan.append(("en", v, "receipt"))
        plan.append(("en", v, "receipt"))
    # two extra English invoices from vendors that send a lot of them
    plan.append(("en", EN_VENDORS[1], "us"))
    plan.append(("en", EN_VENDORS[0], "formal"))
    for v in ZH_VENDORS:
        for layout in rng.sample(ZH_LAYOUTS, 2):
            plan.append(("zh", v, layout))

    for lang, v, layout in plan:
        d = issue_date()
        if lang == "en":
            tenant = rng.choice(["acme", "acme", "initech", "globex"])
            buyer = EN_BUYERS[tenant]
            fmt_args = dict(y=d.year, m=d.month)
            number = unique_number(
                lambda v=v, fmt_args=fmt_args: v["num"].format(
                    n=rng.randint(1000, 99999) if "{n:0" in v["num"] else rng.randint(1000, 9999999),
                    k=rng.randint(1, 999),
                    **fmt_args,
                )
            )
            if layout == "receipt":
                lines = (
                    _pick_items(v, rng, 2, 4)
                    if v["key"] != "baycity"
                    else [
                        (desc, 1, price) for desc, _, price in v["items"] if desc != "Bridge toll" or rng.random() < 0.5
                    ]
                )
                subtotal = money(sum(q * p for _, q, p in lines))
                tax, total = 0.0, subtotal
            else:
                lines = _pick_items(v, rng)
                subtotal = money(sum(money(q * p) for _, q, p in lines))
                if v["currency"] == "JPY":
                    subtotal = float(round(subtotal))
                    tax = float(int(subtotal * v["tax_rate"]))
                else:
                    tax = money(subtotal * v["tax_rate"])
                total = money(subtotal + tax)
            inv = dict(
                date=d,
                due=d + dt.timedelta(days=30),
                number=number,
                buyer=buyer,
                lines=lines,
                subtotal=subtotal,
                tax=tax,
                total=total,
                terms=rng.choice(["Net 30", "Net 30", "Due on receipt", "Net 14"]),
            )
            text = render_receipt(v, inv, rng) if layout == "receipt" else render_en_invoice(v, layout, inv, rng)
            num_value = num
            expected = {
                "vendor": v["name"],
                "invoice_number": number,
                "issue_date": d.isoformat(),
                "currency": v["currency"],
                "total": num_value(total),
                "line_items": [
                    {"description": desc, "quantity": q, "unit_price": num_value(p)} for desc, q, p in lines
                ],
            }
        else:
            tenant = "stark-cn"
            number = unique_number(lambda v=v: f"26{v['region']}2000000{rng.randint(0, 999999999):09d}")
            lines = _pick_items(v, rng, 1, 4)
            line_tax = [money(money(q * p) * v["rate"]) for _, _, q, p in lines]
            subtotal = money(sum(money(q * p) for _, _, q, p in lines))
            tax = money(sum(line_tax))
            total = money(subtotal + tax)
            inv = dict(
                date=d,
                number=number,
                lines=lines,
                line_tax=line_tax,
                subtotal=subtotal,
                tax=tax,
                total=total,
                note=rng.choice(
                    [
                        "",
                        "合同号 HT-2026-0" + str(rng.randint(100, 999)),
                        "项目：华东仓扩建",
                        "11月服务费",
                        "采购订单 PO" + str(rng.randint(260000, 269999)),
                    ]
                ),
            )
            text = render_zh_invoice(v, layout, inv, rng)
            expected = {
                "vendor": v["name"],
                "invoice_number": number,
                "issue_date": d.isoformat(),
                "currency": "CNY",
                "total": num(total),
                "line_items": [{"description": desc, "quantity": q, "unit_price": num(p)} for desc, _, q, p in lines],
            }
        specs.append(
            dict(
                lang=lang,
                tenant=tenant,
                vendor=v["key"],
                layout=layout,
                text=text,
                expected=expected,
                tax_rate=v.get("tax_rate", v.get("rate", 0.0)),
                subtotal=subtotal,
            )
        )
    rng.shuffle(specs)
    return specs


# ===========================================================================
# Workflow 3: travel_agent (OpenAI function calling, gpt-4o-2024-08-06)
# ===========================================================================

TRAVEL_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "search_flights",
            "description": (
                "Search bookable flights for a one-way trip. Returns up to 5 options sorted by departure time."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "origin": {"type": "string", "description": "IATA airport code of departure, e.g. SFO"},
                    "destination": {"type": "string", "description": "IATA airport code of arrival, e.g. HND"},
                    "date": {"type": "string", "description": "Departure date, YYYY-MM-DD"},
                    "cabin": {"type": "string", "enum": ["economy", "premium_economy", "business", "first"]},
                    "passengers": {"type": "integer", "minimum": 1, "maximum": 9},
                },
                "required": ["origin", "destination", "date"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Daily weather forecast for a city (up to 16 days ahead).",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name in English, e.g. Paris"},
                    "date": {"type": "string", "description": "Forecast date, YYYY-MM-DD"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city", "date"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "book_hotel",
            "description": (
                "Book the best-rated available hotel that matches the constraints. Returns the confirmation."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "check_in": {"type": "string", "description": "YYYY-MM-DD"},
                    "check_out": {"type": "string", "description": "YYYY-MM-DD"},
                    "guests": {"type": "integer", "minimum": 1, "maximum": 6},
                    "max_price_usd": {"type": "number", "description": "Maximum nightly rate in USD"},
                },
                "required": ["city", "check_in", "check_out", "guests"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "convert_currency",
            "description": "Convert an amount between currencies at today's mid-market rate.",
            "parameters": {
                "type": "object",
                "properties": {
                    "amount": {"type": "number"},
                    "from": {"type": "string", "description": "ISO 4217 code, e.g. EUR"},
                    "to": {"type": "string", "description": "ISO 4217 code, e.g. USD"},
                },
                "required": ["amount", "from", "to"],
                "additionalProperties": False,
            },
        },
    },
]

TRAVEL_COMPANY = {"acme": "Acme Cloud", "initech": "Initech", "hooli": "Hooli", "stark-cn": "Stark (斯塔克智能)"}


def travel_system(tenant: str) -> str:
    return (
        f"You are TravelMate, the business-travel assistant for {TRAVEL_COMPANY[tenant]} employees. "
        "Today is Monday, November 23, 2026.\n"
        "Use the tools to search flights, check weather forecasts, book hotels and convert currencies. Call several "
        "tools in parallel when a request needs more than one lookup.\n"
        "- Use IATA airport codes; when a city has several airports, pick its main international airport.\n"
        "- Dates are YYYY-MM-DD. If no year is given, use the next upcoming date.\n"
        "- Defaults: 1 passenger, economy cabin, temperatures in celsius unless the traveller asks for fahrenheit.\n"
        "- Company hotel policy: up to $250/night in Europe and North America, $200/night elsewhere, unless the "
        "traveller states a budget.\n"
        "- After tool results come back, summarize the best options briefly, with prices in USD.\n"
        "- Reply in the traveller's language."
    )


def _f(flight, dep, arr, price, stops=0, cabin=None):
    out = {"flight": flight, "depart": dep, "arrive": arr, "stops": stops, "price_usd": price}
    if cabin:
        out["cabin"] = cabin
    return out


def _flights(*options):
    return {"results": list(options), "currency": "USD", "price_basis": "per passenger"}


def _wx(city, date, unit, high, low, conditions, precip):
    return {
        "city": city,
        "date": date,
        "unit": unit,
        "high": high,
        "low": low,
        "conditions": conditions,
        "precip_chance": precip,
    }


def _fx(amount, frm, to, rate):
    return {
        "amount": amount,
        "from": frm,
        "to": to,
        "rate": rate,
        "result": round(amount * rate, 2),
        "as_of": "2026-11-23T09:00:00Z",
    }


SF, GW, BH, CC = "search_flights", "get_weather", "book_hotel", "convert_currency"

# steps: ("user", text) | ("call", [(name, args), ...]) | ("tool", [result, ...]) | ("assistant", text)
# events: indices of the steps that are production outputs of mirrored calls.
TRAVEL_SCRIPTS = [
    {
        "id": "sfo-hnd-business",
        "tenant": "acme",
        "lang": "en",
        "events": [1, 5],
        "steps": [
            ("user", "Find me a flight from SFO to Tokyo Haneda on December 14 for 2 people, business class."),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "SFO",
                            "destination": "HND",
                            "date": "2026-12-14",
                            "cabin": "business",
                            "passengers": 2,
                        },
                    )
                ],
            ),
            (
                "tool",
                [
                    _flights(
                        _f("UA 837", "2026-12-14T11:05", "2026-12-15T15:25", 4890, cabin="business"),
                        _f("JL 1", "2026-12-14T12:55", "2026-12-15T17:20", 5340, cabin="business"),
                        _f("NH 107", "2026-12-14T13:40", "2026-12-15T18:05", 5120, cabin="business"),
                    )
                ],
            ),
            (
                "assistant",
                "I found three nonstop business-class flights from SFO to Haneda on December 14: United UA 837 at "
                "11:05 AM for $4,890 per person, JAL JL 1 at 12:55 PM for $5,340, and ANA NH 107 at 1:40 PM for "
                "$5,120. For two travelers, the cheapest option comes to $9,780 in total. Want me to hold one of "
                "these?",
            ),
            ("user", "Too pricey. Check premium economy instead."),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "SFO",
                            "destination": "HND",
                            "date": "2026-12-14",
                            "cabin": "premium_economy",
                            "passengers": 2,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "bos-ord-morning",
        "tenant": "initech",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "I need to get from Boston to Chicago on Dec 3, leaving in the morning. Just me, economy."),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "BOS",
                            "destination": "ORD",
                            "date": "2026-12-03",
                            "cabin": "economy",
                            "passengers": 1,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "reykjavik-weather",
        "tenant": "hooli",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "What's the weather going to be in Reykjavik on December 10? I'm packing for a work trip."),
            ("call", [(GW, {"city": "Reykjavik", "date": "2026-12-10", "unit": "celsius"})]),
        ],
    },
    {
        "id": "austin-hotel-kickoff",
        "tenant": "acme",
        "lang": "en",
        "events": [1],
        "steps": [
            (
                "user",
                "Book me a hotel in Austin from Dec 7 to Dec 10, max $220 a night, just one guest. It's for our sales "
                "kickoff.",
            ),
            (
                "call",
                [
                    (
                        BH,
                        {
                            "city": "Austin",
                            "check_in": "2026-12-07",
                            "check_out": "2026-12-10",
                            "guests": 1,
                            "max_price_usd": 220,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "pvg-nrt-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "events": [1, 5],
        "steps": [
            ("user", "帮我查一下12月20号从上海飞东京的航班，两个人，经济舱。"),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "PVG",
                            "destination": "NRT",
                            "date": "2026-12-20",
                            "cabin": "economy",
                            "passengers": 2,
                        },
                    )
                ],
            ),
            (
                "tool",
                [
                    _flights(
                        _f("9C 8515", "2026-12-20T06:35", "2026-12-20T10:20", 236),
                        _f("MU 523", "2026-12-20T08:50", "2026-12-20T12:35", 412),
                        _f("NH 920", "2026-12-20T13:25", "2026-12-20T17:10", 468),
                    )
                ],
            ),
            (
                "assistant",
                "12月20日上海浦东飞东京成田有以下直飞航班：春秋航空9C 8515，06:35起飞，每人约236美元；东航MU 523，08:"
                "50起飞，每人约412美元；全日空NH 920，13:25起飞，每人约468美元。两人经济舱最便宜的是春秋航空，"
                "合计约472美元。需要我帮您预订吗？",
            ),
            ("user", "改成12月21号吧，20号临时有会。"),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "PVG",
                            "destination": "NRT",
                            "date": "2026-12-21",
                            "cabin": "economy",
                            "passengers": 2,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "eur-usd-expenses",
        "tenant": "initech",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "How much is 850 euros in US dollars today? Need it for my expense report."),
            ("call", [(CC, {"amount": 850, "from": "EUR", "to": "USD"})]),
        ],
    },
    {
        "id": "lisbon-hotel-jan",
        "tenant": "hooli",
        "lang": "en",
        "events": [1],
        "steps": [
            (
                "user",
                "Need a hotel in Lisbon for 2 guests, checking in Jan 15 and out Jan 19. Budget is 180 USD/night max.",
            ),
            (
                "call",
                [
                    (
                        BH,
                        {
                            "city": "Lisbon",
                            "check_in": "2027-01-15",
                            "check_out": "2027-01-19",
                            "guests": 2,
                            "max_price_usd": 180,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "seattle-rain",
        "tenant": "acme",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "Is it going to rain in Seattle on Dec 2? Give me Fahrenheit."),
            ("call", [(GW, {"city": "Seattle", "date": "2026-12-02", "unit": "fahrenheit"})]),
        ],
    },
    {
        "id": "singapore-hotel-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "events": [1],
        "steps": [
            ("user", "我12月8号要去新加坡出差，帮我订一间酒店，住到11号，一个人，每晚不超过300美元。"),
            (
                "call",
                [
                    (
                        BH,
                        {
                            "city": "Singapore",
                            "check_in": "2026-12-08",
                            "check_out": "2026-12-11",
                            "guests": 1,
                            "max_price_usd": 300,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "den-mia-offsite",
        "tenant": "initech",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "Flights from Denver to Miami on 12/19, premium economy, 4 passengers. Team offsite."),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "DEN",
                            "destination": "MIA",
                            "date": "2026-12-19",
                            "cabin": "premium_economy",
                            "passengers": 4,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "yen-usd",
        "tenant": "hooli",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "convert 45,000 yen to USD pls"),
            ("call", [(CC, {"amount": 45000, "from": "JPY", "to": "USD"})]),
        ],
    },
    {
        "id": "jfk-lax-first",
        "tenant": "acme",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "First class from JFK to LAX on December 21 for me and our CEO."),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "JFK",
                            "destination": "LAX",
                            "date": "2026-12-21",
                            "cabin": "first",
                            "passengers": 2,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "beijing-weather-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "events": [1],
        "steps": [
            ("user", "北京12月15号天气怎么样？要不要带羽绒服？"),
            ("call", [(GW, {"city": "Beijing", "date": "2026-12-15", "unit": "celsius"})]),
        ],
    },
    # ---- parallel tool calls
    {
        "id": "paris-rome-weather",
        "tenant": "hooli",
        "lang": "en",
        "events": [1],
        "steps": [
            (
                "user",
                "What's the weather in Paris and Rome on December 5? Trying to pick where to spend the weekend after "
                "the conference.",
            ),
            (
                "call",
                [
                    (GW, {"city": "Paris", "date": "2026-12-05", "unit": "celsius"}),
                    (GW, {"city": "Rome", "date": "2026-12-05", "unit": "celsius"}),
                ],
            ),
        ],
    },
    {
        "id": "nyc-london-trip",
        "tenant": "acme",
        "lang": "en",
        "events": [1, 5],
        "steps": [
            (
                "user",
                "Flying NYC to London on Jan 12 with a colleague, economy. Also need a hotel in London Jan 12-16 under "
                "$250/night for the two of us.",
            ),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "JFK",
                            "destination": "LHR",
                            "date": "2027-01-12",
                            "cabin": "economy",
                            "passengers": 2,
                        },
                    ),
                    (
                        BH,
                        {
                            "city": "London",
                            "check_in": "2027-01-12",
                            "check_out": "2027-01-16",
                            "guests": 2,
                            "max_price_usd": 250,
                        },
                    ),
                ],
            ),
            (
                "tool",
                [
                    _flights(
                        _f("BA 178", "2027-01-12T19:30", "2027-01-13T07:35", 612),
                        _f("VS 4", "2027-01-12T21:15", "2027-01-13T09:20", 578),
                        _f("AA 100", "2027-01-12T18:10", "2027-01-13T06:20", 645),
                    ),
                    {
                        "status": "confirmed",
                        "hotel": "Holborn Court Hotel",
                        "confirmation": "HCH-58213",
                        "nightly_rate_usd": 238,
                        "total_usd": 952,
                        "room": "Twin room",
                    },
                ],
            ),
            (
                "assistant",
                "Your hotel is booked: Holborn Court Hotel, twin room, January 12-16 at $238 per night ($952 total), "
                "confirmation HCH-58213. For flights on January 12, the best options are Virgin Atlantic VS 4 "
                "departing "
                "JFK at 9:15 PM for $578 per person and British Airways BA 178 at 7:30 PM for $612, both nonstop. "
                "Should I book one of them for you both?",
            ),
            ("user", "What do return flights look like on Jan 16?"),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "LHR",
                            "destination": "JFK",
                            "date": "2027-01-16",
                            "cabin": "economy",
                            "passengers": 2,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "japan-3city-weather",
        "tenant": "initech",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "Compare the weather in Tokyo, Osaka and Sapporo on Dec 20, in Fahrenheit please."),
            (
                "call",
                [
                    (GW, {"city": "Tokyo", "date": "2026-12-20", "unit": "fahrenheit"}),
                    (GW, {"city": "Osaka", "date": "2026-12-20", "unit": "fahrenheit"}),
                    (GW, {"city": "Sapporo", "date": "2026-12-20", "unit": "fahrenheit"}),
                ],
            ),
        ],
    },
    {
        "id": "eur-usd-gbp",
        "tenant": "acme",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "How much is 1,200 EUR in USD and in GBP?"),
            (
                "call",
                [
                    (CC, {"amount": 1200, "from": "EUR", "to": "USD"}),
                    (CC, {"amount": 1200, "from": "EUR", "to": "GBP"}),
                ],
            ),
        ],
    },
    {
        "id": "sfo-sea-pdx",
        "tenant": "hooli",
        "lang": "en",
        "events": [1],
        "steps": [
            (
                "user",
                "Search flights SFO to Seattle and SFO to Portland on Dec 3, one passenger. I'll pick whichever's "
                "cheaper.",
            ),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "SFO",
                            "destination": "SEA",
                            "date": "2026-12-03",
                            "cabin": "economy",
                            "passengers": 1,
                        },
                    ),
                    (
                        SF,
                        {
                            "origin": "SFO",
                            "destination": "PDX",
                            "date": "2026-12-03",
                            "cabin": "economy",
                            "passengers": 1,
                        },
                    ),
                ],
            ),
        ],
    },
    {
        "id": "sha-pek-xmas-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "events": [1],
        "steps": [
            ("user", "帮我看一下12月24日上海和北京的天气，平安夜要出门。"),
            (
                "call",
                [
                    (GW, {"city": "Shanghai", "date": "2026-12-24", "unit": "celsius"}),
                    (GW, {"city": "Beijing", "date": "2026-12-24", "unit": "celsius"}),
                ],
            ),
        ],
    },
    {
        "id": "ord-den-snow",
        "tenant": "initech",
        "lang": "en",
        "events": [1, 5],
        "steps": [
            ("user", "Need a flight from Chicago to Denver on Dec 11 and the weather in Denver that day."),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "ORD",
                            "destination": "DEN",
                            "date": "2026-12-11",
                            "cabin": "economy",
                            "passengers": 1,
                        },
                    ),
                    (GW, {"city": "Denver", "date": "2026-12-11", "unit": "celsius"}),
                ],
            ),
            (
                "tool",
                [
                    _flights(
                        _f("UA 1563", "2026-12-11T07:15", "2026-12-11T08:55", 189),
                        _f("WN 2291", "2026-12-11T10:40", "2026-12-11T12:20", 154),
                        _f("F9 1207", "2026-12-11T18:05", "2026-12-11T19:50", 98),
                    ),
                    _wx(
                        "Denver",
                        "2026-12-11",
                        "celsius",
                        4,
                        -7,
                        "Light snow in the morning, clearing by afternoon",
                        0.6,
                    ),
                ],
            ),
            (
                "assistant",
                "On December 11 there are three nonstops from O'Hare to Denver: Frontier F9 1207 at 6:05 PM for $98, "
                "Southwest WN 2291 at 10:40 AM for $154, and United UA 1563 at 7:15 AM for $189. Denver is forecast "
                "at a high of 4°C and a low of -7°C, with light snow in the morning clearing by afternoon. If you "
                "want to avoid a snowy arrival, the later flights are the safer bet.",
            ),
            ("user", "Book me a hotel near Union Station for that night, under $200."),
            (
                "call",
                [
                    (
                        BH,
                        {
                            "city": "Denver",
                            "check_in": "2026-12-11",
                            "check_out": "2026-12-12",
                            "guests": 1,
                            "max_price_usd": 200,
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "hkg-hotel-fx",
        "tenant": "acme",
        "lang": "en",
        "events": [1],
        "steps": [
            (
                "user",
                "Book a hotel in Hong Kong Dec 8-11 for 2 guests, max 300 USD a night, and tell me what 300 USD is in "
                "HKD.",
            ),
            (
                "call",
                [
                    (
                        BH,
                        {
                            "city": "Hong Kong",
                            "check_in": "2026-12-08",
                            "check_out": "2026-12-11",
                            "guests": 2,
                            "max_price_usd": 300,
                        },
                    ),
                    (CC, {"amount": 300, "from": "USD", "to": "HKD"}),
                ],
            ),
        ],
    },
    {
        "id": "szx-ctu-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "events": [1],
        "steps": [
            ("user", "这周五（11月27日）从深圳飞成都，一个人，经济舱；顺便看看成都那天的天气。"),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "SZX",
                            "destination": "CTU",
                            "date": "2026-11-27",
                            "cabin": "economy",
                            "passengers": 1,
                        },
                    ),
                    (GW, {"city": "Chengdu", "date": "2026-11-27", "unit": "celsius"}),
                ],
            ),
        ],
    },
    {
        "id": "yyz-yvr-yyc",
        "tenant": "hooli",
        "lang": "en",
        "events": [1],
        "steps": [
            (
                "user",
                "Flights from Toronto to Vancouver and from Toronto to Calgary on Jan 5, business, 3 people. We "
                "haven't "
                "decided which office to visit first.",
            ),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "YYZ",
                            "destination": "YVR",
                            "date": "2027-01-05",
                            "cabin": "business",
                            "passengers": 3,
                        },
                    ),
                    (
                        SF,
                        {
                            "origin": "YYZ",
                            "destination": "YYC",
                            "date": "2027-01-05",
                            "cabin": "business",
                            "passengers": 3,
                        },
                    ),
                ],
            ),
        ],
    },
    {
        "id": "germany-roadshow",
        "tenant": "acme",
        "lang": "en",
        "events": [1],
        "steps": [
            ("user", "What will the weather be like in Berlin, Munich and Hamburg on December 1? Roadshow week."),
            (
                "call",
                [
                    (GW, {"city": "Berlin", "date": "2026-12-01", "unit": "celsius"}),
                    (GW, {"city": "Munich", "date": "2026-12-01", "unit": "celsius"}),
                    (GW, {"city": "Hamburg", "date": "2026-12-01", "unit": "celsius"}),
                ],
            ),
        ],
    },
    {
        "id": "cny-jpy-krw-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "events": [1],
        "steps": [
            ("user", "3000 人民币能换多少日元和韩元？下个月去日韩出差。"),
            (
                "call",
                [
                    (CC, {"amount": 3000, "from": "CNY", "to": "JPY"}),
                    (CC, {"amount": 3000, "from": "CNY", "to": "KRW"}),
                ],
            ),
        ],
    },
    {
        "id": "ber-lis-bundle",
        "tenant": "initech",
        "lang": "en",
        "events": [1],
        "steps": [
            (
                "user",
                "Berlin to Lisbon on Jan 9, economy, just me; a hotel in Lisbon Jan 9-12 under $180; and what's the "
                "Lisbon weather on the 9th?",
            ),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "BER",
                            "destination": "LIS",
                            "date": "2027-01-09",
                            "cabin": "economy",
                            "passengers": 1,
                        },
                    ),
                    (
                        BH,
                        {
                            "city": "Lisbon",
                            "check_in": "2027-01-09",
                            "check_out": "2027-01-12",
                            "guests": 1,
                            "max_price_usd": 180,
                        },
                    ),
                    (GW, {"city": "Lisbon", "date": "2027-01-09", "unit": "celsius"}),
                ],
            ),
        ],
    },
    # ---- final answers after tool results
    {
        "id": "sea-hnl-final",
        "tenant": "acme",
        "lang": "en",
        "events": [3],
        "steps": [
            ("user", "Any nonstop flights from SEA to Honolulu on Dec 18? 2 adults, economy."),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "SEA",
                            "destination": "HNL",
                            "date": "2026-12-18",
                            "cabin": "economy",
                            "passengers": 2,
                        },
                    )
                ],
            ),
            (
                "tool",
                [
                    _flights(
                        _f("AS 851", "2026-12-18T08:05", "2026-12-18T11:10", 412),
                        _f("HA 21", "2026-12-18T10:40", "2026-12-18T13:55", 389),
                        _f("AS 887", "2026-12-18T16:15", "2026-12-18T19:25", 445),
                        _f("DL 1635", "2026-12-18T12:20", "2026-12-18T17:45", 356, stops=1),
                    )
                ],
            ),
            (
                "assistant",
                "Yes, there are three nonstop options on December 18: Alaska AS 851 at 8:05 AM for $412 per person, "
                "Hawaiian HA 21 at 10:40 AM for $389, and Alaska AS 887 at 4:15 PM for $445. The cheapest nonstop is "
                "Hawaiian HA 21, which comes to $778 for two adults. There's also a one-stop Delta flight at $356 per "
                "person if you don't mind a connection. Want me to book one of these?",
            ),
        ],
    },
    {
        "id": "bcn-mad-final",
        "tenant": "hooli",
        "lang": "en",
        "events": [3],
        "steps": [
            ("user", "Weather in Barcelona and Madrid on December 12? Deciding where to hold the team dinner."),
            (
                "call",
                [
                    (GW, {"city": "Barcelona", "date": "2026-12-12", "unit": "celsius"}),
                    (GW, {"city": "Madrid", "date": "2026-12-12", "unit": "celsius"}),
                ],
            ),
            (
                "tool",
                [
                    _wx("Barcelona", "2026-12-12", "celsius", 15, 9, "Sunny with a light sea breeze", 0.05),
                    _wx("Madrid", "2026-12-12", "celsius", 10, 1, "Clear, cold evening", 0.0),
                ],
            ),
            (
                "assistant",
                "On December 12, Barcelona looks mild and sunny with a high of 15°C and a low of 9°C. Madrid will be "
                "clear but colder, with a high of 10°C dropping to about 1°C in the evening. For an outdoor or "
                "terrace dinner, Barcelona is the better choice; in Madrid you'd want an indoor venue.",
            ),
        ],
    },
    {
        "id": "nashville-hotel-final",
        "tenant": "initech",
        "lang": "en",
        "events": [3],
        "steps": [
            ("user", "Book a hotel in Nashville Dec 14-17, 1 guest, up to $200/night."),
            (
                "call",
                [
                    (
                        BH,
                        {
                            "city": "Nashville",
                            "check_in": "2026-12-14",
                            "check_out": "2026-12-17",
                            "guests": 1,
                            "max_price_usd": 200,
                        },
                    )
                ],
            ),
            (
                "tool",
                [
                    {
                        "status": "confirmed",
                        "hotel": "Riverfront Inn Nashville",
                        "confirmation": "RFN-77120",
                        "nightly_rate_usd": 189,
                        "total_usd": 567,
                        "address": "220 1st Ave S, Nashville, TN 37201",
                        "cancellation": "free until 2026-12-13 18:00 local time",
                    }
                ],
            ),
            (
                "assistant",
                "You're booked at the Riverfront Inn Nashville (220 1st Ave S) from December 14 to 17 at $189 per "
                "night, $567 in total. Your confirmation number is RFN-77120. You can cancel for free until 6 PM "
                "local time on December 13.",
            ),
        ],
    },
    {
        "id": "hkd-cny-final-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "events": [3],
        "steps": [
            ("user", "5000港币等于多少人民币？"),
            ("call", [(CC, {"amount": 5000, "from": "HKD", "to": "CNY"})]),
            ("tool", [_fx(5000, "HKD", "CNY", 0.9243)]),
            (
                "assistant",
                "按今天的中间价（1港币≈0.9243元人民币），5000港币约合4,621.50元人民币。"
                "实际兑换时银行或兑换点会有汇差和手续费，到手金额会略少一些。",
            ),
        ],
    },
    {
        "id": "aus-sfo-final",
        "tenant": "acme",
        "lang": "en",
        "events": [3],
        "steps": [
            ("user", "Cheapest flight from Austin to San Francisco on Dec 9, economy, one person?"),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "AUS",
                            "destination": "SFO",
                            "date": "2026-12-09",
                            "cabin": "economy",
                            "passengers": 1,
                        },
                    )
                ],
            ),
            (
                "tool",
                [
                    _flights(
                        _f("AS 1391", "2026-12-09T06:00", "2026-12-09T08:10", 164),
                        _f("UA 2207", "2026-12-09T09:35", "2026-12-09T11:50", 201),
                        _f("WN 1180", "2026-12-09T12:45", "2026-12-09T17:05", 139, stops=1),
                        _f("AA 2561", "2026-12-09T15:20", "2026-12-09T17:40", 233),
                    )
                ],
            ),
            (
                "assistant",
                "The cheapest option on December 9 is Southwest WN 1180 at 12:45 PM for $139, but it has one stop and "
                "lands at 5:05 PM. The cheapest nonstop is Alaska AS 1391 at 6:00 AM for $164, arriving at 8:10 AM. "
                "If the early start works for you, the Alaska flight saves you more than two hours.",
            ),
        ],
    },
    {
        "id": "can-bkk-final-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "events": [3],
        "steps": [
            ("user", "12月30日广州飞曼谷，3个人，经济舱，有什么航班？"),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "CAN",
                            "destination": "BKK",
                            "date": "2026-12-30",
                            "cabin": "economy",
                            "passengers": 3,
                        },
                    )
                ],
            ),
            (
                "tool",
                [
                    _flights(
                        _f("CZ 361", "2026-12-30T08:30", "2026-12-30T10:30", 268),
                        _f("FD 547", "2026-12-30T13:10", "2026-12-30T15:05", 149),
                        _f("TG 669", "2026-12-30T18:45", "2026-12-30T20:40", 301),
                    )
                ],
            ),
            (
                "assistant",
                "12月30日广州白云飞曼谷有3个直飞航班：亚洲航空FD 547，13:10起飞，每人149美元；南航CZ 361，08:30起飞，"
                "每人268美元；泰航TG 669，18:45起飞，每人301美元。3人最便宜的是亚航，合计447美元，"
                "但廉航行李额需要另外购买。需要我帮您预订哪一班？",
            ),
        ],
    },
    {
        "id": "vancouver-snow-final",
        "tenant": "hooli",
        "lang": "en",
        "events": [3],
        "steps": [
            ("user", "Will it snow in Vancouver on Dec 16? I'm renting a car."),
            ("call", [(GW, {"city": "Vancouver", "date": "2026-12-16", "unit": "celsius"})]),
            ("tool", [_wx("Vancouver", "2026-12-16", "celsius", 5, 1, "Rain, mixing with wet snow overnight", 0.8)]),
            (
                "assistant",
                "Mostly rain is expected in Vancouver on December 16, with a high of 5°C and a low of 1°C, and it may "
                "turn to wet snow overnight. Roads in the city should be fine during the day, but if you're driving "
                "up to the mountains, ask the rental company for a car with winter tires.",
            ),
        ],
    },
    {
        "id": "bos-yyz-bundle-final",
        "tenant": "acme",
        "lang": "en",
        "events": [3],
        "steps": [
            ("user", "Flights Boston to Toronto Dec 10 and a hotel in Toronto Dec 10-12, 1 guest, $230 max."),
            (
                "call",
                [
                    (
                        SF,
                        {
                            "origin": "BOS",
                            "destination": "YYZ",
                            "date": "2026-12-10",
                            "cabin": "economy",
                            "passengers": 1,
                        },
                    ),
                    (
                        BH,
                        {
                            "city": "Toronto",
                            "check_in": "2026-12-10",
                            "check_out": "2026-12-12",
                            "guests": 1,
                            "max_price_usd": 230,
                        },
                    ),
                ],
            ),
            (
                "tool",
                [
                    _flights(
                        _f("AC 733", "2026-12-10T07:00", "2026-12-10T08:50", 246),
                        _f("PD 2018", "2026-12-10T11:25", "2026-12-10T13:20", 189),
                    ),
                    {
                        "status": "confirmed",
                        "hotel": "King West Suites",
                        "confirmation": "KWS-30981",
                        "nightly_rate_usd": 214,
                        "total_usd": 428,
                        "room": "Queen studio",
                    },
                ],
            ),
            (
                "assistant",
                "Your hotel is confirmed: King West Suites, queen studio, December 10-12 at $214 per night ($428 "
                "total), confirmation KWS-30981. For the flight, Porter PD 2018 leaves Boston at 11:25 AM and costs "
                "$189, while Air Canada AC 733 leaves at 7:00 AM for $246. Want me to book the Porter flight?",
            ),
        ],
    },
    {
        "id": "gbp-usd-eur-final",
        "tenant": "initech",
        "lang": "en",
        "events": [3],
        "steps": [
            ("user", "What's 2,500 GBP in USD and EUR?"),
            (
                "call",
                [
                    (CC, {"amount": 2500, "from": "GBP", "to": "USD"}),
                    (CC, {"amount": 2500, "from": "GBP", "to": "EUR"}),
                ],
            ),
            ("tool", [_fx(2500, "GBP", "USD", 1.2674), _fx(2500, "GBP", "EUR", 1.1652)]),
            (
                "assistant",
                "At today's mid-market rates, 2,500 GBP is about $3,168.50 USD (1 GBP = 1.2674 USD) and about "
                "€2,913.00 (1 GBP = 1.1652 EUR). Your card or bank will likely apply a slightly worse rate plus any "
                "foreign transaction fee.",
            ),
        ],
    },
    {
        "id": "osaka-hotel-final-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "events": [3],
        "steps": [
            ("user", "帮我订12月5号到7号大阪的酒店，两个人，每晚150美元以内。"),
            (
                "call",
                [
                    (
                        BH,
                        {
                            "city": "Osaka",
                            "check_in": "2026-12-05",
                            "check_out": "2026-12-07",
                            "guests": 2,
                            "max_price_usd": 150,
                        },
                    )
                ],
            ),
            (
                "tool",
                [
                    {
                        "status": "confirmed",
                        "hotel": "Hotel Namba Grand Osaka",
                        "confirmation": "NGO-44187",
                        "nightly_rate_usd": 142,
                        "total_usd": 284,
                        "room": "Twin room",
                        "breakfast_included": True,
                    }
                ],
            ),
            (
                "assistant",
                "已为您预订大阪难波格兰酒店（Hotel Namba Grand Osaka）双床房，12月5日入住、12月7日退房，每晚142美元，"
                "共284美元，含早餐。确认号为NGO-44187，入住时出示确认号即可。",
            ),
        ],
    },
]


# ===========================================================================
# Workflow 4: kb_answer (Anthropic, claude-3-5-sonnet-20241022, RAG)
# ===========================================================================

KB_DOCS = {
    # --- Acme Cloud developer docs
    "acme-rl-01": (
        "Rate limits",
        "Ingestion API rate limits are enforced per workspace: Free 60 requests/minute, Pro 300 requests/minute, Team "
        "1,200 requests/minute, Enterprise custom. Each ingestion request may contain up to 500 events or 5 MB, "
        "whichever "
        "comes first. Requests over the limit receive HTTP 429 with a Retry-After header (seconds). Query API limits "
        "are "
        "separate: 30 queries/minute on Pro and 120 queries/minute on Team.",
    ),
    "acme-ret-02": (
        "Data retention",
        "Raw events are retained for 30 days on Free, 90 days on Pro, 13 months on Team and up to 7 years on "
        "Enterprise. "
        "Aggregated dashboard data is kept for 25 months on all paid plans. When the retention period ends, events are "
        "deleted within 7 days and cannot be restored. Exports started before deletion remain downloadable for 7 days.",
    ),
    "acme-sso-03": (
        "Single sign-on (SAML)",
        "SAML 2.0 SSO is available on Team and Enterprise. Supported identity providers include Okta, Microsoft Entra "
        "ID "
        "(Azure AD), Google Workspace and OneLogin. Users are provisioned just-in-time on first login. SCIM 2.0 "
        "provisioning requires Enterprise. When SSO is enforced, password login is disabled for all members except "
        "workspace Owners, who keep a break-glass password login.",
    ),
    "acme-wh-04": (
        "Webhooks",
        "Acme sends webhooks as HTTP POST requests with a JSON body. Each delivery includes an Acme-Signature header "
        "of "
        "the form t=<unix timestamp>,v1=<hex HMAC-SHA256>. Compute the HMAC over '<timestamp>.<raw body>' with your "
        "signing secret. Reject deliveries whose timestamp is more than 5 minutes old. Failed deliveries (non-2xx "
        "response or no response within 10 seconds) are retried up to 8 times with exponential backoff over about 24 "
        "hours.",
    ),
    "acme-reg-05": (
        "Regions and data residency",
        "Workspaces are hosted in us-east (Virginia), eu-central (Frankfurt) or ap-southeast (Singapore). The region "
        "is "
        "chosen when the workspace is created and cannot be changed later; to move, create a new workspace and migrate "
        "with export/import. EU workspaces keep all event data and backups inside the EU. Support staff outside the EU "
        "may access workspace metadata for troubleshooting only with customer consent.",
    ),
    "acme-keys-06": (
        "API keys",
        "API keys are scoped to one workspace and have one of three roles: ingest (write events only), read (query "
        "only) "
        "or admin. A key is shown only once, at creation. A workspace can have up to 50 active keys. Rotating a key "
        "creates a new key and lets the old one keep working for a grace period between 1 hour and 7 days, chosen by "
        "you.",
    ),
    "acme-bill-07": (
        "Plans and billing",
        "Pro costs $49/month per workspace with up to 5 members. Team costs $199/month including 10 seats; additional "
        "seats are $15/month each. Annual billing gives two months free. Upgrades take effect immediately and are "
        "prorated; downgrades take effect at the end of the current billing period. Invoices are emailed to billing "
        "contacts and are available under Settings > Billing.",
    ),
    "acme-audit-08": (
        "Audit logs",
        "Audit logs record sign-ins, API key changes, member and role changes, and export downloads. They are "
        "available "
        "on Team (90 days of history) and Enterprise (1 year, with streaming to S3 or a SIEM). Audit log entries "
        "cannot "
        "be edited or deleted by workspace members.",
    ),
    # --- Hooli help center
    "hooli-rec-01": (
        "Account recovery",
        "If you can't sign in, go to accounts.hooli.com/recovery. Recovery works best from a device and location "
        "you've "
        "used before. When 2-Step Verification is on and no backup method is available, Hooli may apply a waiting "
        "period of 3-5 days before granting access. Hooli support cannot bypass recovery or reset accounts over chat "
        "or "
        "phone.",
    ),
    "hooli-stor-02": (
        "Storage",
        "Every Hooli account includes 15 GB shared across Mail, Drive and Photos. Hooli One plans add 100 GB "
        "($1.99/month), 2 TB ($9.99/month) or 5 TB ($24.99/month). Files in Trash count toward storage until the Trash "
        "is emptied or 30 days pass. If you stay over your quota for more than 2 years, Hooli may delete content after "
        "notifying you.",
    ),
    "hooli-fam-03": (
        "Family sharing",
        "Hooli One storage can be shared with up to 5 family members. Each member's files stay private; only the "
        "storage space is shared. The family manager can see how much space each member uses but not their content. "
        "Members must be 13 or older, or have a supervised account.",
    ),
    "hooli-2sv-04": (
        "2-Step Verification",
        "2-Step Verification can use Hooli prompts, authenticator apps, security keys, SMS codes or backup codes. Each "
        "set contains 10 backup codes, and each code can be used once; generating a new set invalidates the old one. "
        "Passkeys can replace passwords on supported devices.",
    ),
    # --- Initech Payroll knowledge base
    "ini-pay-01": (
        "Payroll schedule and deadlines",
        "Payroll must be approved by 5 p.m. Pacific time 2 business days before the pay date for direct deposit. "
        "Approvals after the deadline are paid 1 business day late unless Express Pay ($25 per run) is used. Bank "
        "holidays move the pay date to the previous business day.",
    ),
    "ini-tax-02": (
        "Year-end tax forms",
        "W-2s for employees and 1099-NECs for contractors are generated automatically and published by January 31. "
        "Former employees keep access to their documents through a personal email login. Corrections (W-2c) can be "
        "requested by admins under Taxes > Forms until April 15.",
    ),
    "ini-pto-03": (
        "Time off policies",
        "Admins can create accrual-based or unlimited PTO policies. Accruals can be per hour worked, per pay period or "
        "an "
        "annual lump sum. Carryover caps and negative balances are configurable per policy. Employees request time off "
        "in the app; managers receive approval requests by email and Slack.",
    ),
    "ini-con-04": (
        "Paying contractors",
        "Contractors can be paid in more than 120 countries. US contractors must submit a W-9 and international "
        "contractors a W-8BEN before their first payment. International payments arrive in 2-5 business days in local "
        "currency; a $5 fee applies per international payment.",
    ),
    # --- Stark (斯塔克) 帮助中心
    "stark-wty-01": (
        "保修政策",
        "斯塔克手机、平板、手表整机保修1年，电池和充电器保修1年，耳机保修1年，配件（数据线、表带）保修3个月，"
        "保修期自签收之日起计算。人为损坏、进液、私自拆机不在免费保修范围内。保修期内维修后，"
        "维修部件享有90天保修或整机剩余保修期，以较长者为准。",
    ),
    "stark-ret-02": (
        "退换货政策",
        "自签收之日起7天内，商品完好且不影响二次销售的，支持7天无理由退货，退货运费由用户承担（已购买运费险的除外）。"
        "15天内出现性能故障的，可选择换货或退货，运费由斯塔克承担。定制类商品、已激活的虚拟服务不支持无理由退货。",
    ),
    "stark-vip-03": (
        "Stark+ 会员权益",
        "Stark+ 会员月费25元，年费198元。会员权益包括：每月两张运费券、云空间扩容至200GB、专属客服通道、"
        "延长保修6个月（限会员期间购买的设备）。自动续费可随时在会员中心关闭，已扣费用不予退还。",
    ),
    "stark-trade-04": (
        "以旧换新",
        "以旧换新支持斯塔克及其他主流品牌手机、平板。旧机估价根据型号、存储容量和成色评定，最终价格以质检结果为准。"
        "参与以旧换新可额外获得100-300元换新补贴，补贴与估价合并抵扣新机货款。旧机需在新机签收后14天内寄出，"
        "逾期将扣回补贴。",
    ),
    "stark-bat-05": (
        "电池与充电",
        "Stark Phone 12 支持120W有线快充和50W无线快充，使用原装充电器约19分钟可充满。"
        "电池在500次完整充放电循环后仍可保持80%以上容量。开启“智能充电保护”后，夜间充电会在80%暂停，"
        "并在预计起床时间前充满。",
    ),
    "stark-inv-06": (
        "发票说明",
        "斯塔克商城默认开具电子普通发票，企业用户可申请增值税专用发票。确认收货后180天内可在订单详情页申请开票，"
        "电子发票在1-3个工作日内发送至预留邮箱。换开发票需先将原发票红冲，每个订单最多换开一次。",
    ),
}

KB_PRODUCTS = {
    "acme": ("Acme Cloud", "en"),
    "hooli": ("Hooli Help Center", "en"),
    "initech": ("Initech Payroll", "en"),
    "stark-cn": ("斯塔克帮助中心", "zh"),
}


def kb_system(tenant: str, doc_ids: list[str]) -> str:
    product, lang = KB_PRODUCTS[tenant]
    docs = "\n".join(f'<document id="{d}" title="{KB_DOCS[d][0]}">\n{KB_DOCS[d][1]}\n</document>' for d in doc_ids)
    if lang == "zh":
        head = (
            f"你是{product}的知识库问答助手。只根据下面检索到的文档回答用户的问题，"
            "并在句末用方括号标注引用的文档 id，例如 [stark-wty-01]。如果文档中没有答案，请直接说明。"
            "使用用户提问的语言回答，简洁明了。"
        )
    else:
        head = (
            f"You are the documentation assistant for {product}. Answer the user's question using only the "
            "documents below. Cite every document you rely on with its id in square brackets, e.g. ["
            + doc_ids[0]
            + "]. If the documents do not contain the answer, say so. Answer in the language of the question, "
            "in at most 5 sentences."
        )
    return f"{head}\n\n<documents>\n{docs}\n</documents>"


# (tenant, lang, retrieved doc ids, question, answer)
KB_QA = [
    (
        "acme",
        "en",
        ["acme-rl-01", "acme-keys-06"],
        "What's the max number of events I can send in a single ingestion request?",
        "A single ingestion request can contain up to 500 events or 5 MB of data, whichever limit is reached first "
        "[acme-rl-01]. Every request also counts toward your plan's per-minute rate limit, so sending batches close to "
        "500 "
        "events is the most efficient way to ingest high volumes [acme-rl-01].",
    ),
    (
        "acme",
        "en",
        ["acme-ret-02", "acme-bill-07"],
        "How long do you keep raw events on the Pro plan, and can I get deleted data back?",
        "On the Pro plan, raw events are kept for 90 days [acme-ret-02]. Once the retention period ends, events are "
        "deleted "
        "within 7 days and can't be restored, so export anything you need before then [acme-ret-02]. If you need "
        "longer "
        "retention, the Team plan keeps raw events for 13 months [acme-ret-02].",
    ),
    (
        "acme",
        "en",
        ["acme-sso-03", "acme-audit-08"],
        "Can workspace owners still log in with a password after we enforce SSO?",
        "Yes. When SSO is enforced, password login is disabled for all members except workspace Owners, who keep a "
        "break-glass password login [acme-sso-03]. That lets an Owner get in even if your identity provider is "
        "unavailable.",
    ),
    (
        "acme",
        "en",
        ["acme-wh-04", "acme-keys-06", "acme-rl-01"],
        "How should I verify webhook signatures, and how old can a delivery be?",
        "Each webhook includes an Acme-Signature header in the form t=<timestamp>,v1=<signature> [acme-wh-04]. Compute "
        "an "
        "HMAC-SHA256 over the string '<timestamp>.<raw body>' with your signing secret and compare it with the v1 "
        "value "
        "[acme-wh-04]. Reject any delivery whose timestamp is more than 5 minutes old, which protects you against "
        "replay "
        "attacks [acme-wh-04].",
    ),
    (
        "acme",
        "en",
        ["acme-reg-05", "acme-ret-02"],
        "We created our workspace in us-east by mistake. Can we move it to Frankfurt?",
        "Not directly: a workspace's region is chosen at creation and can't be changed afterwards [acme-reg-05]. To "
        "move to "
        "eu-central (Frankfurt), create a new workspace there and migrate your data with export and import "
        "[acme-reg-05]. "
        "Keep in mind that only data still within your retention window can be exported [acme-ret-02].",
    ),
    (
        "acme",
        "en",
        ["acme-keys-06", "acme-wh-04"],
        "If I rotate an API key, does the old one stop working immediately?",
        "No. Rotating a key creates a new key, and the old one keeps working for a grace period you choose, anywhere "
        "from "
        "1 hour to 7 days [acme-keys-06]. Use that window to roll the new key out everywhere before the old one "
        "expires.",
    ),
    (
        "acme",
        "en",
        ["acme-audit-08", "acme-bill-07", "acme-sso-03"],
        "Does the Team plan include audit logs, and for how long?",
        "Yes, audit logs are included on Team with 90 days of history [acme-audit-08]. They cover sign-ins, API key "
        "changes, member and role changes, and export downloads [acme-audit-08]. A full year of history and streaming "
        "to "
        "S3 or a SIEM require Enterprise [acme-audit-08].",
    ),
    (
        "acme",
        "en",
        ["acme-bill-07", "acme-ret-02"],
        "What happens to our bill if we downgrade from Team to Pro in the middle of the month?",
        "Downgrades take effect at the end of your current billing period, so you keep Team features and pay the Team "
        "price "
        "until then [acme-bill-07]. From the next period you'd pay $49/month for Pro, which allows up to 5 members "
        "[acme-bill-07]. Note that Pro keeps raw events for 90 days instead of 13 months, so older events will be "
        "deleted "
        "after the switch [acme-ret-02].",
    ),
    (
        "acme",
        "en",
        ["acme-rl-01", "acme-bill-07"],
        "Is there a limit on how many queries we can run per minute?",
        "Yes, the query API has its own limits, separate from ingestion: 30 queries per minute on Pro and 120 on Team "
        "[acme-rl-01]. The documents don't list query limits for the Free or Enterprise plans.",
    ),
    (
        "acme",
        "en",
        ["acme-sso-03", "acme-keys-06"],
        "Does Acme support SCIM provisioning with Okta?",
        "Okta is one of the supported identity providers for SAML SSO [acme-sso-03]. SCIM 2.0 provisioning, however, "
        "is "
        "only available on the Enterprise plan; on Team, users are created just-in-time the first time they sign in "
        "[acme-sso-03].",
    ),
    (
        "acme",
        "en",
        ["acme-reg-05", "acme-audit-08"],
        "Can your support staff see our data if our workspace is in the EU region?",
        "For EU workspaces, all event data and backups stay inside the EU [acme-reg-05]. Support staff outside the EU "
        "can "
        "access workspace metadata for troubleshooting only with your consent [acme-reg-05]. The documents don't "
        "describe "
        "any access to raw event data by support staff.",
    ),
    (
        "hooli",
        "en",
        ["hooli-stor-02", "hooli-fam-03"],
        "My account is at 15 GB but I just deleted 4 GB of files. Why isn't my storage going down?",
        "Deleted files move to the Trash and keep counting toward your storage until you empty the Trash or 30 days "
        "pass "
        "[hooli-stor-02]. Empty the Trash in Drive to free the 4 GB right away. Also remember that the 15 GB is shared "
        "across Mail, Drive and Photos [hooli-stor-02].",
    ),
    (
        "hooli",
        "en",
        ["hooli-fam-03", "hooli-stor-02"],
        "If I share my 2 TB plan with my family, can they see my files?",
        "No. Family sharing only shares the storage space; each member's files stay private [hooli-fam-03]. As the "
        "family "
        "manager you can see how much space each member uses, but not their content, and you can share with up to 5 "
        "family "
        "members [hooli-fam-03].",
    ),
    (
        "hooli",
        "en",
        ["hooli-rec-01", "hooli-2sv-04"],
        "Can Hooli support reset my account? I lost the phone I use for 2-step verification.",
        "No, Hooli support can't bypass recovery or reset accounts over chat or phone [hooli-rec-01]. If you saved "
        "backup "
        "codes, you can use one of them to sign in [hooli-2sv-04]. Otherwise, start recovery at "
        "accounts.hooli.com/recovery "
        "from a device and location you've used before; without a backup method there may be a 3-5 day waiting period "
        "[hooli-rec-01].",
    ),
    (
        "hooli",
        "en",
        ["hooli-stor-02", "hooli-rec-01"],
        "What happens if I stay over my storage quota?",
        "If you stay over your quota for more than 2 years, Hooli may delete content after notifying you "
        "[hooli-stor-02]. "
        "To avoid that, free up space or upgrade to a Hooli One plan with 100 GB, 2 TB or 5 TB [hooli-stor-02].",
    ),
    (
        "hooli",
        "en",
        ["hooli-2sv-04", "hooli-rec-01"],
        "How many backup codes do I get, and can I reuse them?",
        "Each set contains 10 backup codes, and each code can be used only once [hooli-2sv-04]. Generating a new set "
        "invalidates all of the old codes, so keep only the latest set [hooli-2sv-04].",
    ),
    (
        "initech",
        "en",
        ["ini-pay-01", "ini-pto-03"],
        "What's the deadline to approve payroll for a Friday pay date?",
        "For direct deposit, payroll must be approved by 5 p.m. Pacific time 2 business days before the pay date, "
        "which "
        "for a Friday payday means Wednesday at 5 p.m. PT [ini-pay-01]. If you miss it, employees are paid 1 business "
        "day "
        "late unless you use Express Pay for $25 per run [ini-pay-01].",
    ),
    (
        "initech",
        "en",
        ["ini-tax-02", "ini-pay-01"],
        "When will W-2s be available and how do I fix a mistake on one?",
        "W-2s are generated automatically and published by January 31 [ini-tax-02]. If one contains an error, an admin "
        "can "
        "request a corrected W-2c under Taxes > Forms until April 15 [ini-tax-02].",
    ),
    (
        "initech",
        "en",
        ["ini-con-04", "ini-tax-02"],
        "We want to pay a designer in Portugal. What do they need to submit and what does it cost?",
        "International contractors need to submit a W-8BEN before their first payment [ini-con-04]. Payments arrive in "
        "2-5 "
        "business days in local currency, so your designer would be paid in euros, and there's a $5 fee per "
        "international "
        "payment [ini-con-04].",
    ),
    (
        "initech",
        "en",
        ["ini-pto-03", "ini-pay-01"],
        "Can employees go into a negative PTO balance?",
        "It depends on the policy: negative balances are configurable per PTO policy, along with carryover caps "
        "[ini-pto-03]. An admin can allow or block them when creating or editing the policy.",
    ),
    # --- Chinese
    (
        "stark-cn",
        "zh",
        ["stark-wty-01", "stark-ret-02"],
        "耳机的保修期是多久？",
        "斯塔克耳机的保修期为1年，自签收之日起计算 [stark-wty-01]。需要注意的是，人为损坏、"
        "进液或私自拆机不在免费保修范围内 [stark-wty-01]。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-wty-01", "stark-vip-03"],
        "手机修过一次屏幕，换上的新屏幕还有保修吗？",
        "有的。保修期内维修后，维修部件享有90天保修或整机剩余保修期，以较长者为准 [stark-wty-01]。"
        "例如整机还剩5个月保修，新屏幕同样享有5个月保修。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-ret-02", "stark-wty-01"],
        "买了5天的表带不喜欢，能无理由退吗？运费谁出？",
        "可以。签收后7天内，商品完好且不影响二次销售的，支持7天无理由退货 [stark-ret-02]。无理由退货的运费由您承担，"
        "如果下单时购买了运费险则不用自付 [stark-ret-02]。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-vip-03", "stark-trade-04"],
        "Stark+ 会员年费多少？有哪些权益？",
        "Stark+ 会员年费198元，月费25元 [stark-vip-03]。权益包括每月两张运费券、云空间扩容至200GB、专属客服通道，"
        "以及会员期间购买的设备延长保修6个月 [stark-vip-03]。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-trade-04", "stark-ret-02"],
        "以旧换新的旧机要在多久内寄出？",
        "旧机需要在新机签收后14天内寄出 [stark-trade-04]。如果逾期未寄出，已经抵扣的换新补贴会被扣回 "
        "[stark-trade-04]。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-bat-05", "stark-wty-01"],
        "Stark Phone 12 用原装充电器充满要多久？",
        "使用原装充电器进行120W有线快充，Stark Phone 12 大约19分钟可以充满 [stark-bat-05]。它也支持50W无线快充，"
        "但文档中没有给出无线充满所需的时间。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-bat-05", "stark-vip-03"],
        "晚上充电为什么总是停在80%？",
        "这是因为开启了“智能充电保护”功能 [stark-bat-05]。开启后，夜间充电会先在80%暂停，并在预计起床时间前充满，"
        "以减缓电池老化 [stark-bat-05]。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-bat-05", "stark-wty-01", "stark-trade-04"],
        "电池用两年之后容量大概还剩多少？",
        "文档中说明，电池在500次完整充放电循环后仍可保持80%以上的容量 [stark-bat-05]。按每天约一次完整充电估算，"
        "两年大约是500-700次循环，容量通常在80%左右，但实际情况取决于使用习惯。另外电池保修期为1年 [stark-wty-01]。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-inv-06", "stark-ret-02"],
        "已经开了普通发票，想换成专票可以吗？",
        "可以。需要先将原来的普通发票红冲，再申请增值税专用发票 [stark-inv-06]。注意每个订单最多只能换开一次，"
        "而且需要在确认收货后180天内申请 [stark-inv-06]。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-ret-02", "stark-trade-04"],
        "定制刻字的平板可以7天无理由退货吗？",
        "不可以，定制类商品不支持7天无理由退货 [stark-ret-02]。不过如果在15天内出现性能故障，仍然可以申请换货或退货，"
        "运费由斯塔克承担 [stark-ret-02]。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-vip-03", "stark-wty-01"],
        "会员期间买的手表，会员过期以后延保还有效吗？",
        "文档只说明延长保修6个月适用于会员期间购买的设备 [stark-vip-03]，没有提到会员到期后延保是否失效。从描述来看，"
        "延保是按设备购买时间判定的，但建议您联系客服再确认一下。",
    ),
    (
        "stark-cn",
        "zh",
        ["stark-trade-04", "stark-bat-05"],
        "以旧换新的补贴有多少？怎么用？",
        "参与以旧换新可以额外获得100-300元的换新补贴 [stark-trade-04]。补贴会和旧机估价合并，直接抵扣新机货款 "
        "[stark-trade-04]。",
    ),
    # --- Mixed zh/en questions on English docs
    (
        "acme",
        "mixed",
        ["acme-ret-02", "acme-bill-07"],
        "Team plan 的 raw events 能保留多久？过期之后还能 export 吗？",
        "Team plan 的 raw events 保留 13 个月 [acme-ret-02]。过了保留期之后，events 会在 7 天内被删除且无法恢复，"
        "所以需要在删除前发起 export；删除前已经开始的 export 在 7 天内仍然可以下载 [acme-ret-02]。",
    ),
    (
        "acme",
        "mixed",
        ["acme-wh-04", "acme-keys-06"],
        "webhook 的 signature 怎么校验？我们的 endpoint 是用 Go 写的",
        "Acme-Signature header 的格式是 t=<unix timestamp>,v1=<hex HMAC-SHA256> [acme-wh-04]。校验时用 signing secret "
        "对 '<timestamp>.<raw body>' 计算 HMAC-SHA256，再和 v1 的值比较 [acme-wh-04]。在 Go 里要直接读取原始的 request "
        "body，不要先 unmarshal 再序列化。另外，timestamp 超过 5 分钟的 delivery 应该直接拒绝 [acme-wh-04]。",
    ),
    (
        "acme",
        "mixed",
        ["acme-keys-06", "acme-rl-01"],
        "一个 workspace 最多能建多少个 API key？key 有哪些 role？",
        "每个 workspace 最多可以有 50 个 active API keys [acme-keys-06]。key 有三种 role：ingest（只能写 events）、"
        "read（只能 query）和 admin [acme-keys-06]。key 只会在创建时显示一次，请及时保存。",
    ),
    (
        "acme",
        "mixed",
        ["acme-reg-05", "acme-ret-02"],
        "我们公司在新加坡，应该选哪个 region？数据会出境吗？",
        "可以选择 ap-southeast（Singapore）region [acme-reg-05]。region 在创建 workspace 时确定，之后不能更改 "
        "[acme-reg-05]。文档只明确说明了 EU workspaces 的数据和备份会保留在 EU 境内，没有说明 ap-southeast 的 data "
        "residency 承诺，建议向 sales 确认。",
    ),
    (
        "acme",
        "mixed",
        ["acme-sso-03", "acme-audit-08"],
        "SSO enforce 之后，如果 Okta 挂了怎么办？",
        "SSO enforce 之后，普通成员不能再用密码登录，但 workspace Owners 会保留 break-glass password login "
        "[acme-sso-03]。所以即使 Okta 不可用，Owner 仍然可以用密码登录并进行管理操作。",
    ),
    (
        "hooli",
        "mixed",
        ["hooli-stor-02", "hooli-fam-03"],
        "Hooli One 的 2 TB plan 多少钱？能和家人 share 吗？",
        "Hooli One 的 2 TB plan 是每月 $9.99 [hooli-stor-02]。可以和最多 5 位家庭成员 share 存储空间，"
        "每个人的文件仍然是 private 的 [hooli-fam-03]。",
    ),
    (
        "stark-cn",
        "mixed",
        ["stark-bat-05", "stark-wty-01"],
        "Stark Phone 12 支持多少 W 的 wireless charging？",
        "Stark Phone 12 支持 50W 无线快充（wireless charging），有线快充则是 120W [stark-bat-05]。",
    ),
    (
        "initech",
        "mixed",
        ["ini-con-04", "ini-tax-02"],
        "contractor 在 UK 的话付款要几天到账？需要填 W-9 吗？",
        "UK 的 contractor 属于 international contractor，不需要填 W-9，而是需要在第一次付款前提交 W-8BEN [ini-con-04]。"
        "付款会在 2-5 个工作日内以当地货币（GBP）到账，每笔 international payment 收取 $5 手续费 [ini-con-04]。",
    ),
]


# ===========================================================================
# Workflow 5: order_assistant (Anthropic tool use, claude-3-5-sonnet-20241022)
# ===========================================================================

ORDER_TOOLS = [
    {
        "name": "lookup_order",
        "description": "Look up an order by its order number. Returns status, items, amounts, shipping address and "
        "tracking information.",
        "input_schema": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "description": "Order number, e.g. GX-41502278"}},
            "required": ["order_id"],
        },
    },
    {
        "name": "refund_order",
        "description": "Issue a full or partial refund to the original payment method. Only for amounts up to 300 USD "
        "(2,000 CNY for Stark orders); larger refunds need a human agent.",
        "input_schema": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "amount": {"type": "number", "description": "Refund amount in the order currency"},
                "reason": {
                    "type": "string",
                    "enum": ["damaged", "not_received", "wrong_item", "late_delivery", "changed_mind", "other"],
                },
            },
            "required": ["order_id", "amount", "reason"],
        },
    },
    {
        "name": "update_address",
        "description": "Change the shipping address of an order that has not shipped yet.",
        "input_schema": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "address": {
                    "type": "object",
                    "properties": {
                        "street": {"type": "string"},
                        "city": {"type": "string"},
                        "postal_code": {"type": "string"},
                        "country": {"type": "string", "description": "ISO 3166-1 alpha-2 code"},
                    },
                    "required": ["street", "city", "postal_code", "country"],
                },
            },
            "required": ["order_id", "address"],
        },
    },
]

ORDER_SYSTEM = {
    "globex": (
        "You are Globex Shop's order assistant. Use the tools to look up orders, issue refunds and change shipping "
        "addresses.\n"
        "- Look up an order before refunding it, unless the customer already gave the order number, the item and the "
        "amount.\n"
        "- Refunds above $300 need human approval: do not call refund_order, tell the customer you have escalated.\n"
        "- Addresses can only be changed before an order ships.\n"
        "- Be brief and friendly, and reply in the customer's language."
    ),
    "umbrella": (
        "You are the order assistant for Umbrella Health's mail-order pharmacy. Order numbers look like RX-1234567. "
        "Use the tools to look up orders and change shipping addresses; refunds for prescriptions are handled by the "
        "pharmacy team, so never call refund_order for them. Do not give medical advice. Be clear and empathetic."
    ),
    "stark-cn": (
        "你是斯塔克官方商城的订单助手，可以使用工具查询订单、办理退款和修改收货地址。\n- 用户已提供订单号、"
        "商品和金额时可以直接退款，否则先查询订单。\n- 单笔退款超过2000元需要人工审核，不要调用 refund_order，"
        "告知用户已转人工。\n- 订单发货后不能修改地址。\n- 使用用户的语言回复，简洁友好。"
    ),
}

LO, RF, UA = "lookup_order", "refund_order", "update_address"


def _addr(street, city, postal_code, country):
    return {"street": street, "city": city, "postal_code": postal_code, "country": country}


# steps: ("user", text) | ("call", preface or None, [(name, input), ...]) | ("result", [result, ...])
#        | ("assistant", text)
ORDER_SCRIPTS = [
    {
        "id": "gx-where-41502278",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            ("user", "Where's my order GX-41502278? It was supposed to ship yesterday."),
            ("call", "Let me check on that for you.", [(LO, {"order_id": "GX-41502278"})]),
        ],
    },
    {
        "id": "gx-skillet-chipped",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            (
                "user",
                "The cast iron skillet in order GX-41388015 arrived with a chipped handle. I paid $64.99 for it. Can I "
                "get a refund?",
            ),
            (
                "call",
                "I'm sorry about the chipped handle. I'll refund the $64.99 for the skillet right away.",
                [(RF, {"order_id": "GX-41388015", "amount": 64.99, "reason": "damaged"})],
            ),
        ],
    },
    {
        "id": "gx-portland-address",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            (
                "user",
                "Please change the delivery address for GX-41611942 to 2217 Alder Street, Apt 4B, Portland, OR 97205.",
            ),
            (
                "call",
                None,
                [
                    (
                        UA,
                        {
                            "order_id": "GX-41611942",
                            "address": _addr("2217 Alder Street, Apt 4B", "Portland", "97205", "US"),
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "gx-two-orders-status",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            (
                "user",
                "Can you check the status of GX-41420067 and GX-41420114? I placed them on the same day but only one "
                "arrived.",
            ),
            (
                "call",
                "I'll look up both orders.",
                [(LO, {"order_id": "GX-41420067"}), (LO, {"order_id": "GX-41420114"})],
            ),
        ],
    },
    {
        "id": "sc-where-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "steps": [
            ("user", "帮我查一下订单 SC2611180042 到哪了"),
            ("call", "好的，我来帮您查询一下订单状态。", [(LO, {"order_id": "SC2611180042"})]),
        ],
    },
    {
        "id": "sc-wrong-charger-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "steps": [
            ("user", "订单 SC2611090315 里的充电器发错了，我买的是65W的，收到的是33W，要求退款149元。"),
            (
                "call",
                "非常抱歉给您发错了商品，我这就为您办理149元的退款。",
                [(RF, {"order_id": "SC2611090315", "amount": 149, "reason": "wrong_item"})],
            ),
        ],
    },
    {
        "id": "gx-not-received",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            (
                "user",
                "I never received order GX-41277301. Tracking says delivered on Nov 16 but nothing was at my door. It "
                "was $89.50.",
            ),
            (
                "call",
                "I'm sorry it didn't reach you. Let me pull up the order details first.",
                [(LO, {"order_id": "GX-41277301"})],
            ),
        ],
    },
    {
        "id": "rx-asheville-address",
        "tenant": "umbrella",
        "lang": "en",
        "steps": [
            (
                "user",
                "Please update the shipping address on my refill order RX-7740218 to 88 Pinecrest Road, Asheville, NC "
                "28803.",
            ),
            (
                "call",
                None,
                [(UA, {"order_id": "RX-7740218", "address": _addr("88 Pinecrest Road", "Asheville", "28803", "US")})],
            ),
        ],
    },
    {
        "id": "gx-rug-changed-mind",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            (
                "user",
                "Refund order GX-41190388 please, I changed my mind about the rug. It hasn't shipped yet. It was $129.",
            ),
            (
                "call",
                "No problem, I'll refund the $129 for the rug.",
                [(RF, {"order_id": "GX-41190388", "amount": 129, "reason": "changed_mind"})],
            ),
        ],
    },
    {
        "id": "gx-montreal-two-orders",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            (
                "user",
                "Move both my orders GX-41733016 and GX-41733102 to my new address: 45 Rue Sainte-Catherine O, "
                "Montréal, QC H2X 1K4, Canada",
            ),
            (
                "call",
                "I'll update the shipping address on both orders.",
                [
                    (
                        UA,
                        {
                            "order_id": "GX-41733016",
                            "address": _addr("45 Rue Sainte-Catherine O", "Montréal", "H2X 1K4", "CA"),
                        },
                    ),
                    (
                        UA,
                        {
                            "order_id": "GX-41733102",
                            "address": _addr("45 Rue Sainte-Catherine O", "Montréal", "H2X 1K4", "CA"),
                        },
                    ),
                ],
            ),
        ],
    },
    {
        "id": "sc-hangzhou-address-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "steps": [
            ("user", "我的订单 SC2611200718 还没发货，收货地址要改成：浙江省杭州市滨江区江南大道3850号，邮编310051"),
            (
                "call",
                "好的，我来为您修改收货地址。",
                [
                    (
                        UA,
                        {
                            "order_id": "SC2611200718",
                            "address": _addr("浙江省杭州市滨江区江南大道3850号", "杭州市", "310051", "CN"),
                        },
                    )
                ],
            ),
        ],
    },
    {
        "id": "gx-lamp-late",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            (
                "user",
                "The lamp from GX-41455290 came 9 days late and I had to buy another one in the meantime. I'd like a "
                "refund of the $74 I paid.",
            ),
            (
                "call",
                "Sorry about the long delay. I'll refund the $74 for the lamp.",
                [(RF, {"order_id": "GX-41455290", "amount": 74, "reason": "late_delivery"})],
            ),
        ],
    },
    {
        "id": "gx-tracking-shipping-fee",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            (
                "user",
                "Hi, order GX-41560833: the tracking link doesn't work. Also, can you refund the $12.99 shipping fee? "
                "It "
                "should have been free shipping over $50.",
            ),
            (
                "call",
                "Let me check the order and refund the shipping fee.",
                [
                    (LO, {"order_id": "GX-41560833"}),
                    (RF, {"order_id": "GX-41560833", "amount": 12.99, "reason": "other"}),
                ],
            ),
        ],
    },
    {
        "id": "rx-no-tracking",
        "tenant": "umbrella",
        "lang": "en",
        "steps": [
            ("user", "Where is my refill order RX-7752604? It says shipped but there's no tracking number."),
            ("call", "Let me look that up.", [(LO, {"order_id": "RX-7752604"})]),
        ],
    },
    {
        "id": "sc-buds-broken-mixed",
        "tenant": "stark-cn",
        "lang": "mixed",
        "steps": [
            ("user", "订单 SC2611210233 的 Stark Buds 收到是坏的，左耳没声音，帮我 refund 一下，金额 599"),
            (
                "call",
                "非常抱歉，收到的耳机有问题。我现在为您办理 599 元的 refund。",
                [(RF, {"order_id": "SC2611210233", "amount": 599, "reason": "damaged"})],
            ),
        ],
    },
    {
        "id": "gx-duplicate-blender",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            (
                "user",
                "I ordered the same blender twice by accident: GX-41802277 and GX-41802290. Please refund the second "
                "one ($149.00).",
            ),
            (
                "call",
                "No problem, I'll refund the duplicate order GX-41802290.",
                [(RF, {"order_id": "GX-41802290", "amount": 149.0, "reason": "other"})],
            ),
        ],
    },
    {
        "id": "sc-two-orders-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "steps": [
            ("user", "查一下 SC2611160091 和 SC2611160107 这两个订单的物流"),
            (
                "call",
                "好的，我来同时查询这两个订单。",
                [(LO, {"order_id": "SC2611160091"}), (LO, {"order_id": "SC2611160107"})],
            ),
        ],
    },
    {
        "id": "gx-shipped-mixed",
        "tenant": "globex",
        "lang": "mixed",
        "steps": [
            ("user", "帮我看一下 order GX-41899120 shipped 了没有？"),
            ("call", "好的，我帮您查一下。", [(LO, {"order_id": "GX-41899120"})]),
        ],
    },
    # ---- final answers after tool results
    {
        "id": "gx-status-napkins",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            ("user", "What's the status of GX-41266548?"),
            ("call", "Let me look that up.", [(LO, {"order_id": "GX-41266548"})]),
            (
                "result",
                [
                    {
                        "order_id": "GX-41266548",
                        "status": "in_transit",
                        "carrier": "UPS",
                        "tracking_number": "1Z8V41E20391827714",
                        "estimated_delivery": "2026-11-25",
                        "items": [{"name": "Linen napkins, set of 6", "qty": 2, "price": 28.0}],
                        "total": 56.0,
                        "currency": "USD",
                    }
                ],
            ),
            (
                "assistant",
                "Your order GX-41266548 (two sets of linen napkins) is on its way with UPS and is expected to arrive "
                "on Wednesday, November 25. You can follow it with tracking number 1Z8V41E20391827714.",
            ),
        ],
    },
    {
        "id": "gx-carafe-refunded",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            ("user", "The glass carafe in GX-41302219 shattered in the box. It cost $39.95."),
            (
                "call",
                "I'm so sorry about that! I'll refund the carafe now.",
                [(RF, {"order_id": "GX-41302219", "amount": 39.95, "reason": "damaged"})],
            ),
            (
                "result",
                [
                    {
                        "refund_id": "rf_8KQ2M1",
                        "status": "processed",
                        "amount": 39.95,
                        "currency": "USD",
                        "estimated_days": 5,
                    }
                ],
            ),
            (
                "assistant",
                "Done! I've refunded $39.95 for the carafe to your original payment method, and it should appear "
                "within 5 business days (refund reference rf_8KQ2M1). You don't need to send the broken carafe "
                "back.",
            ),
        ],
    },
    {
        "id": "gx-address-too-late",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            ("user", "Change the address on GX-41590077 to 310 Elm St, Boulder, CO 80302."),
            (
                "call",
                None,
                [(UA, {"order_id": "GX-41590077", "address": _addr("310 Elm St", "Boulder", "80302", "US")})],
            ),
            (
                "result",
                [
                    {
                        "error": "order_already_shipped",
                        "shipped_at": "2026-11-22T16:40:00Z",
                        "carrier": "FedEx",
                        "tracking_number": "781204937715",
                    }
                ],
            ),
            (
                "assistant",
                "Unfortunately GX-41590077 already shipped yesterday with FedEx, so I can't change the address "
                "anymore. You can ask FedEx to redirect it to 310 Elm St using tracking number 781204937715. If a "
                "redirect isn't possible, refuse the delivery and we'll refund you once it comes back to us.",
            ),
        ],
    },
    {
        "id": "sc-eta-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "steps": [
            ("user", "订单 SC2611190553 什么时候能到？"),
            ("call", "我来帮您查询一下。", [(LO, {"order_id": "SC2611190553"})]),
            (
                "result",
                [
                    {
                        "order_id": "SC2611190553",
                        "status": "已发货",
                        "carrier": "顺丰速运",
                        "tracking_number": "SF1428830961025",
                        "estimated_delivery": "2026-11-24",
                        "items": [{"name": "Stark Watch 3 表带 米白色", "qty": 1, "price": 129.0}],
                    }
                ],
            ),
            (
                "assistant",
                "您的订单 SC2611190553（Stark Watch 3 表带 米白色）已通过顺丰速运发出，运单号 SF1428830961025，"
                "预计明天（11月24日）送达。您可以在顺丰官网或App中用运单号查看实时物流。",
            ),
        ],
    },
    {
        "id": "sc-case-color-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "steps": [
            ("user", "订单 SC2611140276 的手机壳颜色发错了，申请退款79元"),
            (
                "call",
                "抱歉发错了颜色，我这就为您办理退款。",
                [(RF, {"order_id": "SC2611140276", "amount": 79, "reason": "wrong_item"})],
            ),
            (
                "result",
                [
                    {
                        "refund_id": "RF2611230117",
                        "status": "processed",
                        "amount": 79.0,
                        "currency": "CNY",
                        "estimated_days": 3,
                    }
                ],
            ),
            (
                "assistant",
                "已为您办理退款，79元将原路退回，预计3个工作日内到账，退款单号 RF2611230117。发错的手机壳无需寄回，"
                "给您带来不便非常抱歉。",
            ),
        ],
    },
    {
        "id": "rx-prior-auth",
        "tenant": "umbrella",
        "lang": "en",
        "steps": [
            ("user", "Why hasn't RX-7761350 shipped yet? I ordered it 4 days ago."),
            ("call", "Let me check what's holding it up.", [(LO, {"order_id": "RX-7761350"})]),
            (
                "result",
                [
                    {
                        "order_id": "RX-7761350",
                        "status": "awaiting_insurance",
                        "detail": "Prior authorization requested from insurer on 2026-11-20",
                        "items": [{"name": "Refill - 90 day supply", "qty": 1}],
                        "pharmacy_contact": "1-800-555-0148",
                    }
                ],
            ),
            (
                "assistant",
                "Your order RX-7761350 is waiting on your insurance: we requested a prior authorization from your "
                "insurer on November 20, and it will ship as soon as they approve it. These approvals usually take "
                "3-5 business days. If you need it sooner, your doctor can call the insurer to speed things up, or "
                "you can reach our pharmacy team at 1-800-555-0148 to discuss paying out of pocket.",
            ),
        ],
    },
    {
        "id": "gx-two-orders-final",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            ("user", "Check GX-41630219 and GX-41630284 please"),
            (
                "call",
                "Looking up both orders now.",
                [(LO, {"order_id": "GX-41630219"}), (LO, {"order_id": "GX-41630284"})],
            ),
            (
                "result",
                [
                    {
                        "order_id": "GX-41630219",
                        "status": "delivered",
                        "delivered_at": "2026-11-20",
                        "signed_by": "Front desk",
                        "items": [{"name": "Bamboo cutting board set", "qty": 1, "price": 42.0}],
                    },
                    {
                        "order_id": "GX-41630284",
                        "status": "processing",
                        "estimated_ship_date": "2026-11-25",
                        "items": [{"name": "Tilt-head stand mixer, 5 qt", "qty": 1, "price": 279.0}],
                    },
                ],
            ),
            (
                "assistant",
                "GX-41630219 (bamboo cutting board set) was delivered on November 20 and signed for at the front "
                "desk. GX-41630284 (stand mixer) is still being prepared at our warehouse and should ship by "
                "November 25; you'll get a tracking email as soon as it does.",
            ),
        ],
    },
    {
        "id": "gx-missing-pillow",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            ("user", "My order GX-41412870 says delivered but I only got one of the two pillows."),
            ("call", "Let me take a look at that order.", [(LO, {"order_id": "GX-41412870"})]),
            (
                "result",
                [
                    {
                        "order_id": "GX-41412870",
                        "status": "partially_delivered",
                        "delivered_at": "2026-11-19",
                        "packages": 2,
                        "packages_delivered": 1,
                        "items": [{"name": "Down-alternative pillow, standard", "qty": 2, "price": 29.0}],
                    }
                ],
            ),
            (
                "assistant",
                "I can see GX-41412870 shipped in two packages, and only one has been delivered so far; the second "
                "package with the other pillow is still in transit. If it hasn't arrived by Wednesday, I can refund "
                "the $29.00 for the missing pillow or send a replacement. Which would you prefer?",
            ),
        ],
    },
    {
        "id": "sc-address-mixed",
        "tenant": "stark-cn",
        "lang": "mixed",
        "steps": [
            ("user", "订单 SC2611220419 的 shipping address 改成 上海市浦东新区张江路88号，邮编 201203"),
            (
                "call",
                None,
                [
                    (
                        UA,
                        {
                            "order_id": "SC2611220419",
                            "address": _addr("上海市浦东新区张江路88号", "上海市", "201203", "CN"),
                        },
                    )
                ],
            ),
            (
                "result",
                [
                    {
                        "status": "updated",
                        "order_id": "SC2611220419",
                        "address": _addr("上海市浦东新区张江路88号", "上海市", "201203", "CN"),
                        "shipped": False,
                    }
                ],
            ),
            (
                "assistant",
                "已经帮您把订单 SC2611220419 的 shipping address 更新为：上海市浦东新区张江路88号，邮编201203。"
                "订单目前还没有发货，会按新地址配送。",
            ),
        ],
    },
    {
        "id": "gx-before-dec1",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            ("user", "Has GX-41788405 shipped? I need it before Dec 1."),
            ("call", "Let me check.", [(LO, {"order_id": "GX-41788405"})]),
            (
                "result",
                [
                    {
                        "order_id": "GX-41788405",
                        "status": "processing",
                        "estimated_ship_date": "2026-11-24",
                        "shipping_method": "standard",
                        "estimated_delivery": "2026-11-27 to 2026-11-30",
                        "items": [{"name": "Wool throw blanket, charcoal", "qty": 1, "price": 89.0}],
                    }
                ],
            ),
            (
                "assistant",
                "Not yet: GX-41788405 is being prepared and is scheduled to ship tomorrow, November 24, with standard "
                "shipping. It should arrive between November 27 and 30, so it should reach you before December 1. If "
                "you'd like extra certainty, I can check whether it can be upgraded to express.",
            ),
        ],
    },
    {
        "id": "sc-locker-zh",
        "tenant": "stark-cn",
        "lang": "zh",
        "steps": [
            ("user", "订单 SC2611150388 显示已签收，但我没收到"),
            ("call", "我先帮您查一下这个订单的签收信息。", [(LO, {"order_id": "SC2611150388"})]),
            (
                "result",
                [
                    {
                        "order_id": "SC2611150388",
                        "status": "已签收",
                        "signed_by": "快递柜代收",
                        "signed_at": "2026-11-22 18:42",
                        "carrier": "圆通速递",
                        "tracking_number": "YT7712039485566",
                    }
                ],
            ),
            (
                "assistant",
                "查询到订单 SC2611150388 已于11月22日18:42由快递员放入快递柜，签收方式为快递柜代收。"
                "请您查看手机短信中的取件码；如果找不到取件码或快递柜中没有包裹，请告诉我，我们会联系圆通速递核实。",
            ),
        ],
    },
    {
        "id": "gx-two-mugs-refund",
        "tenant": "globex",
        "lang": "en",
        "steps": [
            ("user", "Refund the two mugs from GX-41522613 that arrived chipped, $18 each."),
            (
                "call",
                "Sorry they arrived chipped. I'll refund both mugs.",
                [(RF, {"order_id": "GX-41522613", "amount": 36.0, "reason": "damaged"})],
            ),
            (
                "result",
                [
                    {
                        "refund_id": "rf_3TZ9QA",
                        "status": "processed",
                        "amount": 36.0,
                        "currency": "USD",
                        "estimated_days": 7,
                    }
                ],
            ),
            (
                "assistant",
                "I've refunded $36.00 for the two chipped mugs (refund reference rf_3TZ9QA). The money will be back "
                "on your original payment method within 5-7 business days, and there's no need to return them.",
            ),
        ],
    },
]


# ===========================================================================
# Assembly of production cases
# ===========================================================================

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _openai_call_id(rng):
    return "call_" + rand_str(ALNUM, 24, rng)


def _anthropic_tool_id(rng):
    return "toolu_01" + rand_str(BASE58, 22, rng)


def new_case(workflow, tenant, lang, subject, request, out, meta):
    api, _model = WORKFLOW_API[workflow]
    return {
        "workflow": workflow,
        "api": api,
        "tenant": tenant,
        "lang": lang,
        "subject": subject,
        "request": request,
        "out": out,
        "meta": meta,
        "error": None,
    }


def build_support_cases(rng):
    convs = []
    temps = {"acme": 0.2, "globex": 0.5, "initech": 0.3, "umbrella": 0.3, "hooli": 0.4, "stark-cn": 0.5}
    for conv in SUPPORT_CONVERSATIONS:
        tenant = conv["tenant"]
        system, pv, max_tokens = SUPPORT_SYSTEM[tenant]
        subject = "chat_" + rand_str(LOWER_ALNUM, 16, rng)
        channel = rng.choice(SUPPORT_CHANNELS[tenant])
        history = [{"role": "system", "content": system}]
        cases = []
        for k, (user, answer) in enumerate(conv["turns"]):
            messages = [*history, {"role": "user", "content": user}]
            request = {
                "model": PROD_OPENAI,
                "messages": copy.deepcopy(messages),
                "temperature": temps[tenant],
                "max_tokens": max_tokens,
            }
            cases.append(
                new_case(
                    "support_chat",
                    tenant,
                    conv["lang"],
                    subject,
                    request,
                    {"text": answer, "tool_calls": [], "finish_reason": "stop"},
                    {
                        "ref": f"{conv['id']}#{k}",
                        "conv_id": conv["id"],
                        "turn": k,
                        "kind": "text",
                        "tags": {"prompt_version": pv, "channel": channel},
                    },
                )
            )
            history = [*messages, {"role": "assistant", "content": answer}]
        convs.append(cases)
    return convs


INVOICE_SOURCES = {
    "formal": ["ap-inbox attachment (PDF text layer)", "vendor portal download (PDF text layer)"],
    "us": ["ap-inbox attachment (PDF text layer)", "vendor portal download (PDF text layer)"],
    "email": ["ap-inbox message body"],
    "ocr": ["scanner upload (OCR)", "mobile upload (OCR)"],
    "receipt": ["expense app receipt photo (OCR)"],
    "zh_special": ["全电发票 PDF（文本层）"],
    "zh_normal": ["全电发票 PDF（文本层）", "邮箱附件 OFD（文本层）"],
    "zh_email": ["财务邮箱正文"],
    "zh_scan": ["扫描件（OCR）"],
}


def build_invoice_cases(rng):
    convs = []
    for spec in build_invoices(rng):
        subject = "doc_" + rand_str(HEX, 20, rng)
        source = rng.choice(INVOICE_SOURCES[spec["layout"]])
        user_text = (
            f"Extract the invoice fields from this document.\nSource: {source}\n"
            f"Document ID: {subject}\n\n-----\n{spec['text']}\n-----"
        )
        content = [{"type": "text", "text": user_text}] if rng.random() < 0.3 else user_text
        request = {
            "model": PROD_OPENAI,
            "messages": [{"role": "system", "content": INVOICE_SYSTEM}, {"role": "user", "content": content}],
            "temperature": 0,
            "max_tokens": 800,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "invoice", "strict": True, "schema": copy.deepcopy(INVOICE_SCHEMA)},
            },
        }
        tags_source = {
            "ocr": "scanner",
            "receipt": "expense-app",
            "zh_scan": "scanner",
            "email": "ap-inbox",
            "zh_email": "ap-inbox",
        }.get(spec["layout"], "ap-inbox")
        convs.append(
            [
                new_case(
                    "invoice_extraction",
                    spec["tenant"],
                    spec["lang"],
                    subject,
                    request,
                    {"text": compact(spec["expected"]), "tool_calls": [], "finish_reason": "stop"},
                    {
                        "ref": f"invoice:{spec['expected']['invoice_number']}",
                        "kind": "json",
                        "expected": spec["expected"],
                        "layout": spec["layout"],
                        "vendor": spec["vendor"],
                        "subtotal": spec["subtotal"],
                        "tax_rate": spec["tax_rate"],
                        "tags": {"prompt_version": "invoice-v7", "source": tags_source, "doc_layout": spec["layout"]},
                    },
                )
            ]
        )
    return convs


def build_travel_cases(rng):
    convs = []
    for script in TRAVEL_SCRIPTS:
        tenant = script["tenant"]
        subject = "trip_" + rand_str(LOWER_ALNUM, 14, rng)
        messages = [{"role": "system", "content": travel_system(tenant)}]
        ids_by_step: dict[int, list[str]] = {}
        cases = []
        for i, step in enumerate(script["steps"]):
            kind = step[0]
            if kind == "call":
                ids_by_step[i] = [_openai_call_id(rng) for _ in step[1]]
            if i in script["events"]:
                request = {
                    "model": PROD_OPENAI,
                    "messages": copy.deepcopy(messages),
                    "tools": copy.deepcopy(TRAVEL_TOOLS),
                    "tool_choice": "auto",
                    "parallel_tool_calls": True,
                    "temperature": 0.2,
                }
                if kind == "call":
                    out = {
                        "text": None,
                        "finish_reason": "tool_calls",
                        "tool_calls": [
                            {"id": cid, "name": n, "arguments": copy.deepcopy(a)}
                            for cid, (n, a) in zip(ids_by_step[i], step[1], strict=True)
                        ],
                    }
                else:
                    out = {"text": step[1], "tool_calls": [], "finish_reason": "stop"}
                cases.append(
                    new_case(
                        "travel_agent",
                        tenant,
                        script["lang"],
                        subject,
                        request,
                        out,
                        {
                            "ref": f"{script['id']}#{i}",
                            "kind": "tools" if kind == "call" else "text",
                            "parallel": kind == "call" and len(step[1]) > 1,
                            "tags": {"prompt_version": "travel-v5"},
                        },
                    )
                )
            if kind == "user":
                messages.append({"role": "user", "content": step[1]})
            elif kind == "call":
                messages.append(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": cid, "type": "function", "function": {"name": n, "arguments": compact(a)}}
                            for cid, (n, a) in zip(ids_by_step[i], step[1], strict=True)
                        ],
                    }
                )
            elif kind == "tool":
                for cid, result in zip(ids_by_step[i - 1], step[1], strict=True):
                    messages.append({"role": "tool", "tool_call_id": cid, "content": compact(result)})
            elif kind == "assistant":
                messages.append({"role": "assistant", "content": step[1]})
        convs.append(cases)
    return convs


def build_kb_cases(rng):
    convs = []
    for i, (tenant, lang, doc_ids, question, answer) in enumerate(KB_QA):
        subject = "kbs_" + rand_str(LOWER_ALNUM, 16, rng)
        content = [{"type": "text", "text": question}] if rng.random() < 0.35 else question
        request = {
            "model": PROD_ANTHROPIC,
            "max_tokens": 1024,
            "temperature": 0,
            "system": kb_system(tenant, doc_ids),
            "messages": [{"role": "user", "content": content}],
        }
        pv = "kb-rag-zh-v2" if tenant == "stark-cn" else "kb-rag-v3"
        convs.append(
            [
                new_case(
                    "kb_answer",
                    tenant,
                    lang,
                    subject,
                    request,
                    {"text": answer, "tool_calls": [], "finish_reason": "stop"},
                    {
                        "ref": f"kb#{i}",
                        "kind": "text",
                        "doc_ids": doc_ids,
                        "tags": {"prompt_version": pv, "retriever": "hybrid-bm25-e5", "top_k": str(len(doc_ids))},
                    },
                )
            ]
        )
    return convs


def build_order_cases(rng):
    convs = []
    for script in ORDER_SCRIPTS:
        tenant = script["tenant"]
        subject = "ord_thread_" + rand_str(LOWER_ALNUM, 12, rng)
        messages = []
        ids_by_step: dict[int, list[str]] = {}
        steps = script["steps"]
        event_idx = len(steps) - 1
        case = None
        for i, step in enumerate(steps):
            kind = step[0]
            if kind == "call":
                ids_by_step[i] = [_anthropic_tool_id(rng) for _ in step[2]]
            if i == event_idx:
                request = {
                    "model": PROD_ANTHROPIC,
                    "max_tokens": 1024,
                    "system": ORDER_SYSTEM[tenant],
                    "tools": copy.deepcopy(ORDER_TOOLS),
                    "messages": copy.deepcopy(messages),
                }
                if kind == "call":
                    out = {
                        "text": step[1],
                        "finish_reason": "tool_calls",
                        "tool_calls": [
                            {"id": tid, "name": n, "arguments": copy.deepcopy(a)}
                            for tid, (n, a) in zip(ids_by_step[i], step[2], strict=True)
                        ],
                    }
                else:
                    out = {"text": step[1], "tool_calls": [], "finish_reason": "stop"}
                pv = "orders-zh-v4" if tenant == "stark-cn" else "orders-v11"
                case = new_case(
                    "order_assistant",
                    tenant,
                    script["lang"],
                    subject,
                    request,
                    out,
                    {
                        "ref": script["id"],
                        "kind": "tools" if kind == "call" else "text",
                        "parallel": kind == "call" and len(step[2]) > 1,
                        "tags": {"prompt_version": pv},
                    },
                )
            if kind == "user":
                messages.append({"role": "user", "content": step[1]})
            elif kind == "call":
                blocks = [{"type": "text", "text": step[1]}] if step[1] else []
                blocks += [
                    {"type": "tool_use", "id": tid, "name": n, "input": a}
                    for tid, (n, a) in zip(ids_by_step[i], step[2], strict=True)
                ]
                messages.append({"role": "assistant", "content": blocks})
            elif kind == "result":
                messages.append(
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": tid, "content": compact(res)}
                            for tid, res in zip(ids_by_step[i - 1], step[1], strict=True)
                        ],
                    }
                )
            elif kind == "assistant":
                messages.append({"role": "assistant", "content": [{"type": "text", "text": step[1]}]})
        convs.append([case])
    return convs


# ---------------------------------------------------------------------------
# Token usage and latency models
# ---------------------------------------------------------------------------


def _content_text(content) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for p in content:
        t = p.get("type")
        if t == "text":
            parts.append(p["text"])
        elif t == "tool_use":
            parts.append(p["name"] + compact(p["input"]))
        elif t == "tool_result":
            c = p.get("content")
            parts.append(c if isinstance(c, str) else _content_text(c))
    return "\n".join(parts)


def request_tokens(api: str, req: dict) -> int:
    n = 3
    if api == API_OPENAI:
        for m in req["messages"]:
            n += 4 + est_tokens(_content_text(m.get("content")))
            for tc in m.get("tool_calls") or []:
                n += 3 + est_tokens(tc["function"]["name"] + tc["function"]["arguments"])
        if "tools" in req:
            n += round(est_tokens(compact(req["tools"])) * 0.7)
        rf = req.get("response_format")
        if rf and rf.get("type") == "json_schema":
            n += round(est_tokens(compact(rf["json_schema"])) * 0.6)
    else:
        n += est_tokens(req.get("system") or "")
        for m in req["messages"]:
            n += 4 + est_tokens(_content_text(m["content"]))
        if "tools" in req:
            n += 346 + round(est_tokens(compact(req["tools"])) * 0.8)
    return n


def output_tokens(text, tool_calls) -> int:
    n = est_tokens(text or "")
    for tc in tool_calls:
        args = tc.get("arguments_raw") or compact(tc.get("arguments"))
        n += 8 + est_tokens(tc["name"]) + est_tokens(args)
    return max(n, 1)


def prod_latency(api: str, in_tok: int, out_tok: int, tools: bool, rng) -> int:
    if api == API_OPENAI:
        base = (280 + out_tok * 10 + in_tok * 0.06) if tools else (330 + out_tok * 14 + in_tok * 0.05)
    else:
        base = (520 + out_tok * 13 + in_tok * 0.05) if tools else (560 + out_tok * 17 + in_tok * 0.04)
    ms = base * rng.uniform(0.85, 1.25)
    if rng.random() < 0.08:  # provider-side tail latency
        ms *= rng.uniform(1.4, 2.2)
    if ms > 3950:
        ms = 3950 - rng.uniform(0, 350)
    return int(clamp(ms, 300, 4000))


# ---------------------------------------------------------------------------
# Production event rendering
# ---------------------------------------------------------------------------

OPENAI_FINGERPRINTS = ["fp_a7d06e42a7", "fp_a7d06e42a7", "fp_a7d06e42a7", "fp_f9f4fb6dbf"]

PROD_ERRORS = {
    API_OPENAI: [
        "The server had an error while processing your request. Sorry about that!",
        "The server had an error processing your request. Sorry about that! You can retry your request, or contact us "
        "through our help center at help.openai.com if you keep seeing this error.",
    ],
    API_ANTHROPIC: ["Internal server error", "Internal server error"],
}


def openai_body(case, created, in_tok, out_tok, rng) -> dict:
    out = case["out"]
    message = {"role": "assistant", "content": out["text"]}
    if out["tool_calls"]:
        message["tool_calls"] = [
            {
                "id": tc["id"],
                "type": "function",
                "function": {"name": tc["name"], "arguments": compact(tc["arguments"])},
            }
            for tc in out["tool_calls"]
        ]
    message["refusal"] = None
    message["annotations"] = []
    cached = 0
    if in_tok >= 1024 and (case["meta"].get("turn", 0) > 0 or rng.random() < 0.5):
        cached = max(1024, (in_tok - rng.randint(40, 400)) // 128 * 128)
        cached = min(cached, in_tok // 128 * 128)
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
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": rng.choice(OPENAI_FINGERPRINTS),
    }


def anthropic_body(case, in_tok, out_tok, rng) -> dict:
    out = case["out"]
    content = []
    if out["text"]:
        content.append({"type": "text", "text": out["text"]})
    for tc in out["tool_calls"]:
        content.append({"type": "tool_use", "id": tc["id"], "name": tc["name"], "input": tc["arguments"]})
    stop = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}[out["finish_reason"]]
    return {
        "id": "msg_01" + rand_str(BASE58, 22, rng),
        "type": "message",
        "role": "assistant",
        "model": PROD_ANTHROPIC,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": in_tok,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": out_tok,
        },
    }


def assign_times(convs: list[list[dict]], rng) -> None:
    for cases in convs:
        gaps = [rng.uniform(25, 210) for _ in range(len(cases) - 1)]
        duration = sum(gaps)
        lo, hi = START.timestamp() + 30, NOW.timestamp() - duration - 30
        u = rng.random()
        if cases[0]["tenant"] != "stark-cn":
            u = max(u, rng.random())  # US/EU traffic ramps up towards the end of the window (12:00 UTC)
        t = lo + (hi - lo) * u
        for i, case in enumerate(cases):
            ms = round(t * 1000)
            case["t"] = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
            if i < len(gaps):
                t += gaps[i]


def render_event(case, rng) -> dict:
    api = case["api"]
    ts = case["t"]
    in_tok = request_tokens(api, case["request"])
    out_tok = output_tokens(case["out"]["text"], case["out"]["tool_calls"])
    case["prod_in"], case["prod_out"] = in_tok, out_tok
    latency = prod_latency(api, in_tok, out_tok, bool(case["out"]["tool_calls"]), rng)
    case["prod_latency"] = latency
    response, error = None, None
    if case["error"]:
        error = case["error"]
        latency = rng.randint(900, 3600)
    elif api == API_OPENAI:
        response = openai_body(case, int(ts.timestamp()), in_tok, out_tok, rng)
    else:
        response = anthropic_body(case, in_tok, out_tok, rng)
    tags = dict(case["meta"]["tags"])
    tags["release"] = "2026.11.3" if ts >= DEPLOY_AT else "2026.11.2"
    return {
        "schema_version": 1,
        "event_id": "evt_" + ulid(ts),
        "occurred_at": rfc3339(ts),
        "service": SERVICES[case["workflow"]],
        "environment": "prod",
        "workflow": case["workflow"],
        "tenant": case["tenant"],
        "subject": case["subject"],
        "api": api,
        "request": case["request"],
        "response": response,
        "error": error,
        "latency_ms": latency,
        "tags": tags,
    }


# ===========================================================================
# Candidate answers (recordings)
# ===========================================================================

# Openers are "kind|text"; kind decides when the opener fits (see lengthen()).
SUPPORT_OPENERS = {
    "en": [
        "first|Thanks for reaching out!",
        "empathy|Thanks for letting us know, and sorry for the hassle.",
        "empathy|I completely understand how frustrating this must be.",
        "first|Happy to help with this!",
        "details|Thanks for the details, that's really helpful.",
        "question|Good question, let me walk you through it.",
        "later|Thanks for getting back to me.",
        "later|Got it, thanks for confirming.",
    ],
    "zh": [
        "later|感谢您的耐心等待！",
        "empathy|非常理解您的心情，给您带来不便真的很抱歉。",
        "first|感谢您联系我们，很高兴为您服务。",
        "details|收到，感谢您提供的详细信息。",
        "question|这个问题我来为您解答。",
        "first|很高兴为您服务。",
    ],
}
SUPPORT_CLOSERS = {
    "en": [
        "If anything else comes up, just reply here and I'll be glad to help.",
        "Let me know if you have any other questions!",
        "Is there anything else I can help you with today?",
        "Please don't hesitate to reach out if you run into any other issues.",
        "Hope this helps, and have a great rest of your day!",
    ],
    "zh": [
        "如果还有其他问题，欢迎随时联系我们，祝您生活愉快！",
        "如有任何疑问，请随时告诉我，我会尽力为您解决。",
        "请问还有其他可以帮您的吗？",
        "后续如有进展，我们也会第一时间通知您。",
    ],
}
SUPPORT_EXTRAS = {
    "en": [
        "I've also added a note to your account so anyone on our team who picks this up has the full context.",
        "You'll find the same information in your account settings if you need to refer back to it later.",
        "If it's easier, you can also reply to the confirmation email and it will come straight back to this "
        "conversation.",
    ],
    "zh": [
        "为了方便您后续查询，我已经记录了本次沟通的内容。",
        "这类问题一般都能很快处理好，请您放心。",
        "如果需要，我们也可以通过邮件把以上步骤发送给您。",
    ],
}
KB_OPENERS = {
    "en": [
        "any|Based on the documentation provided, here's what applies:",
        "any|According to the documentation:",
        "question|Good question. Here's what the docs say:",
    ],
    "zh": ["any|根据提供的文档，具体情况如下：", "any|根据文档内容：", "any|好的，根据检索到的文档："],
}
KB_CLOSERS = {
    "en": [
        "Let me know if you'd like more detail on any of these points.",
        "If your setup differs from what's described here, it's worth confirming with support, since the documents "
        "may not cover every case.",
        "I'd recommend double-checking the current settings in your dashboard, as the documentation describes the "
        "default behavior.",
    ],
    "zh": [
        "如需进一步确认，建议联系人工客服。",
        "以上信息均来自当前文档，如政策有更新，请以官方最新公告为准。",
        "希望以上信息对您有帮助，如有其他问题欢迎继续提问。",
    ],
}
KB_EXTRAS = {
    "en": [
        "Everything above comes directly from the retrieved documents.",
        "The documents don't mention any exceptions to this.",
    ],
    "zh": ["文档中没有提到例外情况。", "如果您的情况比较特殊，也可以补充更多细节，我再帮您确认。"],
}
FINAL_OPENERS = {
    "travel_agent": {
        "en": ["any|Here's what I found.", "any|Thanks for waiting."],
        "zh": ["any|为您查询到以下信息：", "any|感谢您的耐心等待。"],
    },
    "order_assistant": {
        "en": ["any|Thanks for your patience.", "any|Thanks for waiting."],
        "zh": ["any|感谢您的耐心等待。"],
    },
}
FINAL_CLOSERS = {
    "travel_agent": {
        "en": [
            "Let me know if you'd like me to book any of these.",
            "Anything else I can help with for this trip?",
            "Happy to adjust the search if you have other preferences.",
        ],
        "zh": ["还有其他需要帮忙的吗？", "如有其他需要，随时告诉我。"],
    },
    "order_assistant": {
        "en": [
            "Let me know if there's anything else I can do for this order.",
            "Is there anything else I can help you with?",
        ],
        "zh": ["还有其他需要帮忙的吗？", "如有其他需要，随时告诉我。"],
    },
}

MINI_REFUSAL = {"en": "I'm sorry, but I can't help with that.", "zh": "抱歉，我无法协助处理这个请求。"}
HAIKU_REFUSALS = {
    "umbrella-refill-review#0": "I'm sorry, but I can't help with questions about medication supply or prescriptions. "
    "Please contact your pharmacist or prescribing doctor directly so they can make sure you "
    "don't run out.",
    "stark-mixed-nfc-card#0": (
        "抱歉，我无法提供复制或模拟门禁卡的操作指导，这可能涉及绕过门禁安全措施。建议您联系小区物业，了解是否支持手机 "
        "NFC 门禁的官方开通方式。"
    ),
}

CITY_COUNTRY = {
    "Paris": "Paris, France",
    "Rome": "Rome, Italy",
    "Tokyo": "Tokyo, Japan",
    "Osaka": "Osaka, Japan",
    "Sapporo": "Sapporo, Japan",
    "Berlin": "Berlin, Germany",
    "Munich": "Munich, Germany",
    "Hamburg": "Hamburg, Germany",
    "Lisbon": "Lisbon, Portugal",
    "Reykjavik": "Reykjavik, Iceland",
    "Seattle": "Seattle, WA",
    "Denver": "Denver, CO",
    "Austin": "Austin, TX",
    "London": "London, UK",
    "Singapore": "Singapore, Singapore",
    "Hong Kong": "Hong Kong, China",
    "Chengdu": "Chengdu, China",
    "Shanghai": "Shanghai, China",
    "Beijing": "Beijing, China",
    "Barcelona": "Barcelona, Spain",
    "Madrid": "Madrid, Spain",
    "Vancouver": "Vancouver, Canada",
    "Nashville": "Nashville, TN",
    "Toronto": "Toronto, Canada",
}

MINI_RENAMES = {
    SF: [
        ("destination", "dest"),
        ("passengers", "num_passengers"),
        ("cabin", "cabin_class"),
        ("date", "departure_date"),
    ],
    GW: [("city", "location"), ("unit", "units")],
    BH: [("check_in", "checkin_date"), ("max_price_usd", "max_price"), ("guests", "num_guests")],
    CC: [("from", "from_currency"), ("to", "to_currency")],
}
MINI_REASON_ENUM = {
    "damaged": "item_damaged",
    "wrong_item": "incorrect_item",
    "late_delivery": "late",
    "changed_mind": "customer_request",
    "other": "shipping_fee",
    "not_received": "lost_package",
}
HAIKU_CABIN = {"economy": "Economy", "business": "Business", "first": "First", "premium_economy": "premium economy"}
COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "CN": "China"}


def cut_to_tokens(text: str, max_tok: int) -> str:
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if est_tokens(text[:mid]) <= max_tok:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def reorder_keys(d: dict, rng) -> dict:
    keys = list(d.keys())
    if len(keys) < 2:
        return dict(d)
    for _ in range(10):
        perm = keys[:]
        rng.shuffle(perm)
        if perm != keys:
            break
    return {k: d[k] for k in perm}


def tool_preamble(calls, lang, rng) -> str:
    names = [c["name"] for c in calls]
    n = len(names)
    if lang != "en":
        table = {
            SF: "好的，我来帮您查询航班。",
            GW: "我来为您查询天气预报。",
            BH: "好的，我来为您预订酒店。",
            CC: "我来帮您换算一下。",
            LO: "我来帮您查询。",
            RF: "我来为您办理退款。",
            UA: "我来为您修改地址。",
        }
        return "好的，我同时帮您处理这几项。" if len(set(names)) > 1 else table[names[0]]
    if len(set(names)) > 1:
        return rng.choice(["I'll take care of these at the same time.", "Let me look all of that up for you at once."])
    name = names[0]
    if name == SF:
        return (
            "I'll search both routes for you."
            if n > 1
            else rng.choice(["Let me search for available flights.", "I'll look up flights for you."])
        )
    if name == GW:
        return {1: "I'll check the forecast for you.", 2: "Let me check the forecast for both cities."}.get(
            n, "Let me check the forecast for all three cities."
        )
    if name == BH:
        return "I'll book a hotel that matches your criteria."
    if name == CC:
        return (
            "Let me run both conversions."
            if n > 1
            else rng.choice(["Let me convert that for you.", "I'll run the conversion."])
        )
    if name == LO:
        return (
            "I'll look up both orders."
            if n > 1
            else rng.choice(["I'll look that up for you.", "Let me check that order."])
        )
    if name == RF:
        return rng.choice(["I'll process that refund for you.", "I'll issue the refund now."])
    return "I'll update the shipping address." if n == 1 else "I'll update the address on both orders."


def ok_answer(text, tool_calls, finish, in_tok, out_tok, latency) -> dict:
    return {
        "kind": "ok",
        "text": text,
        "tool_calls": tool_calls,
        "finish_reason": finish,
        "usage": {"input_tokens": int(in_tok), "output_tokens": int(out_tok)},
        "latency_ms": int(latency),
    }


def fault_answer(fault, rng) -> dict:
    latency = {
        "timeout": 30000,
        "rate_limit": rng.randint(35, 180),
        "server_error": rng.randint(300, 1500),
        "invalid_body": rng.randint(250, 2200),
        "bad_request": rng.randint(40, 200),
    }[fault]
    return {"kind": "fault", "fault": fault, "latency_ms": latency}


def calls_of(out) -> list[dict]:
    return [{"name": tc["name"], "arguments": copy.deepcopy(tc["arguments"])} for tc in out["tool_calls"]]


def cand_latency(model, out_tok, rng, prod_latency_ms=None) -> int:
    if model == MINI:
        ms = (180 + out_tok * 6 + rng.uniform(0, 250)) * rng.uniform(0.9, 1.15)
        return int(clamp(ms, 200, 2500))
    if model == HAIKU:
        ms = (300 + out_tok * 7.5 + rng.uniform(0, 300)) * rng.uniform(0.9, 1.15)
        return int(clamp(ms, 300, 2950))
    ms = prod_latency_ms * rng.uniform(0.8, 1.2)
    if ms > 2950:
        ms = 2950 - rng.uniform(0, 250)
    return int(clamp(ms, 250, 2950))


def cand_input_tokens(model, case) -> int:
    base = case["prod_in"]
    has_tools = "tools" in case["request"]
    if model in (PROD_OPENAI, PROD_ANTHROPIC):
        return base
    if model == MINI:
        if case["api"] == API_ANTHROPIC:
            return round((base - (346 if has_tools else 0)) * 0.93)
        return base
    # HAIKU
    if case["api"] == API_OPENAI:
        return round(base * 1.1) + (346 if has_tools else 0)
    return base


def invoice_text_variant(expected: dict, label: str, rng, case) -> tuple[str, str]:
    """Returns (text, finish_reason) for invoice answers with injected differences."""
    obj = copy.deepcopy(expected)
    if label == "trailing_comma":
        s = compact(obj)
        return (s[:-3] + "},]}" if s.endswith("}]}") else s[:-1] + ",}"), "stop"
    if label == "truncated_length":
        head = compact({k: v for k, v in obj.items() if k != "line_items"})[:-1] + ',"line_items":['
        items = [compact(it) for it in obj["line_items"]]
        s = head + ",".join(items)
        while est_tokens(s) < 800:
            s += "," + items[-1]
        return cut_to_tokens(s, 800), "length"
    if label == "fence_prose_mini":
        return (
            "Sure! Here is the extracted invoice data:\n\n```json\n" + jdump(obj, indent=2) + "\n```\n\n"
            "Let me know if you need anything else."
        ), "stop"
    if label == "total_string":
        t = obj["total"]
        obj["total"] = f"{t:,.2f}" if case["meta"]["expected"]["currency"] != "JPY" else f"{t:,}"
        return compact(obj), "stop"
    if label == "missing_key":
        obj.pop(rng.choice(["invoice_number", "issue_date"]))
        return compact(obj), "stop"
    if label == "vendor_variant":
        v = obj["vendor"]
        for suffix in [
            ", Inc.",
            " Inc.",
            " Ltd.",
            " Ltd",
            " GmbH",
            " B.V.",
            " LLP",
            " LLC",
            " Pty Ltd",
            " Pte. Ltd.",
            " K.K.",
            " Co.",
            "有限公司",
        ]:
            if v.endswith(suffix):
                obj["vendor"] = v[: -len(suffix)]
                break
        return compact(obj), "stop"
    if label == "total_excl_tax":
        st = case["meta"]["subtotal"]
        obj["total"] = num(st)
        return compact(obj), "stop"
    if label == "fence_prose_haiku":
        if case["lang"] == "en":
            pre = rng.choice(["Here's the extracted data from the invoice:", "I've extracted the invoice details:"])
            post = rng.choice(["", "\n\nNote: the total includes tax as shown on the document."])
        else:
            pre = rng.choice(["以下是从发票中提取的结构化数据：", "已提取发票信息如下："])
            post = rng.choice(["", "\n\n注：total 为价税合计金额。"])
        return pre + "\n\n```json\n" + jdump(obj, indent=2) + "\n```" + post, "stop"
    if label == "desc_prefix":
        cat = next(v["cat"] for v in ZH_VENDORS if v["key"] == case["meta"]["vendor"])
        for it in obj["line_items"]:
            it["description"] = f"*{cat}*{it['description']}"
        return jdump(obj, indent=2), "stop"
    raise ValueError(label)


class Planner:
    """Chooses which events get which injected difference, per model."""

    def __init__(self, cases, rng):
        self.cases = cases
        self.rng = rng
        self.plan = {MINI: {}, HAIKU: {}, PROD_OPENAI: {}, PROD_ANTHROPIC: {}}

    def take(self, model, label, pool, n):
        pool = [c for c in pool if c["idx"] not in self.plan[model]]
        chosen = self.rng.sample(pool, n)
        for c in chosen:
            self.plan[model][c["idx"]] = label
        return chosen

    def by_ref(self, model, label, ref):
        c = next(c for c in self.cases if c["meta"]["ref"] == ref)
        self.plan[model][c["idx"]] = label


def make_plan(cases, rng) -> Planner:
    P = Planner(cases, rng)
    wf = lambda name: [c for c in cases if c["workflow"] == name]  # noqa: E731
    invoices = wf("invoice_extraction")
    tool_travel = [c for c in wf("travel_agent") if c["meta"]["kind"] == "tools"]
    refunds = [c for c in wf("order_assistant") if any(tc["name"] == RF for tc in c["out"]["tool_calls"])]
    big_total = [c for c in invoices if c["meta"]["expected"]["total"] >= 1000]
    taxed = [c for c in invoices if c["meta"]["tax_rate"] > 0 and c["meta"]["layout"] != "receipt"]
    suffixed = [
        c
        for c in invoices
        if c["lang"] == "en"
        and re.search(r"(Inc\.|Ltd\.?|GmbH|B\.V\.|LLP|LLC|K\.K\.|Co\.)$", c["meta"]["expected"]["vendor"])
    ]

    # ---------------- gpt-4.1-mini
    P.by_ref(MINI, "refusal", "hooli-lost-2sv-phone#0")
    P.by_ref(MINI, "refusal", "stark-close-account#0")
    P.take(MINI, "trailing_comma", invoices, 2)
    P.take(MINI, "truncated_length", invoices, 1)
    P.take(MINI, "fence_prose_mini", invoices, 1)
    P.take(MINI, "total_string", big_total, 2)
    P.take(MINI, "missing_key", invoices, 1)
    P.take(MINI, "vendor_variant", suffixed, 1)
    P.take(MINI, "total_excl_tax", taxed, 1)
    P.take(MINI, "drop_parallel", [c for c in tool_travel if c["meta"]["parallel"]], 3)
    P.take(MINI, "rename_arg", tool_travel, 6)
    P.take(MINI, "retype_arg", tool_travel, 4)
    P.take(MINI, "invalid_args_json", tool_travel, 1)
    P.take(MINI, "reason_enum", refunds, 2)
    P.take(MINI, "amount_string", refunds, 1)
    P.take(MINI, "lookup_first", refunds, 1)
    P.take(MINI, "no_citations", wf("kb_answer"), 3)
    everything = list(cases)
    for fault, n in (("timeout", 3), ("rate_limit", 4), ("server_error", 1), ("invalid_body", 1)):
        P.take(MINI, fault, everything, n)

    # ---------------- claude-haiku-4-5
    for ref in HAIKU_REFUSALS:
        P.by_ref(HAIKU, "refusal", ref)
    for conv_id, turn in SUPPORT_HAIKU_LONG:
        P.by_ref(HAIKU, "length", f"{conv_id}#{turn}")
    zh_prefixed = [c for c in invoices if c["meta"]["layout"] in ("zh_special", "zh_normal")]
    P.take(HAIKU, "desc_prefix", zh_prefixed, 2)
    P.take(HAIKU, "fence_prose_haiku", [c for c in invoices if c["lang"] == "zh"], 2)
    P.take(HAIKU, "fence_prose_haiku", [c for c in invoices if c["lang"] == "en"], 3)
    weather = [c for c in tool_travel if any(tc["name"] == GW for tc in c["out"]["tool_calls"])]
    flights = [c for c in tool_travel if any(tc["name"] == SF for tc in c["out"]["tool_calls"])]
    P.take(HAIKU, "unit_abbrev", weather, 3)
    P.take(HAIKU, "cabin_caps", flights, 3)
    P.take(
        HAIKU,
        "passengers_omitted",
        [c for c in flights if any(tc["arguments"].get("passengers") == 1 for tc in c["out"]["tool_calls"])],
        2,
    )
    P.take(
        HAIKU,
        "city_country",
        [c for c in tool_travel if any(tc["arguments"].get("city") in CITY_COUNTRY for tc in c["out"]["tool_calls"])],
        2,
    )
    P.take(HAIKU, "lookup_first", refunds, 2)
    P.take(
        HAIKU,
        "country_name",
        [c for c in wf("order_assistant") if any(tc["name"] == UA for tc in c["out"]["tool_calls"])],
        1,
    )
    for fault, n in (("timeout", 2), ("rate_limit", 2)):
        P.take(HAIKU, fault, everything, n)

    # ---------------- control lanes: ~20% tiny paraphrases, 1 timeout on the OpenAI lane
    openai_cases = [c for c in cases if c["api"] == API_OPENAI]
    anth_cases = [c for c in cases if c["api"] == API_ANTHROPIC]
    P.take(PROD_OPENAI, "timeout", openai_cases, 1)
    P.take(PROD_OPENAI, "paraphrase", openai_cases, round(len(openai_cases) * 0.2))
    P.take(PROD_ANTHROPIC, "paraphrase", anth_cases, round(len(anth_cases) * 0.2))
    return P


FAULTS = ("timeout", "rate_limit", "server_error", "invalid_body", "bad_request")


def mini_answer(case, label, rng) -> dict:
    wf, out, lang, kind = case["workflow"], case["out"], case["lang"], case["meta"]["kind"]
    if label in FAULTS:
        return fault_answer(label, rng)
    in_tok = cand_input_tokens(MINI, case)
    text, calls, finish = out["text"], calls_of(out), out["finish_reason"]
    if label == "refusal":
        text, calls, finish = MINI_REFUSAL["en" if lang == "en" else "zh"], [], "stop"
    elif kind == "json":
        text, finish = (
            invoice_text_variant(case["meta"]["expected"], label, rng, case) if label else (out["text"], "stop")
        )
    elif kind == "text":
        if wf == "support_chat":
            text = shorten(text, lang, rng)
        elif wf == "kb_answer":
            text = paraphrase(text, lang, rng, n_subs=rng.randint(2, 3))
            parts = split_sentences(text, text_lang(lang))
            if len(parts) >= 3 and rng.random() < 0.4:
                text = join_sentences(parts[:-1], text_lang(lang))
            if label == "no_citations":
                text = re.sub(r"\s?\[[a-z]+-[a-z0-9]+-\d\d\]", "", text)
        else:
            text = shorten(text, lang, rng) if rng.random() < 0.5 else paraphrase(text, lang, rng, 2)
    else:  # tool calls: usually no content; keeps a short preface sometimes when production had one
        text = paraphrase(text, lang, rng, 1) if text and rng.random() < 0.7 else None
        if label == "drop_parallel":
            calls = calls[:-1]
        elif label == "rename_arg":
            name = calls[0]["name"]
            old, new = rng.choice([(o, n) for o, n in MINI_RENAMES[name] if o in calls[0]["arguments"]])
            for c in calls:
                if c["name"] == name and old in c["arguments"]:
                    c["arguments"] = {(new if k == old else k): v for k, v in c["arguments"].items()}
        elif label == "retype_arg":
            a = calls[0]["arguments"]
            options = [k for k in ("passengers", "guests", "max_price_usd", "amount", "date", "check_in") if k in a]
            key = rng.choice(options)
            if key in ("date", "check_in"):
                d = dt.date.fromisoformat(a[key])
                a[key] = rng.choice([f"{d.month:02d}/{d.day:02d}/{d.year}", f"{d:%B} {d.day}, {d.year}"])
            else:
                a[key] = str(a[key])
        elif label == "invalid_args_json":
            raw = compact(calls[-1]["arguments"])
            calls[-1] = {"name": calls[-1]["name"], "arguments_raw": raw[: max(8, len(raw) * 2 // 3)]}
        elif label == "reason_enum":
            for c in calls:
                if c["name"] == RF:
                    c["arguments"]["reason"] = MINI_REASON_ENUM[c["arguments"]["reason"]]
        elif label == "amount_string":
            for c in calls:
                if c["name"] == RF:
                    amt = c["arguments"]["amount"]
                    c["arguments"]["amount"] = f"{amt:.2f}"
        elif label == "lookup_first":
            text = None
            calls = [
                {"name": LO, "arguments": {"order_id": c["arguments"]["order_id"]}} if c["name"] == RF else c
                for c in calls
            ]
            seen, dedup = set(), []
            for c in calls:
                key = (c["name"], compact(c.get("arguments")))
                if key not in seen:
                    seen.add(key)
                    dedup.append(c)
            calls = dedup
    out_tok = output_tokens(text, calls)
    return ok_answer(text, calls, finish, in_tok, out_tok, cand_latency(MINI, out_tok, rng))


def haiku_answer(case, label, rng) -> dict:
    wf, out, lang, kind = case["workflow"], case["out"], case["lang"], case["meta"]["kind"]
    tl = text_lang(lang)
    if label in FAULTS:
        return fault_answer(label, rng)
    in_tok = cand_input_tokens(HAIKU, case)
    text, calls, finish = out["text"], calls_of(out), out["finish_reason"]
    if label == "refusal":
        text, calls, finish = HAIKU_REFUSALS[case["meta"]["ref"]], [], "stop"
    elif label == "length":
        max_tok = case["request"]["max_tokens"]
        text = cut_to_tokens(SUPPORT_HAIKU_LONG[(case["meta"]["conv_id"], case["meta"]["turn"])], max_tok)
        out_tok = max_tok
        return ok_answer(text, [], "length", in_tok, out_tok, cand_latency(HAIKU, out_tok, rng))
    elif kind == "json":
        if label:
            text, finish = invoice_text_variant(case["meta"]["expected"], label, rng, case)
        else:
            text = jdump(case["meta"]["expected"], indent=2) if rng.random() < 0.5 else out["text"]
    elif kind == "text":
        if wf == "support_chat":
            text = lengthen(
                text,
                lang,
                rng,
                openers=SUPPORT_OPENERS[tl],
                closers=SUPPORT_CLOSERS[tl],
                extras=SUPPORT_EXTRAS[tl],
                user_text=user_texts(case["api"], case["request"])[-1],
                first_turn=case["meta"]["turn"] == 0,
            )
        elif wf == "kb_answer":
            text = lengthen(
                text,
                lang,
                rng,
                openers=KB_OPENERS[tl],
                closers=KB_CLOSERS[tl],
                extras=KB_EXTRAS[tl],
                user_text=user_texts(case["api"], case["request"])[-1],
            )
        else:
            text = lengthen(
                text,
                lang,
                rng,
                openers=FINAL_OPENERS[wf][tl],
                closers=FINAL_CLOSERS[wf][tl],
                extras=[],
                lo=1.1,
                hi=1.35,
                user_text=user_texts(case["api"], case["request"])[-1],
            )
    else:  # tool calls
        if label == "unit_abbrev":
            for c in calls:
                if c["name"] == GW and "unit" in c["arguments"]:
                    c["arguments"]["unit"] = {"celsius": "C", "fahrenheit": "F"}[c["arguments"]["unit"]]
        elif label == "cabin_caps":
            for c in calls:
                if c["name"] == SF and "cabin" in c["arguments"]:
                    c["arguments"]["cabin"] = HAIKU_CABIN[c["arguments"]["cabin"]]
        elif label == "passengers_omitted":
            for c in calls:
                if c["name"] == SF and c["arguments"].get("passengers") == 1:
                    del c["arguments"]["passengers"]
        elif label == "city_country":
            for c in calls:
                if c["arguments"].get("city") in CITY_COUNTRY:
                    c["arguments"]["city"] = CITY_COUNTRY[c["arguments"]["city"]]
        elif label == "lookup_first":
            calls = [
                {"name": LO, "arguments": {"order_id": c["arguments"]["order_id"]}} if c["name"] == RF else c
                for c in calls
            ]
            seen, dedup = set(), []
            for c in calls:
                key = (c["name"], compact(c["arguments"]))
                if key not in seen:
                    seen.add(key)
                    dedup.append(c)
            calls = dedup
            text = (
                "I'll pull up the order first to confirm the details before issuing a refund."
                if lang == "en"
                else "我先查询一下订单详情，确认后再为您办理退款。"
            )
        elif label == "country_name":
            for c in calls:
                if c["name"] == UA:
                    c["arguments"]["address"]["country"] = COUNTRY_NAMES[c["arguments"]["address"]["country"]]
        if label != "lookup_first":
            if wf == "order_assistant":
                if text and rng.random() < 0.7:
                    text = paraphrase(text, lang, rng, 2)
                elif rng.random() < 0.6:
                    text = tool_preamble(calls, lang, rng)
            elif rng.random() < 0.4:
                text = tool_preamble(calls, lang, rng)
    out_tok = output_tokens(text, calls)
    return ok_answer(text, calls, finish, in_tok, out_tok, cand_latency(HAIKU, out_tok, rng))


def control_answer(case, model, label, rng) -> dict:
    out, lang, kind = case["out"], case["lang"], case["meta"]["kind"]
    if label in FAULTS:
        return fault_answer(label, rng)
    text, calls = out["text"], calls_of(out)
    if label == "paraphrase":
        if kind == "json":
            obj = reorder_keys(case["meta"]["expected"], rng)
            if rng.random() < 0.5:
                obj["line_items"] = [reorder_keys(it, rng) for it in obj["line_items"]]
            text = compact(obj)
        elif kind == "text" or (text and rng.random() < 0.5):
            text = tiny_paraphrase(text, lang, rng)
        else:
            calls = [{"name": c["name"], "arguments": reorder_keys(c["arguments"], rng)} for c in calls]
            if all(len(c["arguments"]) < 2 for c in calls) and text:
                text = tiny_paraphrase(text, lang, rng)
    out_tok = output_tokens(text, calls) if label else case["prod_out"]
    latency = cand_latency(model, out_tok, rng, case["prod_latency"])
    return ok_answer(text, calls, out["finish_reason"], cand_input_tokens(model, case), out_tok, latency)


# ===========================================================================
# Generation
# ===========================================================================


def sub_rng(name: str) -> random.Random:
    """Independent deterministic stream per concern, all derived from the one seeded RNG."""
    return random.Random(f"{SEED}:{name}:{RNG.random()}")


def generate() -> tuple[list[dict], dict, dict]:
    convs = []
    convs += build_support_cases(sub_rng("support"))
    convs += build_invoice_cases(sub_rng("invoice"))
    convs += build_travel_cases(sub_rng("travel"))
    convs += build_kb_cases(sub_rng("kb"))
    convs += build_order_cases(sub_rng("order"))
    assign_times(convs, sub_rng("times"))
    cases = sorted((c for conv in convs for c in conv), key=lambda c: c["t"])
    for i, c in enumerate(cases):
        c["idx"] = i

    # A few production failures (response null, error set).
    err_rng = sub_rng("errors")
    per_subject = Counter(c["subject"] for c in cases)

    def single(wf: str) -> list[dict]:
        return [c for c in cases if c["workflow"] == wf and per_subject[c["subject"]] == 1]

    for wf in ("support_chat", "invoice_extraction", "travel_agent", "kb_answer"):
        c = err_rng.choice(single(wf))
        c["error"] = {"status": 500, "type": "server_error", "message": err_rng.choice(PROD_ERRORS[c["api"]])}

    # Keys must be unique: they identify the recorded answer.
    keys = {}
    for c in cases:
        c["key"] = recording_key(c["api"], c["request"])
        if c["key"] in keys:
            raise SystemExit(f"duplicate recording key for {c['meta']['ref']} and {keys[c['key']]}")
        keys[c["key"]] = c["meta"]["ref"]

    ev_rng = sub_rng("events")
    events = [render_event(c, ev_rng) for c in cases]

    planner = make_plan(cases, sub_rng("plan"))
    cand_rng = sub_rng("candidates")
    models = {MINI: {}, HAIKU: {}, PROD_OPENAI: {}, PROD_ANTHROPIC: {}}
    for c in cases:
        models[MINI][c["key"]] = mini_answer(c, planner.plan[MINI].get(c["idx"]), cand_rng)
        models[HAIKU][c["key"]] = haiku_answer(c, planner.plan[HAIKU].get(c["idx"]), cand_rng)
        control = PROD_OPENAI if c["api"] == API_OPENAI else PROD_ANTHROPIC
        models[control][c["key"]] = control_answer(c, control, planner.plan[control].get(c["idx"]), cand_rng)
    recordings = {"version": 1, "models": models}

    stats = {"cases": cases, "plan": planner.plan}
    return events, recordings, stats


def dump_recordings(recordings: dict) -> str:
    lines = ["{", f' "version": {recordings["version"]},', ' "models": {']
    model_names = list(recordings["models"])
    for mi, model in enumerate(model_names):
        answers = recordings["models"][model]
        lines.append(f"  {jdump(model)}: {{")
        keys = list(answers)
        for ki, key in enumerate(keys):
            comma = "," if ki < len(keys) - 1 else ""
            lines.append(f"   {jdump(key)}: {jdump(answers[key], separators=(', ', ': '))}{comma}")
        lines.append("  }" + ("," if mi < len(model_names) - 1 else ""))
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def summarize(events, recordings, stats) -> None:
    cases = stats["cases"]
    print(f"events: {len(events)} -> {EVENTS_PATH.relative_to(ROOT)} ({EVENTS_PATH.stat().st_size / 1e6:.2f} MB)")
    print(f"recordings -> {RECORDINGS_PATH.relative_to(ROOT)} ({RECORDINGS_PATH.stat().st_size / 1e6:.2f} MB)")
    per = Counter((c["workflow"], c["lang"]) for c in cases)
    for wf in EXPECTED_COUNTS:
        n = sum(v for (w, _), v in per.items() if w == wf)
        langs = ", ".join(f"{lang}={per[(wf, lang)]}" for lang in ("en", "zh", "mixed") if per[(wf, lang)])
        print(f"  {wf:<20} {n:>3}  ({langs})")
    print(f"  production errors: {sum(1 for e in events if e['error'])}")
    subjects = Counter(c["subject"] for c in cases)
    print(f"  subjects: {len(subjects)} ({sum(1 for v in subjects.values() if v > 1)} shared by several events)")
    for model, plan in stats["plan"].items():
        labels = Counter(plan.values())
        n = len(recordings["models"][model])
        print(f"  {model}: {n} answers; injected: " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())))


def main() -> None:
    events, recordings, stats = generate()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with EVENTS_PATH.open("w", encoding="utf-8", newline="\n") as fh:
        for event in events:
            fh.write(jdump(event, separators=(",", ":")) + "\n")
    RECORDINGS_PATH.write_text(dump_recordings(recordings), encoding="utf-8", newline="\n")
    summarize(events, recordings, stats)


# ===========================================================================
# Self-check (python scripts/make_demo_data.py --check)
# ===========================================================================


def _mini_validate(instance, schema, path="$") -> list[str]:
    """Small JSON-schema subset validator used when jsonschema is not installed."""
    errs = []
    t = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool}
    if t == "integer":
        if not (isinstance(instance, int) and not isinstance(instance, bool)):
            return [f"{path}: not an integer"]
    elif t == "number":
        if not (isinstance(instance, (int, float)) and not isinstance(instance, bool)):
            return [f"{path}: not a number"]
    elif t in types and not isinstance(instance, types[t]):
        return [f"{path}: not a {t}"]
    if "enum" in schema and instance not in schema["enum"]:
        errs.append(f"{path}: {instance!r} not in enum")
    if t == "object":
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in instance:
                errs.append(f"{path}: missing {key}")
        for key, value in instance.items():
            if key in props:
                errs += _mini_validate(value, props[key], f"{path}.{key}")
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
        size = path.stat().st_size
        need(size < 1_500_000, f"{path.name} is {size} bytes (limit 1.5 MB)")
    events = [json.loads(line) for line in EVENTS_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    recordings = json.loads(RECORDINGS_PATH.read_text(encoding="utf-8"))

    # ---------------------------------------------------------------- events
    fields = [
        "schema_version",
        "event_id",
        "occurred_at",
        "service",
        "environment",
        "workflow",
        "tenant",
        "subject",
        "api",
        "request",
        "response",
        "error",
        "latency_ms",
        "tags",
    ]
    counts = Counter(e.get("workflow") for e in events)
    need(len(events) >= 230, f"only {len(events)} events")
    for wf, n in EXPECTED_COUNTS.items():
        need(counts[wf] == n, f"{wf}: {counts[wf]} events, expected {n}")
    ids, keys = set(), {}
    ts_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    id_re = re.compile(r"^evt_[0-9A-HJKMNP-TV-Z]{26}$")
    prev_ts = ""
    for e in events:
        where = e.get("event_id")
        need(list(e) == fields, f"{where}: fields {list(e)}")
        need(e["schema_version"] == 1, f"{where}: schema_version")
        need(bool(id_re.match(e["event_id"])) and e["event_id"] not in ids, f"{where}: bad or duplicate event_id")
        ids.add(e["event_id"])
        need(bool(ts_re.match(e["occurred_at"])), f"{where}: occurred_at format")
        ts = dt.datetime.strptime(e["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        need(START <= ts < NOW, f"{where}: occurred_at outside the window")
        need(e["occurred_at"] >= prev_ts, f"{where}: events not sorted by time")
        prev_ts = e["occurred_at"]
        wf = e["workflow"]
        api, model = WORKFLOW_API.get(wf, (None, None))
        need(e["service"] == SERVICES.get(wf) and e["environment"] == "prod", f"{where}: service/environment")
        need(e["api"] == api and e["request"].get("model") == model, f"{where}: api/model for {wf}")
        need(isinstance(e["tenant"], str) and isinstance(e["subject"], str), f"{where}: tenant/subject")
        need(
            isinstance(e["tags"], dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in e["tags"].items()),
            f"{where}: tags must be str->str",
        )
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
        need(key not in keys, f"{where}: duplicate recording key {key} (also {keys.get(key)})")
        keys[key] = where
        (check_openai if api == API_OPENAI else check_anthropic)(e, need, validate)

    # ---------------------------------------------------------------- recordings
    need(recordings.get("version") == 1, "recordings.version")
    models = recordings.get("models", {})
    expected_keys = {
        MINI: set(keys),
        HAIKU: set(keys),
        PROD_OPENAI: {k for k, w in keys.items() if next(e for e in events if e["event_id"] == w)["api"] == API_OPENAI},
        PROD_ANTHROPIC: {
            k for k, w in keys.items() if next(e for e in events if e["event_id"] == w)["api"] == API_ANTHROPIC
        },
    }
    need(set(models) == set(expected_keys), f"recorded models {sorted(models)}")
    for model, exp in expected_keys.items():
        got = set(models.get(model, {}))
        need(got == exp, f"{model}: {len(exp - got)} keys missing, {len(got - exp)} unexpected")
    stats = defaultdict(Counter)
    by_key = {recording_key(e["api"], e["request"]): e for e in events}
    for model, answers in models.items():
        for key, ans in answers.items():
            e = by_key.get(key)
            if e is None:
                continue
            check_answer(model, e, ans, need, validate, stats[model])

    for wf in EXPECTED_COUNTS:
        wf_events = [e for e in events if e["workflow"] == wf]
        cjk = sum(1 for e in wf_events if has_cjk("\n".join(user_texts(e["api"], e["request"]))))
        print(
            f"  {wf:<20} {len(wf_events):>3} events, {cjk:>2} with Chinese user text, "
            f"{sum(1 for e in wf_events if e['error'])} production errors"
        )
    print(f"  {len(events)} events, {len(keys)} unique keys, {len({e['subject'] for e in events})} subjects")
    for model in models:
        s = stats[model]
        for wf in ("support_chat", "kb_answer"):
            n = s.pop(f"len_pct_n:{wf}", 0)
            total = s.pop(f"len_pct_sum:{wf}", 0)
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


def _tool_schemas(event) -> dict:
    req = event["request"]
    if event["api"] == API_OPENAI:
        return {t["function"]["name"]: t["function"]["parameters"] for t in req.get("tools", [])}
    return {t["name"]: t["input_schema"] for t in req.get("tools", [])}


def check_openai(e, need, validate) -> None:
    where, req = e["event_id"], e["request"]
    msgs = req.get("messages")
    need(isinstance(msgs, list) and msgs and msgs[0]["role"] == "system", f"{where}: messages/system")
    seen_calls: set[str] = set()
    for m in msgs:
        need(m.get("role") in ("system", "user", "assistant", "tool"), f"{where}: role {m.get('role')}")
        if m["role"] == "user":
            c = m.get("content")
            need(
                isinstance(c, str) or (isinstance(c, list) and all(p.get("type") == "text" for p in c)),
                f"{where}: user content",
            )
        if m["role"] == "assistant":
            for tc in m.get("tool_calls") or []:
                need(tc["type"] == "function" and tc["id"].startswith("call_"), f"{where}: history tool_call shape")
                need(isinstance(json.loads(tc["function"]["arguments"]), dict), f"{where}: history arguments")
                seen_calls.add(tc["id"])
            need(m.get("content") is not None or m.get("tool_calls"), f"{where}: empty assistant message")
        if m["role"] == "tool":
            need(m.get("tool_call_id") in seen_calls and isinstance(m.get("content"), str), f"{where}: tool message")
    need(msgs[-1]["role"] in ("user", "tool"), f"{where}: last message role")
    schemas = _tool_schemas(e)
    if "tools" in req:
        need(req.get("tool_choice") in ("auto", "required", "none"), f"{where}: tool_choice")
        for t in req["tools"]:
            need(t["type"] == "function" and t["function"]["parameters"]["type"] == "object", f"{where}: tool def")
    rf = req.get("response_format")
    if rf:
        js = rf["json_schema"]
        need(rf["type"] == "json_schema" and js.get("strict") is True and js.get("name"), f"{where}: response_format")

        def strict_ok(sch) -> bool:
            if sch.get("type") == "object":
                if sch.get("additionalProperties") is not False or set(sch.get("required", [])) != set(
                    sch["properties"]
                ):
                    return False
                return all(strict_ok(v) for v in sch["properties"].values())
            if sch.get("type") == "array":
                return strict_ok(sch["items"])
            return True

        need(strict_ok(js["schema"]), f"{where}: schema not valid for strict mode")
    r = e["response"]
    if r is None:
        return
    need(
        r["object"] == "chat.completion" and r["id"].startswith("chatcmpl-") and isinstance(r["created"], int),
        f"{where}: response envelope",
    )
    need(r["model"] == req["model"], f"{where}: response model")
    choice = r["choices"][0]
    msg = choice["message"]
    need(msg["role"] == "assistant" and "refusal" in msg, f"{where}: response message")
    u = r["usage"]
    need(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"], f"{where}: usage totals")
    if msg.get("tool_calls"):
        need(msg["content"] is None and choice["finish_reason"] == "tool_calls", f"{where}: tool_calls message")
        for tc in msg["tool_calls"]:
            need(tc["id"].startswith("call_") and tc["type"] == "function", f"{where}: tool_call shape")
            need(isinstance(tc["function"]["arguments"], str), f"{where}: arguments must be a JSON string")
            try:
                args = json.loads(tc["function"]["arguments"])
            except ValueError:
                need(False, f"{where}: arguments do not parse")
                continue
            need(isinstance(args, dict), f"{where}: arguments not an object")
            name = tc["function"]["name"]
            need(name in schemas, f"{where}: unknown tool {name}")
            if name in schemas:
                errs = validate(args, schemas[name])
                need(not errs, f"{where}: production arguments invalid: {errs}")
    else:
        need(isinstance(msg["content"], str) and choice["finish_reason"] == "stop", f"{where}: text message")
        if rf:
            try:
                obj = json.loads(msg["content"])
                errs = validate(obj, rf["json_schema"]["schema"])
                need(not errs, f"{where}: production JSON violates schema: {errs}")
            except ValueError:
                need(False, f"{where}: production JSON does not parse")


def check_anthropic(e, need, validate) -> None:
    where, req = e["event_id"], e["request"]
    need(isinstance(req.get("max_tokens"), int) and isinstance(req.get("system"), str), f"{where}: max_tokens/system")
    msgs = req["messages"]
    need(msgs and msgs[0]["role"] == "user" and msgs[-1]["role"] == "user", f"{where}: first/last role")
    prev_tool_ids: set[str] = set()
    for i, m in enumerate(msgs):
        need(m["role"] == ("user" if i % 2 == 0 else "assistant"), f"{where}: roles must alternate")
        c = m["content"]
        if isinstance(c, list):
            for b in c:
                need(b.get("type") in ("text", "tool_use", "tool_result"), f"{where}: block type {b.get('type')}")
                if b["type"] == "tool_use":
                    need(b["id"].startswith("toolu_") and isinstance(b["input"], dict), f"{where}: history tool_use")
                if b["type"] == "tool_result":
                    need(b["tool_use_id"] in prev_tool_ids, f"{where}: tool_result without tool_use")
            prev_tool_ids = {b["id"] for b in c if b["type"] == "tool_use"}
        else:
            need(isinstance(c, str), f"{where}: content type")
    for t in req.get("tools", []):
        need(t.get("name") and t.get("description") and t["input_schema"]["type"] == "object", f"{where}: tool def")
    r = e["response"]
    if r is None:
        return
    need(r["type"] == "message" and r["role"] == "assistant" and r["id"].startswith("msg_"), f"{where}: envelope")
    need(r["model"] == req["model"] and r["stop_sequence"] is None, f"{where}: model/stop_sequence")
    need(
        isinstance(r["usage"]["input_tokens"], int) and isinstance(r["usage"]["output_tokens"], int), f"{where}: usage"
    )
    blocks = r["content"]
    uses = [b for b in blocks if b["type"] == "tool_use"]
    need(all(b["type"] in ("text", "tool_use") for b in blocks) and blocks, f"{where}: content blocks")
    need(r["stop_reason"] == ("tool_use" if uses else "end_turn"), f"{where}: stop_reason")
    schemas = _tool_schemas(e)
    for b in uses:
        need(b["id"].startswith("toolu_") and isinstance(b["input"], dict), f"{where}: tool_use block")
        need(b["name"] in schemas and not validate(b["input"], schemas[b["name"]]), f"{where}: tool_use input invalid")


KNOWN_REFUSALS = (MINI_REFUSAL["en"], MINI_REFUSAL["zh"], *HAIKU_REFUSALS.values())


def check_answer(model, e, ans, need, validate, st) -> None:
    where = f"{model}/{e['event_id']}"
    if ans.get("kind") == "fault":
        need(ans.get("fault") in FAULTS and isinstance(ans.get("latency_ms"), int), f"{where}: fault shape")
        st["fault:" + ans["fault"]] += 1
        return
    need(ans.get("kind") == "ok", f"{where}: kind")
    need(set(ans) == {"kind", "text", "tool_calls", "finish_reason", "usage", "latency_ms"}, f"{where}: answer keys")
    text, calls = ans["text"], ans["tool_calls"]
    need(text is None or isinstance(text, str), f"{where}: text")
    need(ans["finish_reason"] in ("stop", "length", "tool_calls"), f"{where}: finish_reason")
    need((ans["finish_reason"] == "tool_calls") == bool(calls), f"{where}: finish_reason vs tool_calls")
    need(isinstance(ans["latency_ms"], int) and 0 < ans["latency_ms"] < 3000, f"{where}: latency {ans['latency_ms']}")
    u = ans["usage"]
    need(
        set(u) == {"input_tokens", "output_tokens"} and all(isinstance(v, int) and v >= 0 for v in u.values()),
        f"{where}: usage",
    )
    need(text is not None or calls, f"{where}: empty answer")
    schemas = _tool_schemas(e)
    invalid_args = False
    for c in calls:
        need(isinstance(c.get("name"), str), f"{where}: tool name")
        if "arguments_raw" in c:
            need(set(c) == {"name", "arguments_raw"} and isinstance(c["arguments_raw"], str), f"{where}: arguments_raw")
            st["tool_args_not_json"] += 1
        else:
            need(set(c) == {"name", "arguments"} and isinstance(c["arguments"], dict), f"{where}: arguments")
            if c["name"] not in schemas or validate(c["arguments"], schemas[c["name"]]):
                invalid_args = True
    if invalid_args:
        st["answers_with_schema_invalid_tool_args"] += 1
    if ans["finish_reason"] == "length":
        st["finish_length"] += 1
    if text in KNOWN_REFUSALS:
        st["refusal"] += 1
        return
    prod_text = None
    if e["response"] is not None:
        if e["api"] == API_OPENAI:
            prod_text = e["response"]["choices"][0]["message"]["content"]
        else:
            prod_text = "".join(b["text"] for b in e["response"]["content"] if b["type"] == "text") or None
    if e["workflow"] == "invoice_extraction":
        try:
            obj = json.loads(text)
            if validate(obj, e["request"]["response_format"]["json_schema"]["schema"]):
                st["json_schema_invalid"] += 1
        except (TypeError, ValueError):
            st["json_invalid"] += 1
        return
    wants_cjk = (
        has_cjk("\n".join(user_texts(e["api"], e["request"])[-1:])) and e["workflow"] != "travel_agent"
    ) or has_cjk(prod_text)
    if text and wants_cjk and not calls:
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
