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
import re
import random
import sys
from pathlib import Path

SEED = 20261123
ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "shadow" / "demo" / "data"
EVENTS_PATH = DATA_DIR / "events.ndjson"
RECORDINGS_PATH = DATA_DIR / "recordings.json"

NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.timezone.utc)
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
DEPLOY_AT = dt.datetime(2026, 11, 23, 8, 40, 0, tzinfo=dt.timezone.utc)

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
    return ts.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


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
    (r"\bdirectly\b", "straight"),
    (r"\bbefore\b", "prior to"),
    (r"\bas soon as\b", "once"),
    (r"\bstill\b", "even now"),
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
    ("可以", "能"),
    ("需要", "需"),
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
    ("另外", "此外"),
    ("确认", "核实"),
    ("但是", "不过"),
    ("所以", "因此"),
    ("马上", "立即"),
    ("进入", "打开"),
    ("收到", "接到"),
    ("无法", "不能"),
    ("给您带来不便", "给您造成不便"),
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


def tiny_paraphrase(text: str, lang: str, rng: random.Random) -> str:
    """One word changed or two adjacent sentences swapped (control lane)."""
    tl = text_lang(lang)
    if "\n" not in text and rng.random() < 0.3:
        parts = split_sentences(text, tl)
        if len(parts) >= 3:
            i = rng.randrange(1, len(parts) - 1)
            parts[i], parts[i + 1] = parts[i + 1], parts[i]
            swapped = join_sentences(parts, tl)
            if swapped != text:
                return swapped
    for n in (1, 2):
        new = apply_subs(text, tl, n, rng)
        if new != text:
            return new
    # last resort: drop a polite trailing phrase or tweak punctuation
    if tl == "en":
        if "!" in text:
            return text.replace("!", ".", 1)
        return text[:-1] + "!" if text.endswith(".") else text + "."
    return text[:-1] + "！" if text.endswith("。") else text + "。"


def paraphrase(text: str, lang: str, rng: random.Random, n_subs: int = 3) -> str:
    tl = text_lang(lang)
    new = apply_subs(text, tl, n_subs, rng)
    if new == text:
        new = tiny_paraphrase(text, lang, rng)
    return new


def shorten(text: str, lang: str, rng: random.Random) -> str:
    """A somewhat shorter answer: drop a trailing sentence and reword a little."""
    tl = text_lang(lang)
    parts = split_sentences(text, tl)
    if len(parts) >= 5:
        drop = rng.choice([len(parts) - 1, len(parts) - 2])
        parts = parts[:drop] + parts[drop + 1:]
        if rng.random() < 0.4:
            parts = parts[:-1]
    elif len(parts) >= 3:
        parts = parts[:-1]
    elif len(parts) == 2 and rng.random() < 0.35:
        parts = parts[:1]
    return paraphrase(join_sentences(parts, tl), lang, rng, n_subs=rng.randint(1, 3))


