"""The local candidate server streams the way the providers do: the official SDKs read its streams."""

from __future__ import annotations

import anthropic
import openai

from shadow.demo.server import Answer, RecordedToolCall, serve_in_thread

TOOLS = (RecordedToolCall("lookup_order", {"order_id": 1042}),)


def _responder(api, request):
    text = request["messages"][-1]["content"]
    if "tool" in text:
        return Answer(text=None, tool_calls=TOOLS, finish_reason="tool_calls", input_tokens=9, output_tokens=7)
    return Answer.text_answer(f"echo: {text} " * 5)


def test_openai_sdk_reads_streamed_text_tool_calls_and_usage():
    with serve_in_thread(_responder) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
        chunks = list(
            client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "hello"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "echo: hello " * 5
        assert len(chunks) > 3  # delivered in pieces
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(text) // 4
        assert server.received[-1].body["stream"] is True

        with client.chat.completions.stream(model="m", messages=[{"role": "user", "content": "tool please"}]) as s:
            final = s.get_final_completion()
        call = final.choices[0].message.tool_calls[0]
        assert (call.function.name, call.function.arguments) == ("lookup_order", '{"order_id":1042}')
        assert final.choices[0].finish_reason == "tool_calls"


def test_anthropic_sdk_reads_streamed_text_and_tool_use():
    with serve_in_thread(_responder) as server:
        client = anthropic.Anthropic(base_url=server.base_url.removesuffix("/v1"), api_key="local", max_retries=0)
        with client.messages.stream(model="m", max_tokens=100, messages=[{"role": "user", "content": "hi"}]) as s:
            pieces = list(s.text_stream)
            message = s.get_final_message()
        assert "".join(pieces) == "echo: hi " * 5 and len(pieces) > 1
        assert message.stop_reason == "end_turn" and message.usage.output_tokens == len("echo: hi " * 5) // 4
        with client.messages.stream(
            model="m", max_tokens=100, messages=[{"role": "user", "content": "tool please"}]
        ) as s:
            message = s.get_final_message()
        block = message.content[0]
        assert (block.type, block.name, block.input) == ("tool_use", "lookup_order", {"order_id": 1042})
        assert message.stop_reason == "tool_use"
