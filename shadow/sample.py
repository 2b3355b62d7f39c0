"""Sample stage: which events are replayed, sticky per conversation.

An event is in the sample when a hash of (salt, workflow, subject or event_id)
falls below the workflow's rate, so every event of one conversation (subject)
is in or out together, and raising the rate only adds conversations.

A workflow without a ``sample_rate`` gets ``sampling.default_rate``. When that was not set either,
it is 1.0 by default: the first event of each such workflow replayed logs a warning, so a
workflow nobody listed is not replayed at 100% silently.
"""

from __future__ import annotations

import logging

from shadow.config import Settings
from shadow.config.sticky import sample_point
from shadow.events.models import MirrorEvent

__all__ = ["Sampler", "sample_point"]

log = logging.getLogger(__name__)

MAX_WARNED = 100
"""Workflows warned about at most (workflow names come from the input: their number is not bounded)."""


class Sampler:
    """Decides per event from the configured per-workflow rates."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._implicit_default = "default_rate" not in settings.sampling.model_fields_set
        self._warned: set[str] = set()

    def rate(self, workflow: str) -> float:
        return self._settings.sample_rate(workflow)

    def sampled(self, event: MirrorEvent) -> bool:
        rate = self.rate(event.workflow)
        if rate >= 1.0:
            if self._implicit_default and event.workflow not in self._warned and len(self._warned) < MAX_WARNED:
                self._warn_unlisted(event.workflow)
            return True
        if rate <= 0.0:
            return False
        key = event.subject or event.event_id
        return sample_point(self._settings.sampling.salt, event.workflow, key) < rate

    def _warn_unlisted(self, workflow: str) -> None:
        self._warned.add(workflow)
        if self._settings.workflow(workflow).sample_rate is None:
            log.warning(
                "workflow %r has no sample_rate under workflows: it is replayed at 100%% because "
                "sampling.default_rate is unset; set sampling.default_rate (or workflows.%s.sample_rate) to choose",
                workflow,
                workflow,
            )
