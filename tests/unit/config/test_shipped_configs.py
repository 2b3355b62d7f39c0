"""Every configuration shipped with shadow loads, and chooses its sampling rate instead of inheriting a silent 100%."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shadow.config import Settings

ROOT = Path(__file__).resolve().parents[3]


def shipped() -> list[tuple[str, dict[str, Any]]]:
    found = [(name, yaml.safe_load((ROOT / name).read_text())) for name in
             ("deploy/compose/shadow.yaml", "shadow/demo/demo.yaml")]  # fmt: skip
    for document in yaml.safe_load_all((ROOT / "deploy/kubernetes/worker.yaml").read_text()):
        if document.get("kind") == "ConfigMap" and "shadow.yaml" in document.get("data", {}):
            found.append(("deploy/kubernetes/worker.yaml", yaml.safe_load(document["data"]["shadow.yaml"])))
    # The README's configuration examples: the section "Configuration" (other sections show fragments).
    readme = (ROOT / "README.md").read_text().split("\n## Configuration\n", 1)[1].split("\n### Every setting\n")[0]
    for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and "candidates" in data:
            found.append((f"README.md yaml block {i}", data))
    return found


SHIPPED = shipped()


def test_the_readme_and_deploy_configs_are_all_found() -> None:
    names = [name for name, _ in SHIPPED]
    assert sum(name.startswith("README.md") for name in names) >= 4  # the reference example and three phases
    assert {"deploy/compose/shadow.yaml", "shadow/demo/demo.yaml", "deploy/kubernetes/worker.yaml"} <= set(names)


@pytest.mark.parametrize(("name", "data"), SHIPPED, ids=[name for name, _ in SHIPPED])
def test_a_shipped_config_loads_and_sets_the_default_rate(name: str, data: dict[str, Any]) -> None:
    settings = Settings.model_validate(data)
    assert "default_rate" in settings.sampling.model_fields_set, f"{name}: set sampling.default_rate explicitly"
