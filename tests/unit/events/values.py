"""Event dicts shared by the events tests."""

from __future__ import annotations

from typing import Any

from tests.factories import make_event


def event_with(**changes: Any) -> dict[str, Any]:
    """A valid event with top-level fields replaced (a value of ``...`` deletes the field)."""
    event = make_event(event_id="evt_0001")
    for key, value in changes.items():
        if value is ...:
            event.pop(key)
        else:
            event[key] = value
    return event
