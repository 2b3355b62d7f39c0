"""``shadow diff`` reads Responses API bodies (issue 13): detected by their ``output`` array, or named with --api."""

from __future__ import annotations

import orjson
import pytest

from shadow.cli import main
from tests.factories import openai_response
from tests.responses_factories import FLAT_WEATHER_TOOL, responses_request, responses_response


def test_a_responses_body_against_a_chat_body(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SHADOW_CONFIG", raising=False)
    production = tmp_path / "prod.json"
    candidate = tmp_path / "cand.json"
    request = tmp_path / "req.json"
    production.write_bytes(orjson.dumps(responses_response(None, tool_calls=[("get_weather", {"city": "Oslo"})])))
    candidate.write_bytes(orjson.dumps(openai_response(None, tool_calls=[("get_weather", {"town": "Oslo"})])))
    request.write_bytes(orjson.dumps(responses_request(tools=[FLAT_WEATHER_TOOL])))

    assert main(["diff", str(production), str(candidate), "--request", str(request)]) == 0

    printed = orjson.loads(capsys.readouterr().out)
    assert printed["tool_calls"]["count"] == {"production": 1, "candidate": 1}
    assert printed["tool_calls"]["schema_valid"] == {"production": True, "candidate": False}


@pytest.mark.parametrize("api", ["responses", None])
def test_two_responses_bodies(tmp_path, capsys, monkeypatch, api) -> None:
    monkeypatch.delenv("SHADOW_CONFIG", raising=False)
    paths = []
    for name, text in (("a", "Paris"), ("b", "Paris, France")):
        path = tmp_path / f"{name}.json"
        path.write_bytes(orjson.dumps(responses_response(text)))
        paths.append(str(path))
    assert main(["diff", *paths, *(["--api", api] if api else [])]) == 0
    printed = orjson.loads(capsys.readouterr().out)
    assert printed["length"]["chars"] == {"production": 5, "candidate": 13}
