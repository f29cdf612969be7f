"""Preflight checks on the gating alarms."""

from __future__ import annotations

from graviton.checks.alarms import check_alarms


def test_missing_alarm_and_alarm_in_alarm_fail() -> None:
    checks = check_alarms(["a", "b", "c"], {"a": "OK", "b": "ALARM"})
    assert [c.ok for c in checks] == [True, False, False]
    assert "in ALARM" in checks[1].detail and "does not exist" in checks[2].detail


def test_insufficient_data_follows_the_policy() -> None:
    states = {"a": "INSUFFICIENT_DATA"}
    assert not check_alarms(["a"], states)[0].ok  # default: fail, an alarm that cannot see
    assert check_alarms(["a"], states, "wait")[0].ok
    assert check_alarms(["a"], states, "pass")[0].ok


def test_no_alarms_is_a_plain_wait() -> None:
    (check,) = check_alarms([], {})
    assert check.ok and "plain wait" in check.detail


def test_a_resumed_step_leaves_a_firing_alarm_to_its_bake() -> None:
    (check,) = check_alarms(["a"], {"a": "ALARM"}, resuming=True)
    assert check.ok and check.warning and "resumed step's bake" in check.detail
    (missing,) = check_alarms(["a"], {}, resuming=True)
    assert not missing.ok  # a deleted alarm is never waved through
