"""The order of a rollout key's rows (``gate_rollouts.version``) and the rollout key of a Flagger webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shadow.report.rollouts import Phase, row_version
from shadow.report.serve import flagger_rollout

AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LATER = AT + timedelta(milliseconds=1)


def test_a_reset_outranks_everything_of_the_epoch_before() -> None:
    assert row_version(1, Phase.RESET, AT) > row_version(0, Phase.LATCHED, LATER + timedelta(days=3650))
    assert row_version(1, Phase.PINNED, LATER) > row_version(1, Phase.RESET, AT)


def test_within_an_epoch_the_latch_outranks_the_pin_and_the_first_row_of_a_phase_wins() -> None:
    assert row_version(0, Phase.LATCHED, LATER) > row_version(0, Phase.PINNED, AT)
    assert row_version(0, Phase.LATCHED, AT) > row_version(0, Phase.LATCHED, LATER)
    assert row_version(0, Phase.PINNED, AT) > row_version(0, Phase.PINNED, LATER)
    assert row_version(2**20, Phase.LATCHED, datetime(2020, 1, 1, tzinfo=UTC)) < 2**64


def test_a_flagger_webhook_is_keyed_by_namespace_name_and_revision() -> None:
    payload = {"name": "support-assistant", "namespace": "shop", "checksum": "85d557f47b"}
    assert flagger_rollout(payload, None) == "shop/support-assistant@85d557f47b"
    assert flagger_rollout(payload, "during-traffic") == "shop/support-assistant@85d557f47b/during-traffic"
    assert flagger_rollout({"name": "support-assistant", "namespace": "shop"}, None) == "shop/support-assistant"
    assert flagger_rollout({}, "by-hand") == "by-hand"
    assert flagger_rollout({}, None) is None
