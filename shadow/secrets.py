"""The one place that scrubs credentials out of texts: known secret values and URL userinfo.

Config printing, ClickHouse DSNs in messages and candidate error texts all use it, so one rule
decides what a leaked ``user:password@`` looks like.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SECRET_MARK = "[SECRET]"
# The look-behind starts a scheme only where a run of scheme characters starts: without it, a long run
# of letters is rescanned from each of its characters (quadratic on a 16 KB log line).
_URL_USERINFO = re.compile(r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def scrub_url_credentials(text: str) -> str:
    """Replace the ``user:password@`` part of every URL in ``text`` with ``[SECRET]@``."""
    return _URL_USERINFO.sub(rf"\1{SECRET_MARK}@", text)


def scrub_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove known secret values (4 characters or longer) and URL credentials from a message."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, SECRET_MARK)
    return scrub_url_credentials(text)
