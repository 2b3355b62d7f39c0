"""Remote URLs in message content, per candidate (``remote_urls``, issue 12): kept, dropped or refused."""

from __future__ import annotations

import copy

import pytest

from shadow.errors import TranslationError
from shadow.events.models import Api
from shadow.replay.remote import REMOTE_URLS_DROPPED
from shadow.replay.translate import rewrite_request

INTERNAL = "http://10.0.0.7/admin/export.png"


def openai_request() -> dict:
    return {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You describe images."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image_url", "image_url": {"url": INTERNAL}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ]},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}}]},
        ],
    }  # fmt: skip


def anthropic_request() -> dict:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "url", "url": INTERNAL}},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}},
            {"type": "text", "text": "Summarise."},
        ]}],
    }  # fmt: skip


def rewrite(request: dict, source: Api, target: Api, mode: str):
    return rewrite_request(request, source=source, target=target, model="m", overrides={}, remote_urls=mode)


def test_keep_sends_every_url() -> None:
    sent = rewrite(openai_request(), Api.OPENAI_CHAT, Api.OPENAI_CHAT, "keep")
    assert INTERNAL in str(sent.body) and REMOTE_URLS_DROPPED not in sent.changes


@pytest.mark.parametrize(
    ("request_of", "source", "target"),
    [
        (openai_request, Api.OPENAI_CHAT, Api.OPENAI_CHAT),
        (openai_request, Api.OPENAI_CHAT, Api.ANTHROPIC_MESSAGES),
        (anthropic_request, Api.ANTHROPIC_MESSAGES, Api.ANTHROPIC_MESSAGES),
        (anthropic_request, Api.ANTHROPIC_MESSAGES, Api.OPENAI_CHAT),
    ],
)
def test_drop_removes_remote_parts_and_keeps_inline_content(request_of, source: Api, target: Api) -> None:
    production = request_of()
    untouched = copy.deepcopy(production)
    sent = rewrite(production, source, target, "drop")
    assert INTERNAL not in str(sent.body) and "example.com" not in str(sent.body)
    assert REMOTE_URLS_DROPPED in sent.changes
    if source is target:  # inline data stays (cross-API, translation decides what can be expressed)
        assert "iVBORw0KGgo=" in str(sent.body) or "JVBERi0=" in str(sent.body)
    assert production == untouched  # production's request, shared by every candidate, is not modified
    for message in sent.body["messages"]:
        assert message["content"], message  # no message left empty


def test_reject_refuses_naming_the_part_not_the_url() -> None:
    with pytest.raises(TranslationError, match=r"messages\[1\]\.content\[1\] points at a remote URL") as caught:
        rewrite(openai_request(), Api.OPENAI_CHAT, Api.OPENAI_CHAT, "reject")
    assert INTERNAL not in str(caught.value)
    inline_only = {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}  # fmt: skip
    assert rewrite(inline_only, Api.OPENAI_CHAT, Api.OPENAI_CHAT, "reject").body["messages"]
