"""The base of every configuration section: frozen, unknown keys refused; the name rule."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