def lengthen(text: str, lang: str, rng: random.Random, openers: list[str], closers: list[str],
             extras: list[str], lo: float = 1.3, hi: float = 1.6) -> str:
    """Add an opener / closer / extra sentence until the text is ~30-60% longer."""
    tl = text_lang(lang)
    base = paraphrase(text, lang, rng, n_subs=rng.randint(1, 2))
    if tl == "zh" and base.startswith("您好，"):
        base_wo = base[len("您好，"):]
    else:
        base_wo = base
    target = len(text) * rng.uniform(lo, hi)
    best, best_err = None, None
    for _ in range(40):
        op = rng.choice(openers) if rng.random() < 0.75 else None
        cl = rng.choice(closers) if rng.random() < 0.8 else None
        ex = rng.choice(extras) if rng.random() < 0.5 else None
        body = base_wo if op else base
        pieces = ([op] if op else []) + [body] + ([ex] if ex else []) + ([cl] if cl else [])
        if tl == "en":
            cand = " ".join(pieces)
        else:
            cand = "".join(pieces)
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
        "support-v14", 300,
    ),
    "globex": (
        "You are the customer care assistant for Globex Shop, an online store for home and kitchen products.\n"
        "Policies: free returns and exchanges within 30 days of delivery; damaged items are replaced or refunded "
        "without needing a return; standard shipping takes 3-5 business days, express 1-2. Order numbers look like "
        "GX-12345678. Be warm and brief, and reply in the language the customer uses.",
        "care-v9", 400,
    ),
    "initech": (
        "You are the help assistant for Initech Payroll, a payroll and HR platform for small businesses. "
        "Both employees and admins contact you. You can explain product features and policies but you cannot change "
        "payroll data yourself; point admins to the right settings page. Annual plans can be refunded in full within "
        "14 days of purchase. Keep answers short and professional.",
        "help-v6", 400,
    ),
    "umbrella": (
        "You are Umbrella Health's pharmacy support assistant. Help members with prescription orders, refills, "
        "delivery and insurance details. Do not give medical advice or dosing recommendations; for clinical questions, "
        "tell the member to speak with their pharmacist or doctor. Be empathetic and clear.",
        "rx-support-v3", 400,
    ),
    "hooli": (
        "You are Hooli Account Help. You assist users of Hooli Mail, Hooli Drive and Hooli accounts with sign-in, "
        "security, storage and privacy questions. Never ask for passwords or full verification codes. Respond in the "
        "user's language, in at most 6 sentences.",
        "account-help-v21", 350,
    ),
    "stark-cn": (
        "你是斯塔克智能（Stark）官方商城的在线客服助手，负责解答订单、物流、退换货、发票、保修和会员相关问题。\n"
        "要求：\n"
        "1. 使用简体中文回复，语气礼貌、简洁，每次回复不超过6句话；用户使用英文术语时可以保留英文。\n"
        "2. 退款原路返回，一般1-7个工作日到账；7天无理由退货，15天内质量问题可换货，整机保修1年。\n"
        "3. 不要编造订单信息；需要人工处理时，告知用户将转接人工客服。",
        "cs-zh-v8", 256,
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
    {"id": "acme-double-charge", "tenant": "acme", "lang": "en", "turns": [
        ("Hi, I just noticed two charges of $199.00 from Acme Cloud on my card, both dated Nov 21. We're on the Team "
         "plan, workspace is brightpath-analytics. Can you sort this out?",
         "Sorry about that, I can see why that's alarming. The second $199.00 charge on Nov 21 came from a payment retry "
         "that should have been voided after the first payment succeeded. I've issued a refund for the duplicate charge, "
         "and it usually shows up on your statement within 5-10 business days. You'll also get a confirmation email with "
         "the refund receipt."),
        ("ok thanks. does this change anything about our next invoice?",
         "No, your next invoice on Dec 21 will be the normal Team plan amount. The refund goes back to your card rather "
         "than becoming account credit, so your billing cycle isn't affected."),
    ]},
    {"id": "hooli-reset-email", "tenant": "hooli", "lang": "en", "turns": [
        ("I've requested a password reset 3 times for mara.lindqvist@hoolimail.com and nothing arrives",
         "Sorry for the trouble. Reset emails can land in Spam or Promotions, so please check those folders for a message "
         "from no-reply@accounts.hooli.com. Resets are only sent to the recovery address on file, so if "
         "mara.lindqvist@hoolimail.com is the account itself, the email goes to your recovery address instead. Each "
         "link expires after 30 minutes."),
        ("found it in my recovery inbox but the link says it's expired",
         "That usually happens when an older link is opened after a newer one was requested, because each new request "
         "cancels the previous link. Please request one more reset and open that email right away. If it still shows as "
         "expired, try opening the link in a private browser window."),
        ("that worked, I'm in. thanks!",
         "Great, glad you're back in! Since you just recovered the account, I'd recommend turning on 2-Step Verification "
         "under Security > Sign-in so it's easier to get back in next time."),
    ]},
    {"id": "globex-stuck-tracking", "tenant": "globex", "lang": "en", "turns": [
        ("My order GX-40718823 was supposed to arrive Nov 19 and tracking hasn't moved since Nov 17 (still says "
         "'In transit - Memphis hub'). What's going on?",
         "I'm sorry your order is running late. Packages sometimes sit at a hub without a new scan when the carrier is "
         "backed up, and the Memphis hub has had delays this week. If there's no new scan by tomorrow, we'll treat the "
         "parcel as lost and send a free replacement with express shipping. Would you prefer a replacement or a refund "
         "if it comes to that?"),
        ("Replacement please, it's a birthday gift for Saturday.",
         "Got it. I've noted that you prefer a replacement, and if tracking hasn't updated by tomorrow at noon, we'll "
         "ship it by express so it arrives before Saturday. You'll get an email with the new tracking number as soon "
         "as it ships."),
    ]},
    {"id": "hooli-delete-account", "tenant": "hooli", "lang": "en", "turns": [
        ("How do I permanently delete my Hooli account and all the data attached to it? I don't want anything kept.",
         "You can delete your account at myaccount.hooli.com under Data & privacy > Delete your Hooli account. Before you "
         "do, download anything you want to keep with Hooli Takeout, because deletion removes your Mail, Drive files and "
         "contacts. There's a 20-day grace period during which you can still restore the account. After that the data is "
         "permanently erased from our active systems, and backups are purged within 60 days."),
    ]},
    {"id": "acme-429-launch", "tenant": "acme", "lang": "en", "turns": [
        ("We're getting HTTP 429 Too Many Requests on POST /v2/events since about 7am UTC. We're on Pro. Nothing "
         "changed on our side.",
         "On the Pro plan, the ingestion API allows 300 requests per minute per workspace. A 429 means you're above that "
         "rate, which can happen if traffic grew or if retries pile up after a slowdown. Each 429 response includes a "
         "Retry-After header, so please back off for that long and retry with exponential backoff and jitter. Batching "
         "events (up to 500 per request) also cuts the request count a lot."),
        ("We do retry, but immediately. Could that be the issue?",
         "Yes, that's very likely the cause. Immediate retries multiply the request rate as soon as you hit the limit, "
         "so the client stays throttled. Wait for the Retry-After value before retrying, and add random jitter so your "
         "workers don't all retry at the same moment."),
        ("ok. we also have a launch on Dec 2, expecting maybe 5x traffic. Can the limit be raised?",
         "Yes. Team plan workspaces get 1,200 requests per minute, and we can also grant a temporary increase for a "
         "launch. I've filed a request for a temporary limit of 1,500 requests per minute on your workspace from Dec 1 "
         "to Dec 9. Someone from the platform team will confirm by email within one business day."),
        ("perfect, thank you",
         "You're welcome, and good luck with the launch! If you switch to batched ingestion before Dec 2, you'll have "
         "plenty of headroom even at 5x traffic."),
    ]},
    {"id": "initech-annual-refund", "tenant": "initech", "lang": "en", "turns": [
        ("I accidentally switched us from monthly to the annual plan yesterday ($1,188). Can I get that reversed?",
         "Yes. Annual plans can be refunded in full within 14 days of purchase, so you're well within the window. An "
         "account admin can request it under Settings > Billing > Plan history by selecting the annual charge and "
         "choosing 'Request refund'. Once it's processed, your company goes back to the monthly plan at the start of the "
         "next cycle."),
        ("Will my employees lose access to their pay stubs while this happens?",
         "No, employees keep full access to their pay stubs and tax documents the whole time. Switching plans only "
         "changes billing, not your data or anyone's access."),
    ]},
    {"id": "acme-vat-reissue", "tenant": "acme", "lang": "en", "turns": [
        ("Our finance team needs our EU VAT number (DE318274950) on all invoices since July. Is it possible to reissue "
         "them?",
         "Yes. First add the VAT number under Settings > Billing > Tax information so it appears on all future invoices. "
         "For the invoices from July through November, I've asked our billing team to reissue them with DE318274950 "
         "included. Reissued invoices usually arrive by email within 3 business days, and they'll also be available in "
         "your billing history."),
    ]},
    {"id": "acme-okta-sso", "tenant": "acme", "lang": "en", "turns": [
        ("How do I set up SAML SSO with Okta for our workspace?",
         "SAML SSO is available on the Team and Enterprise plans. In Acme, go to Settings > Security > Single sign-on and "
         "copy the ACS URL and Entity ID. In Okta, create a new SAML 2.0 app, paste those values, and set the Name ID "
         "format to EmailAddress. Then download the Okta metadata XML and upload it on the Acme SSO page. Test with one "
         "user before you enforce SSO for everyone."),
        ("Do users need to be provisioned manually or does Acme support SCIM?",
         "Acme supports SCIM 2.0 on the Enterprise plan, so users and groups can be provisioned and deprovisioned "
         "automatically from Okta. On the Team plan, users are created just-in-time the first time they sign in through "
         "SSO, but removing them still has to be done in Acme."),
    ]},
    {"id": "globex-cracked-blender", "tenant": "globex", "lang": "en", "turns": [
        ("The blender from order GX-40992157 arrived with a cracked jar. Box looked fine from outside.",
         "I'm really sorry it arrived damaged. You don't need to send it back: we can ship a replacement jar or a whole "
         "new blender, or refund you in full. Could you reply with a photo of the crack so I can attach it to the "
         "claim?"),
        ("[photo attached] I'd rather have a full new blender",
         "Thanks for the photo. I've set up a free replacement blender, which ships today with standard delivery and "
         "should arrive in 3-5 business days. You can recycle or keep the damaged one, whatever is easier for you."),
    ]},
    {"id": "initech-w2-former", "tenant": "initech", "lang": "en", "turns": [
        ("Where can I download my W-2 for 2025? I left the company in March.",
         "Former employees keep access to their tax documents. Sign in at my.initechpayroll.com with your personal "
         "email, then go to Documents > Tax forms to download your 2025 W-2. If you can't sign in, ask your former "
         "employer's payroll admin to resend the access invitation to your personal address."),
    ]},
    {"id": "umbrella-refill-review", "tenant": "umbrella", "lang": "en", "turns": [
        ("My refill for order RX-7731094 has said 'pending pharmacist review' for two days. I only have 3 pills left.",
         "I'm sorry for the wait, especially with so few doses left. A refill usually sits in pharmacist review when the "
         "prescription needs a renewal or an insurance check. I've flagged your order as urgent so a pharmacist looks at "
         "it today. If you need your medication before it ships, we can transfer this refill to a local pharmacy for "
         "same-day pickup."),
        ("Yes please transfer it to the CityCare pharmacy on 5th Ave in Brooklyn.",
         "Done. I've requested a transfer to CityCare Pharmacy on 5th Ave in Brooklyn, and transferred prescriptions are "
         "usually ready there within 2-4 hours. They'll text you when it's ready, and your Umbrella order RX-7731094 "
         "will be cancelled so you aren't charged twice."),
    ]},
    {"id": "acme-webhook-rotation", "tenant": "acme", "lang": "en", "turns": [
        ("After rotating our webhook signing secret, every delivery fails with 'signature mismatch' on our side. We "
         "updated the env var.",
         "After a rotation, Acme signs new deliveries with the new secret immediately, but deliveries that were already "
         "queued or are being retried are still signed with the old one for up to 24 hours. During that window your "
         "endpoint should accept either secret. Also double-check that you compute the HMAC over the raw request body, "
         "not re-serialized JSON, and compare it with the v1= value in the Acme-Signature header."),
        ("We were parsing JSON before verifying. Switched to raw body and it works now.",
         "Great, that was the culprit. Re-serializing changes whitespace and key order, so the HMAC no longer matches. "
         "Failed deliveries from the last few hours can be replayed from Settings > Webhooks > Delivery log."),
    ]},
    {"id": "globex-promo-sale", "tenant": "globex", "lang": "en", "turns": [
        ("The code WINTER25 says 'not valid for items in your cart'. I have a dutch oven and two tea towels.",
         "WINTER25 only applies to full-price items, and the dutch oven in your cart is already on sale, so the code "
         "skips it. It should still work on the tea towels if they're at full price. If it still won't apply, let me "
         "know and I'll check the code on my side."),
    ]},
    {"id": "hooli-lost-2sv-phone", "tenant": "hooli", "lang": "en", "turns": [
        ("I lost my phone and it was my 2-step verification device. I can't get into my account.",
         "Sorry, that's stressful. If you saved backup codes when you set up 2-Step Verification, you can use one of them "
         "on the sign-in screen by choosing 'Try another way'. If you don't have backup codes, start account recovery at "
         "accounts.hooli.com/recovery from a device you've used before and answer as many questions as you can. Recovery "
         "usually takes 3-5 days while we verify it's really you."),
        ("I don't have backup codes. Is there any faster way?",
         "Unfortunately there isn't a faster path, because the waiting period protects your account from someone who "
         "might have your lost phone. Using a familiar device and Wi-Fi network for the recovery request makes it more "
         "likely to succeed on the first try. Once you're back in, remove the lost phone under Security > Your devices."),
    ]},
    {"id": "acme-remove-seats", "tenant": "acme", "lang": "en", "turns": [
        ("If I remove 3 users from our Team workspace mid-month, do we get credit for the unused seats?",
         "Yes, if those 3 users are beyond the 10 seats included in Team. Extra seats removed mid-cycle are credited pro "
         "rata for the days left in the billing period, at $15 per seat per month. The credit is applied to your next "
         "invoice automatically."),
    ]},
    {"id": "umbrella-new-insurance", "tenant": "umbrella", "lang": "en", "turns": [
        ("I changed jobs and have a new insurance card (BlueRiver PPO). How do I update it before my next refill?",
         "You can update it in the app under Profile > Insurance > Add new plan, then take photos of the front and back "
         "of your new card. Set BlueRiver PPO as your primary plan and remove the old one. We'll verify coverage within "
         "one business day, and your next refill will be billed to the new plan."),
    ]},
    {"id": "globex-duvet-exchange", "tenant": "globex", "lang": "en", "turns": [
        ("The duvet cover I ordered (GX-41002361) is king size but my bed is a queen. Can I exchange it?",
         "Of course! Exchanges are free within 30 days of delivery. I can email you a prepaid return label now and ship "
         "the queen size as soon as the carrier scans your return. Would you like me to do that?"),
        ("Yes. Same color (sage green) please.",
         "Done! I've emailed a prepaid return label for GX-41002361, and a queen duvet cover in sage green is reserved "
         "for you. It will ship as soon as your return gets its first carrier scan."),
    ]},
    {"id": "initech-direct-deposit", "tenant": "initech", "lang": "en", "turns": [
        ("I need to change my direct deposit to a new bank account. Will it be in time for the Nov 30 payroll?",
         "You can update it yourself under Profile > Pay settings > Direct deposit. Changes saved at least 3 business "
         "days before the pay date apply to that payroll, so if you update it by Nov 25 it should be used on Nov 30. "
         "Otherwise this payroll still goes to your current account and the new one is used from the next pay date."),
    ]},
    {"id": "acme-q3-export", "tenant": "acme", "lang": "en", "turns": [
        ("Is there a way to export all events from a project as CSV? We need everything from Q3 for an audit.",
         "Yes. Open the project, go to Data > Exports and create an export with the date range July 1 to September 30 "
         "and the CSV format. Large exports run in the background, and you'll get an email with a download link that's "
         "valid for 7 days. If you need the files split per day or per event type, choose that under 'Partitioning' "
         "before you start."),
    ]},
    {"id": "hooli-storage-trash", "tenant": "hooli", "lang": "en", "turns": [
        ("It says my storage is full but I deleted a ton of files from Drive yesterday.",
         "Deleted Drive files stay in the Trash and still count toward your storage for 30 days. Empty the Trash in "
         "Drive to free that space right away. Also check Hooli Mail, since large attachments there share the same "
         "15 GB quota. It can take up to 24 hours for the storage meter to refresh."),
    ]},
    {"id": "globex-giftcard", "tenant": "globex", "lang": "en", "turns": [
        ("How do I check the balance on a Globex gift card? The card number ends in 4471.",
         "You can check it at globexshop.com/giftcard by entering the full card number and the PIN under the scratch-off "
         "strip. For security, I can't look up balances from a partial number here. If the balance looks wrong, reply "
         "with the order number the card was bought with and I'll take a look."),
    ]},
    {"id": "acme-dashboard-incident", "tenant": "acme", "lang": "en", "turns": [
        ("Are you having an incident? Our dashboards show no data since 10:40 UTC, workspace id ws_8f2c91.",
         "Yes, we're currently investigating delayed event processing in the us-east region that started around 10:35 "
         "UTC. Your events are being accepted and stored, but dashboards may lag behind until processing catches up. "
         "You can follow updates at status.acme.dev, and I've added your workspace to the incident so you're notified "
         "when it's resolved."),
        ("Will we lose any events?",
         "No. Ingestion has stayed up the whole time, so every event sent during the incident is stored and will show up "
         "in your dashboards once the backlog is processed. Scheduled reports that ran during the delay will be re-run "
         "automatically."),
    ]},
    # ------------------------------------------------------------------ Chinese
    {"id": "stark-refund-earbuds", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("你好，我上周三申请的退款到现在还没到账，订单号 SC2611120387，退的是一副降噪耳机。",
         "您好，非常抱歉让您久等了。订单 SC2611120387 的退货已于11月18日签收入库，退款已经在11月19日原路退回。银行卡退款一般需要"
         "1-7个工作日到账，建议您先查看一下银行App的入账记录。如果11月28日之后仍未到账，请再联系我们，我们会为您提交加急核查。"),
        ("我是用花呗付的，也是一样吗？",
         "花呗付款的退款会退回到花呗额度，通常1-3个工作日内恢复，不会进入银行卡。如果本期账单已经还款，退回的金额会抵扣下期账单。"),
    ]},
    {"id": "stark-vat-special", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("请问怎么开增值税专用发票？我们公司买了 20 台 Stark Pad 用于办公。",
         "您好，企业采购可以开具增值税专用发票。请在订单详情页点击“申请开票”，发票类型选择“增值税专用发票”，并填写公司名称、"
         "纳税人识别号、注册地址电话以及开户行和账号。提交后我们会在3个工作日内审核，审核通过后电子专票会发送到您预留的邮箱。"),
        ("订单已经确认收货一个月了，还能开吗？",
         "可以的，确认收货后180天内都可以申请开票。如果之前已经开过普通发票，需要先将原发票红冲，再重新开具专用发票，"
         "整个流程大约需要5个工作日。"),
    ]},
    {"id": "stark-guangzhou-transit", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("我买的 Stark Buds Pro 显示已发货五天了，物流信息一直停在“广州转运中心”，订单号 SC2611150912。",
         "您好，给您带来不便非常抱歉。近期华南地区转运中心件量较大，部分包裹会出现物流信息延迟更新的情况。我已经为您向快递公司"
         "提交了催件工单，一般24小时内会有反馈。如果48小时后物流仍无更新，我们将为您补发或办理退款。"),
        ("好的，那补发的话需要我做什么吗？",
         "不需要您额外操作。如果确认包裹丢失，我们会直接按原地址为您补发，并通过短信告知新的快递单号。如果您想修改收货地址，"
         "现在告诉我即可。"),
    ]},
    {"id": "stark-close-account", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("怎么注销我的斯塔克账号？绑定的设备需要先解绑吗？",
         "您好，注销前需要先在“设备管理”中解绑所有设备，并确认没有未完成的订单和售后。然后进入“我的 > 设置 > 账号与安全 > "
         "注销账号”，按提示完成身份验证即可提交申请。注销申请有15天的冷静期，期间重新登录即可撤销；15天后账号及相关数据将被"
         "永久删除，无法恢复。"),
    ]},
    {"id": "stark-green-line", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("我的 Stark Phone 12 屏幕突然出现一条绿线，去年12月买的，还在保修期内吗？",
         "您好，整机保修期为1年，从签收之日起计算，您去年12月购买的手机目前仍在保修期内。屏幕出现绿线属于常见的显示故障，"
         "只要没有进水或外力损伤，都可以免费维修。您可以选择寄修，或者前往线下服务中心检测。"),
        ("寄修的话要多久？我平时要用手机。",
         "寄修一般需要5-7个工作日，包含往返物流时间。如果您比较着急，建议前往就近的授权服务中心，屏幕维修通常当天就能完成。"),
        ("我在杭州西湖区，最近的服务中心在哪？",
         "杭州西湖区最近的授权服务中心在文三路398号东方通信大厦1楼，营业时间为每天9:00-18:00。建议您先在App的“服务 > "
         "预约维修”中预约，到店后可以减少排队时间。"),
    ]},
    {"id": "stark-plus-autorenew", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("我不想再自动续费 Stark+ 会员了，怎么关闭？这个月已经扣了 25 元。",
         "您可以在App中进入“我的 > 会员中心 > 自动续费管理”，点击“关闭自动续费”即可，关闭后当前会员有效期不受影响。本月已扣的"
         "25元对应本期会员权益，一般不支持退款。如果您是通过微信或支付宝签约的，还需要在对应的支付平台中取消免密支付协议。"),
    ]},
    {"id": "stark-coupon-expired", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("双十一领的满 1000 减 100 的券为什么用不了？我买的是 1299 的手表。",
         "您好，这张优惠券的有效期是11月1日至11月20日，目前已经过期，所以无法使用。另外，这张券仅适用于手机品类，智能手表不在"
         "使用范围内。您可以在“我的 > 优惠券”中查看当前可用的券，手表品类目前有满1000减80的活动券可以领取。"),
    ]},
    {"id": "stark-sms-code", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("登录的时候一直收不到短信验证码，已经试了好几次了。",
         "很抱歉给您带来困扰。请先确认手机号填写正确、手机信号正常，并检查短信是否被安全软件拦截到了“骚扰拦截”里。同一个手机号"
         "每天最多可以获取10次验证码，超过后需要第二天再试。您也可以选择“语音验证码”，系统会通过电话播报验证码。"),
        ("被拦截了，找到了，谢谢",
         "不客气！建议您把我们的短信号码加入白名单，以后就不会再被拦截了。如果还有其他问题，随时联系我们。"),
    ]},
    {"id": "stark-tradein-quote", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("以旧换新怎么估价？我有一台用了三年的 Stark Phone 9，屏幕有划痕。",
         "您好，您可以在App的“以旧换新”页面选择旧机型号，并如实填写外观和功能情况，系统会给出预估价格。屏幕有划痕一般会影响"
         "成色评级，最终价格以回收后的质检结果为准。下单新机时选择“以旧换新”，旧机估价会直接抵扣新机货款，还可以叠加换新补贴。"),
    ]},
    {"id": "stark-watch-sync", "tenant": "stark-cn", "lang": "zh", "turns": [
        ("我的 Stark Watch 3 同步不了运动数据了，App 上一直显示“同步中”。",
         "您好，请先确认手机蓝牙已打开，并且 Stark Health App 在后台没有被系统清理。您可以尝试在App中下拉刷新，或者将手表"
         "重启后再同步。"),
        ("重启过了，还是不行。",
         "好的，请在手机的蓝牙设置里忽略手表，然后在App中删除设备后重新配对，重新配对不会丢失手表上已有的数据。另外请确认App"
         "已更新到6.4.2及以上版本。"),
        ("App 是 6.3.0，我更新一下试试",
         "好的，6.4.2版本修复了部分安卓机型同步卡住的问题，更新后再试一次应该就能恢复了。"),
        ("更新之后可以同步了，但是昨天的睡眠数据没有了",
         "很抱歉，手表本地最多保存7天的运动数据，但睡眠数据只保存最近一晚的记录，如果昨晚的数据已经被覆盖，就无法找回了。"
         "建议您之后保持App在后台运行，以便数据自动同步。"),
        ("好吧，知道了",
         "给您带来不便非常抱歉。如果之后再遇到同步问题，可以在App的“我的 > 帮助与反馈”里上传日志，我们的工程师会帮您进一步排查。"),
    ]},
    {"id": "globex-zh-sheet-size", "tenant": "globex", "lang": "zh", "turns": [
        ("你好，我在 Globex 买的床单尺寸买错了，订单号 GX-41277650，能换成 1.8 米的吗？",
         "您好，当然可以。商品签收后30天内都可以免费换货。我已经为您生成了免费的退货面单，寄回后我们会为您发出1.8米的床单，"
         "新床单会在仓库收到退货后1-2个工作日内发出。"),
    ]},
    # ------------------------------------------------------------------ Mixed zh/en
    {"id": "acme-mixed-invoice-missing", "tenant": "acme", "lang": "mixed", "turns": [
        ("我的 invoice 为什么还没到？order #A-20731，上个月 28 号就付款了",
         "您好，invoice 一般会在付款成功后24小时内发送到账单邮箱。order #A-20731 的 invoice 已于10月29日发送到您账户的 billing "
         "contact 邮箱，可能被归到了垃圾邮件里。您也可以在 Settings > Billing > Invoices 里直接下载 PDF。"),
        ("找到了，在 spam 里。能改一下账单邮箱吗？改成 finance@lumen-data.cn",
         "可以的。请在 Settings > Billing > Billing contacts 里把账单邮箱改为 finance@lumen-data.cn，只有 workspace 的 Owner "
         "或 Billing admin 有权限修改。修改后，所有 invoice 和付款通知都会发送到新邮箱。"),
    ]},
    {"id": "acme-mixed-429-qps", "tenant": "acme", "lang": "mixed", "turns": [
        ("API 一直返回 429 Too Many Requests，我们 QPS 才 20 左右，是不是 rate limit 配置有问题？",
         "您好，rate limit 是按 workspace 计算的：Free plan 每分钟 60 个 requests，Pro plan 每分钟 300 个，Team plan 每分钟 1,200 个。"
         "20 QPS 相当于每分钟 1,200 个 requests，已经超过了 Free 和 Pro 的限制。建议您把 events 合并成 batch 发送（每个 request "
         "最多 500 条），同时根据 response 里的 Retry-After header 做 backoff。"),
        ("我们是 Pro plan 啊，workspace 是 ws_31ad07",
         "确认过了，ws_31ad07 是 Pro plan，上限是每分钟 300 个 requests，也就是 5 QPS 左右，所以 20 QPS 依然会被限流。如果不方便"
         "改成 batch，可以升级到 Team plan，或者我帮您提交临时提额的申请。"),
    ]},
    {"id": "acme-mixed-plan-compare", "tenant": "acme", "lang": "mixed", "turns": [
        ("请问 Pro plan 和 Team plan 的区别是什么？我们 team 有 12 个人",
         "主要区别有三点：Team plan 支持 SAML SSO 和 audit log；rate limit 是每分钟 1,200 个 requests（Pro 是 300）；raw events "
         "保留 13 个月（Pro 是 90 天）。价格上，Team plan 每月 $199 含 10 个 seats，额外每个 seat 每月 $15，所以 12 个人是每月 $229。"
         "Pro plan 每月 $49，但最多只能有 5 个成员，不适合 12 人的团队。"),
    ]},
    {"id": "globex-mixed-paypal-refund", "tenant": "globex", "lang": "mixed", "turns": [
        ("refund 申请提交后多久能到账？我用的是 PayPal，订单 GX-41120934",
         "您好，订单 GX-41120934 的 refund 已经在11月21日处理完成。PayPal 退款通常1-3个工作日内到账，会直接退回您的 PayPal "
         "balance 或原付款卡。如果11月26日之后还没看到，请回复我，我们会联系 PayPal 核查。"),
    ]},
    {"id": "acme-mixed-azure-sso", "tenant": "acme", "lang": "mixed", "turns": [
        ("SSO 登录一直报 error: invalid_grant，我们用的是 Azure AD，昨天还好好的",
         "invalid_grant 通常是 SAML assertion 校验失败导致的，最常见的原因是 IdP 的 signing certificate 过期或被轮换了。请在 Azure AD "
         "的 Enterprise application 里检查 SAML Signing Certificate 的有效期，如果有新证书，需要重新下载 Federation Metadata XML 并上传到 "
         "Acme 的 Settings > Security > Single sign-on。另外也请确认服务器时间偏差不超过5分钟。"),
        ("确实是证书昨天 rotate 了，上传新的 metadata 后好了",
         "太好了！建议您在 Azure AD 里为证书到期设置提醒邮件，或者在新证书生效前先把它上传到 Acme，这样下次 rotate 的时候就不会"
         "中断登录。"),
    ]},
    {"id": "hooli-mixed-backup-codes", "tenant": "hooli", "lang": "mixed", "turns": [
        ("2-Step Verification 的 backup codes 在哪里生成？我怕以后换手机登不上",
         "您可以在 myaccount.hooli.com 的 Security > 2-Step Verification > Backup codes 里生成一组 10 个 backup codes，每个 code "
         "只能使用一次。建议打印出来或保存在 password manager 里，不要截图存在手机相册。重新生成后，旧的 codes 会全部失效。"),
    ]},
    {"id": "stark-mixed-app-crash", "tenant": "stark-cn", "lang": "mixed", "turns": [
        ("App 更新到 v5.2 之后一打开就 crash，手机是 Stark Phone 11，Android 14",
         "您好，非常抱歉。v5.2.0 在部分 Android 14 机型上存在启动 crash 的问题，我们已经在 v5.2.1 中修复，预计今天晚些时候在应用商店"
         "上线。在此之前，您可以在“设置 > 应用 > Stark > 存储”中清除缓存后重试，通常可以恢复正常。"),
        ("清了 cache 还是 crash",
         "抱歉给您带来不便。建议您先卸载 v5.2.0，到官网 stark.cn/app 下载 v5.1.8 安装包临时使用，账号数据都保存在云端，重新登录后"
         "不会丢失。等 v5.2.1 上线后再更新即可。"),
    ]},
    {"id": "acme-mixed-webhook-retry", "tenant": "acme", "lang": "mixed", "turns": [
        ("webhook delivery 失败之后会 retry 几次？间隔是多少？我们 endpoint 昨晚 down 了 2 小时",
         "webhook delivery 失败后会自动 retry 最多 8 次，采用 exponential backoff，总时长大约 24 小时。所以昨晚 2 小时 downtime 期间"
         "的 events 应该会被自动补发。如果有 delivery 最终失败，可以在 Settings > Webhooks > Delivery log 里手动 replay。"),
    ]},
    {"id": "stark-mixed-nfc-card", "tenant": "stark-cn", "lang": "mixed", "turns": [
        ("Stark Phone 12 的 NFC 能模拟门禁卡吗？我们小区用的是 IC 卡",
         "可以的。打开“钱包 > 门卡 > 添加门卡”，选择“模拟实体门卡”，把 IC 卡贴近手机背面的 NFC 区域即可读取。需要注意，部分加密"
         "门禁卡无法直接模拟，这种情况可以选择“空白卡”，再到物业写入授权。"),
    ]},
    {"id": "hooli-mixed-share-link", "tenant": "hooli", "lang": "mixed", "turns": [
        ("Hooli Drive 分享的 link 别人打开显示 'You need access'，我已经设置成 anyone with the link 了",
         "如果已经设置为 'Anyone with the link'，对方仍然看到 'You need access'，通常是因为您的账号属于 workspace 组织，管理员限制"
         "了对外分享。请确认 Share 设置里的访问权限没有被限定在组织内部，或者联系您的 workspace admin 开启 external sharing。"
         "另外，如果对方登录的是另一个 Hooli 账号，也可以让他切换账号或用无痕窗口打开。"),
    ]},
]

