"""The configuration reference the README carries, generated from the settings' models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import (
    BaseModel,
)

from shadow.config import (
    CandidateSettings,
    PriceSettings,
    RedactionRule,
    RedactionSettings,
    Settings,
    WorkflowSettings,
)


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation)
    text = re.sub(r"typing\.|shadow\.\w+\.\w+\.|pydantic\.types\.|<class '([^']+)'>", r"\1", text)
    text = re.sub(r"^Optional\[(.*)\]$", r"\1 | None", text)
    text = re.sub(r"\bNone(Type)?\b", "null", text).replace("Literal", "one of ")
    return text.replace("|", "\\|")


def _default_text(field: Any) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return ""
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            return "see description"
        return f"`{value!r}`" if value else "empty"
    return "`null`" if field.default is None else f"`{field.default!r}`"


def config_reference() -> str:
    """Every setting as Markdown tables (the README's configuration reference is generated from this)."""
    sections: list[tuple[str, type[BaseModel], str]] = [("", Settings, "SHADOW_")]
    lines: list[str] = []
    containers: dict[str, tuple[str, type[BaseModel]]] = {
        "candidates": ("candidates[]", CandidateSettings),
        "workflows": ("workflows.<name>", WorkflowSettings),
        "prices": ("prices.<model>", PriceSettings),
    }
    while sections:
        prefix, model, env = sections.pop(0)
        rows = []
        for name, field in model.model_fields.items():
            key = f"{prefix}{name}"
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                sections.append((f"{key}.", annotation, f"{env}{name.upper()}__"))
                continue
            if model is Settings and name in containers:
                label, sub = containers[name]
                sections.append((f"{label}.", sub, ""))
                rows.append((key, "list" if name == "candidates" else "map", "empty", field.description or "", ""))
                continue
            if model is RedactionSettings and name == "rules":
                sections.append(("redaction.rules[].", RedactionRule, ""))
            env_name = f"{env}{name.upper()}" if env else ""
            rows.append((key, _type_name(annotation), _default_text(field), field.description or "", env_name))
        title = prefix.rstrip(".") or "top level"
        lines += [
            f"#### `{title}`",
            "",
            "| setting | type | default | environment | description |",
            "|---|---|---|---|---|",
        ]
        for key, kind, default, description, env_name in rows:
            env_cell = f"`{env_name}`" if env_name else ""
            lines.append(f"| `{key}` | {kind} | {default} | {env_cell} | {description} |")
        lines.append("")
    return "\n".join(lines)
