"""Sampling at the source: the worker's rule, decided before anything is recorded.

An exchange is mirrored when ``sample_point(salt, workflow, subject or event_id) < rate`` — the rule of
:class:`shadow.sample.Sampler`, with the same per-workflow rates, default rate and salt — so a worker
configured like the emitter keeps every event the emitter sends, and a conversation is mirrored whole
or not at all. An unsampled call costs one hash.

The subject the worker hashes is the one it receives: with redaction at the source, the redacted
subject. The emitter hashes that same form (see :class:`shadow.emit.Emitter`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shadow.config import Settings
from shadow.config.sticky import sample_point

__all__ = ["SourceSampler"]


@dataclass(frozen=True, slots=True)
class SourceSampler:
    """Per-workflow rates in [0, 1], a default rate and a salt: the worker's ``sampling`` and ``workflows``."""

    rates: Mapping[str, float] = field(default_factory=dict)
    default_rate: float = 1.0
    salt: str = ""

    def __post_init__(self) -> None:
        for name, rate in {**self.rates, "(default)": self.default_rate}.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"sample rate of {name} must be within [0, 1], got {rate}")

    @classmethod
    def from_settings(cls, settings: Settings) -> SourceSampler:
        """The worker's sampling from its settings (``sampling.default_rate``, ``sampling.salt``,
        ``workflows.<name>.sample_rate``)."""
        rates = {name: wf.sample_rate for name, wf in settings.workflows.items() if wf.sample_rate is not None}
        return cls(rates, settings.sampling.default_rate, settings.sampling.salt)

    def rate(self, workflow: str) -> float:
        return self.rates.get(workflow, self.default_rate)

    def sampled(self, workflow: str, key: str) -> bool:
        """Whether the exchange keyed by ``key`` (subject, else event id) of ``workflow`` is mirrored."""
        rate = self.rates.get(workflow, self.default_rate)
        if rate >= 1.0:
            return True
        if rate <= 0.0:
            return False
        return sample_point(self.salt, workflow, key) < rate