# Long, verbose answers that claude-haiku-4-5 starts and that hit max_tokens (finish_reason "length").
SUPPORT_HAIKU_LONG = {
    ("acme-okta-sso", 0): (
        "Great question! Setting up SAML SSO with Okta usually takes about 15 minutes. Here's a step-by-step "
        "walkthrough:\n\n"
        "1. **Check your plan.** SAML SSO is available on the Team and Enterprise plans, so make sure your workspace is on "
        "one of those first.\n"
        "2. **Get the Acme values.** In Acme, go to Settings > Security > Single sign-on and copy the ACS (Assertion "
        "Consumer Service) URL and the Entity ID. Keep this tab open, you'll come back to it.\n"
        "3. **Create the Okta app.** In the Okta Admin Console, go to Applications > Create App Integration, choose "
        "SAML 2.0, and give it a name like \"Acme Cloud\" so your users recognize it on their dashboard.\n"
        "4. **Configure the SAML settings.** Paste the ACS URL into \"Single sign-on URL\" and the Entity ID into "
        "\"Audience URI (SP Entity ID)\". Set the Name ID format to EmailAddress and the Application username to Email.\n"
        "5. **Add attribute statements (optional).** You can map firstName, lastName and groups if you want Acme to pick "
        "up display names and group membership automatically.\n"
        "6. **Download the metadata.** After saving, open the Sign On tab of the new app in Okta and download the "
        "Identity Provider metadata XML file.\n"
        "7. **Upload it to Acme.** Back on the Acme SSO page, upload the metadata XML and click Save. Acme will validate "
        "the certificate and show the IdP issuer it detected.\n"
        "8. **Test before enforcing.** Assign the app to yourself in Okta and try signing in through SSO in a private "
        "browser window. Once that works, assign the rest of your users and turn on \"Enforce SSO\" so that everyone "
        "in the workspace signs in through Okta from then on. Workspace Owners keep a break-glass password login in "
        "case Okta is ever unavailable, which is worth documenting for your team."
    ),
    ("acme-webhook-rotation", 0): (
        "Thanks for the details, this is a really common issue right after a secret rotation, so let's work through "
        "it.\n\n"
        "**Why this happens**\n"
        "When you rotate the signing secret, Acme starts signing new deliveries with the new secret right away. However, "
        "any deliveries that were already queued, or that are being retried after an earlier failure, are still signed "
        "with the old secret for up to 24 hours. If your endpoint only knows about the new secret, those deliveries will "
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
        "Once you've deployed the change, trigger a test event from Settings > Webhooks > Send test event and watch the "
        "delivery log. Any deliveries that failed in the meantime can be replayed from the same page once verification "
        "passes again, so you won't lose any events."
    ),
    ("stark-vat-special", 0): (
        "您好，感谢您选择斯塔克为企业办公采购设备！企业采购 Stark Pad 是可以开具增值税专用发票的，具体操作步骤如下：\n\n"
        "1. **进入订单详情**：打开斯塔克商城App或官网，进入“我的订单”，找到本次购买20台 Stark Pad 的订单，点击进入订单详情页。\n"
        "2. **申请开票**：在订单详情页底部点击“申请开票”，发票类型请选择“增值税专用发票”。\n"
        "3. **填写开票信息**：需要准确填写以下信息：\n"
        "   - 公司名称（需与营业执照上的名称完全一致）\n"
        "   - 纳税人识别号（即统一社会信用代码）\n"
        "   - 注册地址及电话\n"
        "   - 开户银行及银行账号\n"
        "4. **提交审核**：提交后，我们会在3个工作日内完成审核。审核通过后，电子专票会发送到您预留的邮箱，您也可以在订单详情页"
        "直接下载。\n\n"
        "温馨提示：\n"
        "- 请务必确保开票信息准确无误，专用发票开具后如需修改，需要先进行红冲处理，整个流程会相对较长。\n"
        "- 如果贵公司的财务需要纸质专票，可以在申请时的备注栏中说明，我们会通过顺丰快递为您寄出，一般在审核通过后的2个工作日内发出。\n"
        "- 如果采购数量较大，后续还有批量采购需求，也可以联系我们的企业客户经理，享受企业专属价格和账期服务。"
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
    "fapiao text supplied by the user.\n"
    "Rules:\n"
    "- issue_date must be YYYY-MM-DD. Read day/month order according to the vendor's country.\n"
    "- total is the final amount payable including tax (for Chinese fapiao: 价税合计), as a plain number.\n"
    "- currency is the ISO 4217 code; infer it from symbols and the vendor's country if it is not written out.\n"
    "- line_items: one entry per billed line, in document order; unit_price excludes tax when the document shows tax "
    "separately.\n"
    "- Keep vendor names and descriptions in the original language and spelling."
)

EN_BUYERS = {
    "acme": ("Acme Cloud Inc.", "1 Market Plaza, Suite 400, San Francisco, CA 94105, USA", "acme.dev"),
    "initech": ("Initech LLC", "4120 Freidrich Lane, Austin, TX 78744, USA", "initech.com"),
    "globex": ("Globex Corporation", "1200 Harbor View Dr, Lake Oswego, OR 97035, USA", "globex.com"),
}
ZH_BUYER = ("斯塔克智能科技（上海）有限公司", "91310000MA1FL8K26R", "上海市闵行区申长路988弄虹桥万科中心3号楼")

EN_VENDORS = [
    dict(key="northwind", name="Northwind Office Supplies Ltd.", addr="14 Wharf Road, London N1 7GR, United Kingdom",
         taxid="VAT Reg. No. GB 284 7193 55", currency="GBP", sym="£", tax_label="VAT", tax_rate=0.20,
         num="NW-{n:06d}", date_style="uk", fmt="en", domain="northwind-office.co.uk", person="Priya Raman",
         layouts=["formal", "email", "ocr"],
         items=[("A4 copier paper 80gsm, box of 5 reams", (1, 12), 23.50),
                ("Laser toner cartridge, black (TN-2420)", (1, 6), 64.99),
                ("Ergonomic mesh office chair", (1, 8), 189.00),
                ("Whiteboard markers, assorted (pack of 12)", (1, 10), 8.75),
                ("Bamboo desk organiser", (2, 15), 14.20),
                ("Dual monitor arm, gas spring", (1, 6), 74.00),
                ("Recycled sticky notes 76x76mm (12 pads)", (2, 20), 6.40),
                ("Lever arch files A4, black (box of 10)", (1, 5), 21.90)]),
    dict(key="blueharbor", name="Blue Harbor Cloud Services, Inc.", addr="500 Harbor Blvd, Suite 1200, San Francisco, CA 94107",
         taxid="EIN 84-2917735", currency="USD", sym="$", tax_label="Sales tax", tax_rate=0.0,
         num="BH-{y}{m:02d}-{n:05d}", date_style="long", fmt="en", domain="blueharbor.cloud", person="Billing Team",
         layouts=["us", "email", "formal"],
         items=[("Compute instance c6.xlarge (hours)", (300, 744), 0.17),
                ("Block storage, SSD (GB-month)", (500, 4000), 0.08),
                ("Managed Postgres db.m5.large (hours)", (744, 744), 0.36),
                ("Data transfer out (GB)", (200, 3000), 0.09),
                ("Premium support plan (monthly)", (1, 1), 250.00),
                ("Load balancer (hours)", (744, 744), 0.025)]),
    dict(key="kettle", name="Kettle & Crumb Catering", addr="212 W 38th St, New York, NY 10018",
         taxid="", currency="USD", sym="$", tax_label="Sales tax", tax_rate=0.08875,
         num="KC-{n:04d}", date_style="us", fmt="en", domain="kettleandcrumb.com", person="Dana Whitfield",
         layouts=["us", "email"],
         items=[("Mediterranean lunch platter (serves 10)", (1, 4), 185.00),
                ("Assorted pastries (dozen)", (1, 5), 42.00),
                ("Cold brew coffee box (96 oz)", (1, 6), 38.50),
                ("Seasonal fruit platter, large", (1, 3), 64.00),
                ("Vegan grain bowl", (5, 30), 14.50),
                ("Delivery and setup", (1, 1), 45.00)]),
    dict(key="brightline", name="Brightline Freight GmbH", addr="Hafenstraße 42, 20457 Hamburg, Deutschland",
         taxid="USt-IdNr. DE 291 847 362", currency="EUR", sym="€", tax_label="MwSt.", tax_rate=0.19,
         num="RE-2026-{n:05d}", date_style="de", fmt="de", domain="brightline-freight.de", person="Jonas Petersen",
         layouts=["formal", "ocr"],
         items=[("Road freight Hamburg - Munich, full truckload", (1, 3), 1450.00),
                ("Pallet handling", (8, 33), 12.50),
                ("Customs documentation", (1, 2), 85.00),
                ("Fuel surcharge", (1, 1), 176.40),
                ("Waiting time (per hour)", (1, 4), 55.00),
                ("Tail-lift delivery", (1, 2), 95.00)]),
    dict(key="mapleleaf", name="Maple Leaf Print Co.", addr="88 Queen St E, Toronto, ON M5C 1S1, Canada",
         taxid="HST # 81274 9301 RT0001", currency="CAD", sym="$", tax_label="HST", tax_rate=0.13,
         num="MLP-{n:05d}", date_style="long", fmt="en", domain="mapleleafprint.ca", person="Olivia Tremblay",
         layouts=["formal", "email", "us"],
         items=[("Business cards, 500 pcs, matte", (1, 6), 79.00),
                ("Tri-fold brochures (1,000)", (1, 3), 420.00),
                ("Retractable banner 33x81in", (1, 4), 159.00),
                ("Design revision (hour)", (1, 4), 65.00),
                ("Letterhead, 250 sheets", (1, 4), 58.00)]),
    dict(key="sakura", name="Sakura Translation K.K.", addr="3-5-1 Shibuya, Shibuya-ku, Tokyo 150-0002, Japan",
         taxid="Registration No. T5011001087743", currency="JPY", sym="¥", tax_label="Consumption tax", tax_rate=0.10,
         num="ST-{y}-{n:04d}", date_style="slash", fmt="jp", domain="sakura-translation.jp", person="Haruka Mori",
         layouts=["formal", "email"],
         items=[("Translation EN>JA (per 1,000 characters)", (5, 40), 4800),
                ("Proofreading (per page)", (5, 30), 1500),
                ("Rush handling fee", (1, 1), 20000),
                ("Terminology glossary setup", (1, 1), 35000),
                ("Localization QA (hour)", (2, 10), 6500)]),
    dict(key="harbourbridge", name="Harbour Bridge IT Pty Ltd", addr="Level 9, 60 Margaret St, Sydney NSW 2000, Australia",
         taxid="ABN 53 614 902 118", currency="AUD", sym="$", tax_label="GST", tax_rate=0.10,
         num="HBIT-{n:05d}", date_style="uk", fmt="en", domain="harbourbridgeit.com.au", person="Liam O'Connor",
         layouts=["formal", "ocr", "email"],
         items=[("Managed IT support - monthly retainer", (1, 1), 2400.00),
                ("Laptop setup and imaging", (1, 8), 95.00),
                ("Office suite licence (per user, monthly)", (10, 40), 18.70),
                ("On-site call-out", (1, 3), 180.00),
                ("Firewall firmware upgrade", (1, 1), 320.00)]),
    dict(key="lioncity", name="Lion City Logistics Pte. Ltd.", addr="21 Changi South Ave 2, Singapore 486137",
         taxid="GST Reg. No. 201734829K", currency="SGD", sym="S$", tax_label="GST", tax_rate=0.09,
         num="LCL/{y}/{n:05d}", date_style="uk", fmt="en", domain="lioncitylogistics.sg", person="Tan Wei Ling",
         layouts=["formal", "email"],
         items=[("Warehousing (pallet-month)", (10, 60), 28.00),
                ("Pick and pack (per order)", (200, 1500), 1.35),
                ("Last-mile delivery (per parcel)", (100, 600), 6.90),
                ("Returns processing (per item)", (10, 80), 2.50)]),
    dict(key="redwood", name="Redwood Legal LLP", addr="1 Market St, Spear Tower, 36th Floor, San Francisco, CA 94105",
         taxid="", currency="USD", sym="$", tax_label="Tax", tax_rate=0.0,
         num="RL-{n:06d}", date_style="long", fmt="en", domain="redwoodlegal.com", person="Accounts Receivable",
         layouts=["us", "formal"],
         items=[("Contract review - SaaS MSA (hours)", (2, 9), 425.00),
                ("Trademark filing preparation, class 9", (1, 1), 350.00),
                ("USPTO filing fee (disbursement)", (1, 1), 350.00),
                ("Employment agreement drafting (hours)", (1, 5), 425.00),
                ("Courier and filing costs", (1, 1), 48.20)]),
    dict(key="atlas", name="Atlas Coworking B.V.", addr="Keizersgracht 520, 1017 EK Amsterdam, Nederland",
         taxid="BTW NL862204917B01", currency="EUR", sym="€", tax_label="BTW", tax_rate=0.21,
         num="ATL-{n:05d}", date_style="nl", fmt="de", domain="atlascoworking.nl", person="Sanne de Vries",
         layouts=["formal", "ocr"],
         items=[("Dedicated desk - December", (1, 8), 390.00),
                ("Meeting room (hour)", (1, 12), 35.00),
                ("Locker rental (month)", (1, 8), 15.00),
                ("Mail handling service (month)", (1, 1), 29.00),
                ("Day pass", (1, 10), 32.00)]),
    dict(key="pixelforge", name="Pixelforge Software Ltd", addr="Unit 4, Baltic Triangle, Liverpool L1 0AH, United Kingdom",
         taxid="VAT Reg. No. GB 311 5820 14 (reverse charge)", currency="USD", sym="US$", tax_label="VAT", tax_rate=0.0,
         num="PF-INV-{n:05d}", date_style="iso", fmt="en", domain="pixelforge.io", person="Pixelforge Billing",
         layouts=["email", "formal"],
         items=[("Pixelforge Studio Pro licence (annual, per seat)", (2, 12), 299.00),
                ("Priority support add-on (annual, per seat)", (2, 12), 49.00),
                ("Onboarding workshop (remote, half day)", (1, 1), 600.00)]),
    dict(key="greenleaf", name="Greenleaf Janitorial Services LLC", addr="7781 Commerce Park Dr, Austin, TX 78744",
         taxid="", currency="USD", sym="$", tax_label="Sales tax", tax_rate=0.0825,
         num="GJS-{n:04d}", date_style="us", fmt="en", domain="greenleafjanitorial.com", person="Marisol Vega",
         layouts=["us", "ocr"],
         items=[("Office cleaning - weekly visit", (4, 5), 180.00),
                ("Carpet deep clean", (1, 1), 320.00),
                ("Interior window cleaning", (1, 1), 140.00),
                ("Restroom supplies restock", (1, 2), 62.50)]),
    dict(key="summit", name="Summit Events & AV", addr="455 Embarcadero West, Oakland, CA 94607",
         taxid="", currency="USD", sym="$", tax_label="Sales tax", tax_rate=0.1025,
         num="SEAV-{n:04d}", date_style="us", fmt="en", domain="summitav.com", person="Chris Delgado",
         layouts=["us", "email"],
         items=[("Projector rental (per day)", (1, 3), 150.00),
                ("Wireless microphone kit (per day)", (1, 3), 75.00),
                ("AV technician (hours)", (4, 10), 85.00),
                ("LED uplighting package", (1, 1), 280.00),
                ("Delivery and pickup", (1, 1), 120.00)]),
]

RECEIPT_VENDORS = [
    dict(key="lumiere", name="Café Lumière", addr="12 Rue des Martyrs, 75009 Paris", taxid="SIRET 812 447 920 00018",
         currency="EUR", sym="€", tax_label="TVA", tax_rate=0.10, num="{n:04d}-{k:03d}", date_style="fr", fmt="de",
         pay="CB VISA ****4411", thanks="Merci de votre visite !",
         items=[("Café crème", (1, 4), 4.20), ("Croissant", (1, 4), 1.90), ("Quiche lorraine", (1, 3), 9.50),
                ("Salade niçoise", (1, 2), 14.00), ("Eau minérale 50cl", (1, 3), 3.50), ("Tarte au citron", (1, 2), 5.80)]),
    dict(key="baycity", name="Bay City Cabs", addr="1750 Bayshore Blvd, San Francisco, CA 94124", taxid="TCP 31842-A",
         currency="USD", sym="$", tax_label="Tax", tax_rate=0.0, num="TRIP {n:07d}", date_style="us", fmt="en",
         pay="AMEX ****1008", thanks="Thank you for riding with Bay City Cabs",
         items=[("Metered fare", (1, 1), 54.30), ("Airport surcharge", (1, 1), 5.00), ("Bridge toll", (1, 1), 8.00),
                ("Tip", (1, 1), 11.00)]),
    dict(key="canalhouse", name="Canal House Hotel", addr="Keizersgracht 148, 1015 CX Amsterdam", taxid="BTW NL801337562B01",
         currency="EUR", sym="€", tax_label="BTW", tax_rate=0.09, num="FOLIO {n:06d}", date_style="nl", fmt="de",
         pay="Mastercard ****7720", thanks="We hope to welcome you again soon.",
         items=[("Deluxe Canal View room (per night)", (1, 4), 245.00), ("Breakfast buffet", (1, 6), 24.50),
                ("Minibar", (1, 1), 18.00), ("Laundry service", (1, 1), 32.00)]),
]

ZH_VENDORS = [
    dict(key="yunqi", name="上海云启信息技术有限公司", taxid="91310115MA1K4B7X2Q", region="31", rate=0.06, cat="信息技术服务",
         person="陈静", items=[("云服务器ECS 8核32G（包月）", "台", (2, 20), 1280.00), ("对象存储OSS", "TB·月", (5, 60), 120.00),
                               ("CDN流量包 10TB", "个", (1, 3), 1500.00), ("技术支持服务费", "项", (1, 1), 3000.00),
                               ("云数据库RDS MySQL 4核16G（包月）", "台", (1, 4), 1650.00)]),
    dict(key="huatuo", name="深圳市华拓电子有限公司", taxid="91440300MA5F8R3W6N", region="44", rate=0.13, cat="电子元件",
         person="林晓东", items=[("USB-C数据线 1m", "条", (500, 3000), 6.80), ("65W氮化镓充电器", "个", (200, 1000), 48.50),
                                ("5000mAh锂电池电芯", "个", (500, 2000), 22.30), ("Type-C母座连接器", "个", (1000, 10000), 0.85)]),
    dict(key="jiannuo", name="北京简诺办公用品有限公司", taxid="91110108MA01H2K73P", region="11", rate=0.13, cat="纸制品",
         person="王丽", items=[("A4复印纸 70g（5包/箱）", "箱", (5, 40), 115.00), ("中性笔 0.5mm（12支/盒）", "盒", (5, 30), 18.00),
                              ("四门文件柜", "台", (1, 4), 860.00), ("碎纸机", "台", (1, 2), 1290.00),
                              ("白板 120×90cm", "块", (1, 4), 268.00)]),
    dict(key="qinghe", name="杭州青禾餐饮管理有限公司", taxid="91330106MA2H5UJ41D", region="33", rate=0.06, cat="餐饮服务",
         person="赵敏", items=[("员工午餐", "份", (100, 600), 28.00), ("会议茶歇", "套", (1, 4), 680.00),
                              ("节日礼盒", "盒", (20, 120), 168.00)]),
    dict(key="shunda", name="广州顺达物流有限公司", taxid="91440101MA59T6QY8C", region="44", rate=0.09, cat="运输服务",
         person="黄志强", items=[("干线运输 广州-上海（整车）", "车", (1, 4), 6800.00), ("装卸费", "吨", (5, 40), 35.00),
                                ("保价费", "项", (1, 1), 260.00), ("仓储费", "托·天", (30, 300), 4.50)]),
    dict(key="jincheng", name="成都锦程商务酒店有限公司", taxid="91510104MA6CJ9P02L", region="51", rate=0.06, cat="住宿服务",
         person="刘洋", items=[("住宿费（标准间）", "间夜", (2, 12), 458.00), ("会议室租赁", "天", (1, 2), 2200.00),
                              ("会议餐费", "人次", (10, 60), 88.00)]),
    dict(key="zhizao", name="苏州智造模具有限公司", taxid="91320505MA1WQ8E45T", region="32", rate=0.13, cat="模具",
         person="周建华", items=[("注塑模具 外壳上盖", "套", (1, 1), 38000.00), ("注塑模具 外壳下盖", "套", (1, 1), 35500.00),
                                ("试模费", "次", (1, 3), 2000.00), ("模具修改费", "项", (1, 1), 4800.00)]),
    dict(key="guanggu", name="武汉光谷人力资源服务有限公司", taxid="91420100MA4KX3T87B", region="42", rate=0.06, cat="人力资源服务",
         person="孙蕾", items=[("招聘服务费", "项", (1, 2), 15000.00), ("背景调查", "人次", (3, 15), 300.00),
                              ("劳务派遣管理费", "人·月", (5, 40), 260.00)]),
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
    cents = int(round(amount * 100))
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10

    def four(n: int) -> str:
        out, pending_zero = "", False
        for power, unit in ((3, "仟"), (2, "佰"), (1, "拾"), (0, "")):
            d = n // 10 ** power % 10
            if d == 0:
                pending_zero = bool(out)
            else:
                if pending_zero:
                    out += "零"
                    pending_zero = False
                out += digits[d] + unit
        return out

    parts, text = [(yuan // 10 ** 8, "亿"), (yuan // 10 ** 4 % 10 ** 4, "万"), (yuan % 10 ** 4, "")], ""
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
    repl = [("Invoice", "lnvoice"), ("INVOICE", "INV0ICE"), ("Total", "Tota1"), ("Date", "Dale"),
            ("Subtotal", "Sub-total"), ("Description", "Descriptlon"), ("Qty", "Qtv")]
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
        out += ["", "INVOICE", "",
                f"Invoice No.:    {inv['number']}",
                f"Invoice Date:   {date_s}",
                f"Due Date:       {due_s}",
                f"Bill To:        {buyer}",
                f"                {buyer_addr}",
                "",
                f"{'Description':<50}{'Qty':>6}{'Unit Price':>14}{'Amount':>14}",
                "-" * 84]
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
        out = [f"{v['name']}  |  {v['addr']}", "", f"INVOICE # {inv['number']}",
               f"Date: {fmt_date(inv['date'], 'us')}        Terms: {inv['terms']}",
               f"BILL TO: {buyer}, Attn: Accounts Payable", "",
               f"{'QTY':>5}  {'ITEM':<46}{'RATE':>12}{'AMOUNT':>14}"]
        for desc, qty, price in lines:
            out.append(f"{qty:>5}  {desc:<46}{U(price):>12}{M(qty * price):>14}")
        out += ["", f"{'SUBTOTAL':>63}{M(inv['subtotal']):>14}"]
        if v["tax_rate"]:
            out.append(f"{v['tax_label'].upper() + ' (' + rate_pct + '%)':>63}{M(inv['tax']):>14}")
        out += [f"{'AMOUNT DUE (' + cur + ')':>63}{sym + M(inv['total']):>14}", "",
                "Thank you for your business!"]
        return "\n".join(out)
    if layout == "email":
        d = inv["date"]
        out = ["---------- Forwarded message ---------",
               f"From: {v['name']} <billing@{v['domain']}>",
               f"Date: {d:%a}, {d:%b} {d.day}, {d.year} at {rng.randint(7, 17)}:{rng.choice(['02', '14', '27', '38', '51'])}",
               f"Subject: Invoice {inv['number']} from {v['name']}",
               f"To: <ap@{buyer_domain}>", "",
               f"Hello {buyer.split()[0]} team,", "",
               f"Please find below the details of invoice {inv['number']}, issued {date_s}.", ""]
        for desc, qty, price in lines:
            out.append(f"  - {desc}: {qty} x {sym}{U(price)} = {sym}{M(qty * price)}")
        out += ["", f"Subtotal: {sym}{M(inv['subtotal'])}"]
        if v["tax_rate"]:
            out.append(f"{v['tax_label']} {rate_pct}%: {sym}{M(inv['tax'])}")
        out += [f"Total due: {sym}{M(inv['total'])} {cur}", "",
                f"Payment is due by {due_s}. Reply to this email if you have any questions.", "",
                "Kind regards,", v["person"], f"{v['name']}"]
        return "\n".join(out)
    if layout == "ocr":
        out = ["[scanned document, page 1/1]", v["name"].upper(), v["addr"]]
        if v["taxid"]:
            out.append(v["taxid"])
        out += ["", f"Invoice   No {inv['number']}", f"Date  {date_s}", "",
                f"Description{' ' * 34}Qty   Price      Total"]
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
    out += ["-" * w,
            f"{fmt_date(inv['date'], v['date_style'])} {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}   {inv['number']}",
            "-" * w]
    for desc, qty, price in inv["lines"]:
        label = f"{qty} x {desc}" if qty > 1 else desc
        out.append(f"{label[:w - 10]:<{w - 10}}{M(qty * price):>10}")
        if qty > 1:
            out.append(f"    @ {M(price)}")
    out += ["-" * w, f"{'TOTAL ' + v['currency']:<{w - 12}}{sym + ' ' + M(inv['total']):>12}"]
    if v["tax_rate"]:
        incl = inv["total"] - inv["total"] / (1 + v["tax_rate"])
        out.append(f"  dont/incl. {v['tax_label']} {v['tax_rate'] * 100:g}%: {M(incl)}")
    out += [v["pay"], "", v["thanks"].center(w)]
    return "\n".join(out)


def render_zh_invoice(v: dict, layout: str, inv: dict, rng: random.Random) -> str:
    buyer, buyer_tax, buyer_addr = ZH_BUYER
    date_s = fmt_date(inv["date"], "zh")
    lines = inv["lines"]
    rate_pct = f"{v['rate'] * 100:g}%"
    M = lambda x: f"{x:,.2f}"  # noqa: E731
    if layout in ("zh_special", "zh_normal"):
        title = "电子发票（增值税专用发票）" if layout == "zh_special" else "电子发票（普通发票）"
        out = [title, f"发票号码：{inv['number']}", f"开票日期：{date_s}", "",
               "购买方信息", f"  名称：{buyer}", f"  统一社会信用代码/纳税人识别号：{buyer_tax}",
               "销售方信息", f"  名称：{v['name']}", f"  统一社会信用代码/纳税人识别号：{v['taxid']}", "",
               "项目名称                          单位      数量          单价            金额    税率/征收率        税额"]
        for (desc, unit, qty, price), tax_i in zip(lines, inv["line_tax"]):
            out.append(f"*{v['cat']}*{desc}    {unit}    {qty}    {price:.2f}    {qty * price:.2f}    {rate_pct}    {tax_i:.2f}")
        out += [f"合　　计                                                        ¥{inv['subtotal']:.2f}                    ¥{inv['tax']:.2f}",
                f"价税合计（大写）{rmb_upper(inv['total'])}                （小写）¥{inv['total']:.2f}", "",
                f"备注：{inv['note']}", f"开票人：{v['person']}"]
        return "\n".join(out)
    if layout == "zh_email":
        m = inv["date"].month
        out = [f"发件人：{v['name']}财务部 <finance@{v['key']}.com.cn>",
               f"主题：{m}月服务费发票信息 - {inv['number']}", "",
               f"{rng.choice(['张经理', '李会计', '王老师', '财务部各位同事'])}您好：", "",
               f"贵司{m}月份的发票已开具，电子发票文件见附件，发票信息如下：",
               f"发票号码：{inv['number']}", f"开票日期：{date_s}", ""]
        for i, ((desc, unit, qty, price), tax_i) in enumerate(zip(lines, inv["line_tax"]), 1):
            out.append(f"{i}. {desc}，数量 {qty}{unit}，单价 {M(price)} 元，金额 {M(qty * price)} 元")
        out += ["", f"不含税金额合计：{M(inv['subtotal'])} 元", f"税额（{rate_pct}）：{M(inv['tax'])} 元",
                f"价税合计：{M(inv['total'])} 元", "", "请贵司于30日内安排付款，如有疑问请随时联系，谢谢！", "",
                v["person"], v["name"]]
        return "\n".join(out)
    if layout == "zh_scan":
        out = ["【扫描件 OCR 结果】", f"{v['name']}", "发 票", f"No {inv['number']}", f"开票日期 {date_s}",
               f"购买方 {buyer}", "货物或应税劳务、服务名称 数量 单价 金额 税率 税额"]
        for (desc, unit, qty, price), tax_i in zip(lines, inv["line_tax"]):
            out.append(f"{desc} {qty} {price:.2f} {qty * price:.2f} {rate_pct} {tax_i:.2f}")
        out += [f"合计 {inv['subtotal']:.2f} {inv['tax']:.2f}",
                f"价税合计(大写) {rmb_upper(inv['total'])} (小写) ¥{inv['total']:.2f}",
                f"销售方 {v['name']} 纳税人识别号 {v['taxid']}", f"收款人：{v['person']}  复核：  开票人：{v['person']}"]
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
            number = unique_number(lambda: v["num"].format(n=rng.randint(1000, 99999) if "{n:0" in v["num"] else rng.randint(1000, 9999999),
                                                           k=rng.randint(1, 999), **fmt_args))
            if layout == "receipt":
                lines = _pick_items(v, rng, 2, 4) if v["key"] != "baycity" else [
                    (desc, 1, price) for desc, _, price in v["items"] if desc != "Bridge toll" or rng.random() < 0.5]
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
            inv = dict(date=d, due=d + dt.timedelta(days=30), number=number, buyer=buyer, lines=lines,
                       subtotal=subtotal, tax=tax, total=total,
                       terms=rng.choice(["Net 30", "Net 30", "Due on receipt", "Net 14"]))
            text = render_receipt(v, inv, rng) if layout == "receipt" else render_en_invoice(v, layout, inv, rng)
            num_value = lambda x: int(x) if v["currency"] == "JPY" else x  # noqa: E731
            expected = {
                "vendor": v["name"],
                "invoice_number": number,
                "issue_date": d.isoformat(),
                "currency": v["currency"],
                "total": num_value(total),
                "line_items": [{"description": desc, "quantity": q, "unit_price": num_value(p)} for desc, q, p in lines],
            }
        else:
            tenant = "stark-cn"
            number = unique_number(lambda: f"26{v['region']}2000000{rng.randint(0, 999999999):09d}")
            lines = _pick_items(v, rng, 1, 4)
            line_tax = [money(money(q * p) * v["rate"]) for _, _, q, p in lines]
            subtotal = money(sum(money(q * p) for _, _, q, p in lines))
            tax = money(sum(line_tax))
            total = money(subtotal + tax)
            inv = dict(date=d, number=number, lines=lines, line_tax=line_tax, subtotal=subtotal, tax=tax, total=total,
                       note=rng.choice(["", "合同号 HT-2026-0" + str(rng.randint(100, 999)), "项目：华东仓扩建",
                                        "11月服务费", "采购订单 PO" + str(rng.randint(260000, 269999))]))
            text = render_zh_invoice(v, layout, inv, rng)
            expected = {
                "vendor": v["name"],
                "invoice_number": number,
                "issue_date": d.isoformat(),
                "currency": "CNY",
                "total": total,
                "line_items": [{"description": desc, "quantity": q, "unit_price": p} for desc, _, q, p in lines],
            }
        specs.append(dict(lang=lang, tenant=tenant, vendor=v["key"], layout=layout, text=text, expected=expected,
                          tax_rate=v.get("tax_rate", v.get("rate", 0.0)), subtotal=subtotal))
    rng.shuffle(specs)
    return specs
