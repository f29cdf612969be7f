"""The bake policy, pure: wait / pass / takeover / fail, deleted and flapping alarms."""

from __future__ import annotations

from graviton.rollout.bake import (
    AlarmReading,
    BakeOutcome,
    BakePolicy,
    BakeProgress,
    NoData,
    Seen,
    judge_bake,
)

T0 = 1_000_000.0
POLICY = BakePolicy(bake_s=10, no_data=NoData.FAIL, no_data_limit_s=30)


def ok(name: str = "a", updated: float = T0 - 100, **kw: object) -> dict[str, AlarmReading]:
    return {name: AlarmReading(name, "OK", updated, **kw)}  # type: ignore[arg-type]


def test_wait_then_pass_after_the_bake_time() -> None:
    first = judge_bake(ok(), POLICY, T0, T0)
    assert first.outcome is BakeOutcome.WAIT and first.remaining_s == 10
    mid = judge_bake(ok(), POLICY, T0, T0 + 4, progress=first.progress)
    assert mid.outcome is BakeOutcome.WAIT and mid.remaining_s == 6
    done = judge_bake(ok(), POLICY, T0, T0 + 10, progress=mid.progress)
    assert done.outcome is BakeOutcome.PASS


def test_takeover_wins_over_everything() -> None:
    firing = {"a": AlarmReading("a", "ALARM", T0 + 1)}
    d = judge_bake(firing, POLICY, T0, T0 + 1, taken_over="rolled back by ops")
    assert d.outcome is BakeOutcome.TAKEOVER and d.reason == "rolled back by ops"


def test_alarm_fails() -> None:
    d = judge_bake({"a": AlarmReading("a", "ALARM", T0 + 1)}, POLICY, T0, T0 + 1, step="2/4")
    assert d.outcome is BakeOutcome.FAIL
    assert d.reason == "alarm a is ALARM during the bake of step 2/4"


def test_deleted_alarm_fails_whatever_the_no_data_policy() -> None:
    for no_data in NoData:
        policy = BakePolicy(10, no_data, 30)
        d = judge_bake({}, policy, T0, T0 + 1, watched=["a"])
        assert d.outcome is BakeOutcome.FAIL and "deleted" in d.reason


def test_no_data_fail_wait_pass() -> None:
    blind = {"a": AlarmReading("a", "INSUFFICIENT_DATA", T0 - 100)}
    assert judge_bake(blind, POLICY, T0, T0).outcome is BakeOutcome.FAIL
    wait = BakePolicy(10, NoData.WAIT, 30)
    d = judge_bake(blind, wait, T0, T0)
    assert d.outcome is BakeOutcome.WAIT and d.paused
    d = judge_bake(blind, wait, T0, T0 + 20, progress=d.progress)
    assert d.outcome is BakeOutcome.WAIT and d.progress.baked_s == 0  # paused time not counted
    assert judge_bake(blind, wait, T0, T0 + 30, progress=d.progress).outcome is BakeOutcome.FAIL
    passing = BakePolicy(10, NoData.PASS, 30)
    d = judge_bake(blind, passing, T0, T0)
    d = judge_bake(blind, passing, T0, T0 + 10, progress=d.progress)
    assert d.outcome is BakeOutcome.PASS


def test_an_alarm_that_came_and_went_between_two_polls_fails() -> None:
    seen = BakeProgress(last=T0, seen={"a": Seen("OK", T0 - 100)})
    # OK -> ALARM -> OK between two polls: the state is OK again, its timestamp moved
    flapped = ok(updated=T0 + 3)
    d = judge_bake(flapped, POLICY, T0, T0 + 5, progress=seen)
    assert d.outcome is BakeOutcome.FAIL and "history could not be read" in d.reason
    d = judge_bake(ok(updated=T0 + 3, history=("ALARM", "OK")), POLICY, T0, T0 + 5, progress=seen)
    assert d.outcome is BakeOutcome.FAIL and "was ALARM between two polls" in d.reason
    d = judge_bake(ok(updated=T0 + 3, history=("OK",)), POLICY, T0, T0 + 5, progress=seen)
    assert d.outcome is BakeOutcome.WAIT
    # a change the poll saw (OK -> INSUFFICIENT_DATA -> OK seen as two readings) is no flap
    d = judge_bake(ok(updated=T0 - 100), POLICY, T0, T0 + 5, progress=seen)
    assert d.outcome is BakeOutcome.WAIT


def test_a_change_while_no_controller_ran_is_judged_on_resume() -> None:
    # never seen by this process: a state change after the bake began is judged by history
    d = judge_bake(ok(updated=T0 + 3), POLICY, T0, T0 + 60)
    assert d.outcome is BakeOutcome.FAIL
    assert judge_bake(ok(updated=T0 - 3), POLICY, T0, T0 + 60).outcome is BakeOutcome.WAIT


def test_a_history_entry_that_names_no_state_is_not_a_pass() -> None:
    seen = BakeProgress(last=T0, seen={"a": Seen("OK", T0 - 100)})
    d = judge_bake(ok(updated=T0 + 3, history=("?", "OK")), POLICY, T0, T0 + 5, progress=seen)
    assert d.outcome is BakeOutcome.FAIL


def test_alarm_history_items_are_read_from_their_data() -> None:
    from graviton.rollout.alarms import _new_state

    data = '{"oldState":{"stateValue":"OK"},"newState":{"stateValue":"ALARM"}}'
    assert _new_state({"HistoryData": data}) == "ALARM"
    assert _new_state({"HistorySummary": "Alarm updated from ALARM to OK"}) == "OK"
    assert _new_state({}) == "?"
