"""OffsetTracker: the commit point is the lowest unfinished offset, per partition and assignment generation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shadow.events.offsets import OffsetTracker
from shadow.events.records import Position

TP = ("llm.mirror.v1", 0)


def at(offset: int, generation: int, partition: int = 0) -> Position:
    return Position("kafka", TP[0], partition, offset, generation)


@pytest.fixture
def tracker_factory() -> Callable[..., tuple[OffsetTracker, int]]:
    def make(offsets: range = range(10, 15)) -> tuple[OffsetTracker, int]:
        tracker = OffsetTracker()
        generation = tracker.assign(TP)
        for offset in offsets:
            tracker.track(at(offset, generation))
        return tracker, generation

    return make


@pytest.fixture
def tracker(tracker_factory: Callable[..., tuple[OffsetTracker, int]]) -> tuple[OffsetTracker, int]:
    return tracker_factory()


@pytest.mark.parametrize(
    ("finished", "commit_point"),
    [
        ([], None),
        ([11, 12], None),
        ([10], 11),
        ([12, 10], 11),
        ([11, 10], 12),
        ([13, 12, 11, 10], 14),
        ([14, 13, 12, 11, 10], 15),
        ([10, 11, 12, 13, 14], 15),
        ([10, 12, 14], 11),
    ],
)
def test_commit_point_is_lowest_unfinished(
    tracker: tuple[OffsetTracker, int], finished: list[int], commit_point: int | None
) -> None:
    offsets, generation = tracker
    for offset in finished:
        offsets.finish(at(offset, generation))
    expected = {} if commit_point is None else {TP: commit_point}
    assert offsets.commit_points() == expected
    assert offsets.in_flight() == 5 - (0 if commit_point is None else commit_point - 10)


def test_to_commit_reports_only_moved_points(tracker: tuple[OffsetTracker, int]) -> None:
    offsets, generation = tracker
    offsets.finish(at(10, generation))
    assert offsets.to_commit() == {TP: 11}
    offsets.mark_committed({TP: 11})
    assert offsets.to_commit() == {}
    offsets.finish(at(12, generation))
    assert offsets.to_commit() == {}
    offsets.finish(at(11, generation))
    assert offsets.to_commit() == {TP: 13}
    assert offsets.commit_points() == {TP: 13}


def test_partitions_are_independent() -> None:
    offsets = OffsetTracker()
    other = ("llm.mirror.v1", 1)
    g0, g1 = offsets.assign(TP), offsets.assign(other)
    for offset in (0, 1):
        offsets.track(at(offset, g0, 0))
        offsets.track(at(offset, g1, 1))
    offsets.finish(at(1, g0, 0))
    offsets.finish(at(0, g1, 1))
    assert offsets.to_commit() == {other: 1}
    assert offsets.commit_points([TP]) == {}
    assert offsets.in_flight() == 3


def test_revoked_partition_ignores_late_completions(tracker: tuple[OffsetTracker, int]) -> None:
    offsets, old = tracker
    offsets.revoke(TP)
    offsets.finish(at(10, old))
    assert offsets.to_commit() == {}
    assert offsets.in_flight() == 0


def test_reassigned_partition_ignores_completions_of_the_old_generation(tracker: tuple[OffsetTracker, int]) -> None:
    offsets, old = tracker
    offsets.finish(at(10, old))
    offsets.revoke(TP)
    new = offsets.assign(TP)
    assert new != old
    # The new owner starts again from the committed offset 11.
    for offset in (11, 12, 13):
        offsets.track(at(offset, new))
    offsets.track(at(20, old))  # a stale arrival is not tracked
    for offset in (11, 12, 13):
        offsets.finish(at(offset, old))  # late completions from before the revoke
    assert offsets.to_commit() == {}
    assert offsets.in_flight() == 3
    offsets.finish(at(11, new))
    assert offsets.to_commit() == {TP: 12}


def test_generation_assigns_unknown_partitions() -> None:
    offsets = OffsetTracker()
    first = offsets.generation(TP)
    assert first is not None and offsets.generation(TP) == first


def test_mark_committed_ignores_unknown_partitions(tracker: tuple[OffsetTracker, int]) -> None:
    offsets, generation = tracker
    offsets.mark_committed({("other.topic", 3): 99})
    offsets.finish(at(10, generation))
    assert offsets.to_commit() == {TP: 11}


def test_a_revoked_partition_is_not_tracked_again_until_it_is_assigned() -> None:
    offsets = OffsetTracker()
    assert offsets.generation(TP) == 1  # never assigned (a source without a group): tracked at once
    offsets.revoke(TP)
    assert offsets.generation(TP) is None  # its records now belong to another worker
    assert offsets.to_commit() == {}
    assert offsets.assign(TP) == 2 and offsets.generation(TP) == 2
