"""``shadow diff`` compares with the caps of the configuration it is given, as the worker does."""

from __future__ import annotations

import orjson
import pytest

from shadow.cli import main
from tests.factories import openai_response


@pytest.mark.parametrize(("max_tool_calls", "capped"), [(1, True), (32, False)])
def test_diff_uses_the_configured_caps(tmp_path, capsys, monkeypatch, max_tool_calls: int, capped: bool) -> None:
    monkeypatch.delenv("SHADOW_CONFIG", raising=False)
    calls = [("lookup", {"order_id": f"A{i}"}) for i in range(3)]
    production = tmp_path / "prod.json"
    candidate = tmp_path / "cand.json"
    production.write_bytes(orjson.dumps(openai_response(None, tool_calls=calls)))
    candidate.write_bytes(orjson.dumps(openai_response(None, tool_calls=calls[::-1])))
    config = tmp_path / "shadow.yaml"
    config.write_text(f"diff:\n  max_tool_calls: {max_tool_calls}\n")

    assert main(["diff", str(production), str(candidate), "--config", str(config)]) == 0

    printed = orjson.loads(capsys.readouterr().out)
    assert ("tool_calls" in printed["caps"]) is capped
