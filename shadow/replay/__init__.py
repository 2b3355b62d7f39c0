"""Replay stage: a mirror event's request sent to each candidate model over HTTP."""
