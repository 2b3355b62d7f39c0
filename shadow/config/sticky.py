"""The sticky sampling point: one stable number in [0, 1) per (salt, domain, key).

Both samples draw from it: the workflow's (``shadow.sample``, domain = the workflow) and each
candidate's own ``sample_rate`` (``CandidateSettings.scope_skip``, domain ``CANDIDATE_DOMAIN``).
A key is in a sample when its point falls below the rate, so raising a rate only adds keys.
"""

from __future__ import annotations

import hashlib

_SCALE = float(1 << 64)

CANDIDATE_DOMAIN = "\x00candidates"
"""The domain of every candidate's own sample: one for all candidates, so that a candidate at 10%
sees a subset of what one at 50% sees, and none a workflow name takes (no workflow holds a NUL),
so that it is drawn independently of the workflow's sample."""


def sample_point(salt: str, workflow: str, key: str) -> float:
    """A stable point in [0, 1) for a sampling key (``workflow`` is the domain: a workflow's name)."""
    digest = hashlib.blake2b(f"{salt}\x1f{workflow}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE
