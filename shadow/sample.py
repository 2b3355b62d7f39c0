"""Sample stage: which events are replayed, sticky per conversation.

An event is in the sample when a hash of (salt, workflow, subject or event_id)
falls below the workflow's rate, so every event of one conversation (subject)
is in or out together, and raising the rate only adds conversations.
"""

from __future__ import annotations

import hashlib

from shadow.config import Settings
from shadow.events.models import MirrorEvent

_SCALE = float(1 << 64)


def sample_point(salt: str, workflow: str, key: str) -> float:
    """A stable point in [0, 1) for a sampling key."""
    digest = hashlib.blake2b(f"{salt}\x1f{workflow}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


class Sampler:
    """Decides per event from the configured per-workflow rates."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def rate(self, workflow: str) -> float:
        return self._settings.sample_rate(workflow)

    def sampled(self, event: MirrorEvent) -> bool:
        rate = self.rate(event.workflow)
        if rate >= 1.0:
            return True
        if rate <= 0.0:
            return False
        key = event.subject or event.event_id
        return sample_point(self._settings.sampling.salt, event.workflow, key) < rate
