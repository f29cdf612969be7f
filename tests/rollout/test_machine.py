"""The pure state machine: transitions, next actions, and resume after a crash."""

from __future__ import annotations

import pytest

from graviton.errors import PreflightError
from graviton.rollout import machine as sm
from graviton.rollout.state import Phase

T = "2026-11-28T00:00:00Z"


def run(start: int = 0, steps: tuple[int, ...] = (25, 50, 75, 100)) -> sm.RolloutState:
    return sm.new_run("r1", steps, start, "x86", "arm", T)


def test_full_walk() -> None:
    s = run()
    seen = []
    while sm.next_action(s) is not sm.Action.STOP:
        assert sm.next_action(s) is sm.Action.START_STEP
        s = sm.begin_step(s, T)
        assert sm.next_action(s) is sm.Action.DEPLOY
        s = sm.settled(s, T)
        assert sm.next_action(s) is sm.Action.BAKE
        s = sm.baked(s, T)
        seen.append((s.current, s.last_good, s.phase))
    assert seen[-1] == (100, 100, Phase.DONE)
    assert [c for c, _, _ in seen] == [25, 50, 75, 100]


def test_fail_rolls_back_to_last_good_and_records_the_step() -> None:
    s = sm.settled(sm.begin_step(sm.baked(sm.settled(sm.begin_step(run(), T), T), T), T), T)
    assert (s.index, s.current, s.last_good) == (1, 50, 25)
    s = sm.fail(s, "alarm a is ALARM", s.last_good, T)
    assert (s.phase, s.current, s.failed_step, s.reason) == (
        Phase.ROLLING_BACK,
        25,
        2,
        "alarm a is ALARM",
    )
    assert sm.next_action(s) is sm.Action.ROLL_BACK
    s = sm.rolled_back(s, T)
    assert s.phase is Phase.ROLLED_BACK and sm.next_action(s) is sm.Action.STOP


def test_illegal_transitions() -> None:
    with pytest.raises(sm.TransitionError):
        sm.baked(run(), T)  # nothing to bake before a step
    with pytest.raises(sm.TransitionError):
        sm.settled(run(), T)
    with pytest.raises(sm.TransitionError):
        sm.fail(run(), "x", 0, T)


def test_once_stops_after_a_good_step() -> None:
    s = sm.baked(sm.settled(sm.begin_step(run(), T), T), T)
    assert sm.next_action(s, once_done=True) is sm.Action.STOP
    assert sm.next_action(s) is sm.Action.START_STEP


def baking_step_2() -> sm.RolloutState:
    s = sm.baked(sm.settled(sm.begin_step(run(), T), T), T)
    return sm.settled(sm.begin_step(s, T), T)


def test_resume_a_bake_never_skips_it() -> None:
    rec = baking_step_2()
    r = sm.resume_or_start(rec, actual=50, requested=rec.steps, fresh=run())
    assert r.resumed and r.state == rec and sm.next_action(r.state) is sm.Action.BAKE


def test_resume_deploying_before_or_after_the_update() -> None:
    rec = sm.begin_step(sm.baked(sm.settled(sm.begin_step(run(), T), T), T), T)
    for actual in (25, 50):  # update not sent yet / sent
        r = sm.resume_or_start(rec, actual=actual, requested=rec.steps, fresh=run())
        assert r.resumed and sm.next_action(r.state) is sm.Action.DEPLOY


def test_resume_when_ecs_reverted_the_step_rolls_back() -> None:
    rec = baking_step_2()
    r = sm.resume_or_start(rec, actual=25, requested=rec.steps, fresh=run())
    assert r.state.phase is Phase.ROLLING_BACK and r.state.current == 25


def test_resume_refuses_drift_and_other_plans() -> None:
    rec = baking_step_2()
    with pytest.raises(PreflightError, match="changed outside graviton"):
        sm.resume_or_start(rec, actual=90, requested=rec.steps, fresh=run())
    with pytest.raises(PreflightError, match="same --step/--to"):
        sm.resume_or_start(rec, actual=50, requested=(10, 20), fresh=run())


def test_between_steps_continue_only_with_same_plan_and_weights() -> None:
    rec = sm.baked(sm.settled(sm.begin_step(run(), T), T), T)
    assert sm.resume_or_start(rec, 25, rec.steps, run(25, (50, 75, 100))).resumed
    assert not sm.resume_or_start(rec, 25, (50, 100), run(25, (50, 100))).resumed
    assert not sm.resume_or_start(rec, 0, rec.steps, run()).resumed


def test_rolled_back_stays_rolled_back_and_a_new_run_starts_fresh() -> None:
    rec = sm.rolled_back(sm.fail(baking_step_2(), "alarm", 25, T), T)
    fresh = run(25, (50, 75, 100))
    r = sm.resume_or_start(rec, 25, rec.steps, fresh)
    assert not r.resumed and r.state == fresh


def test_abort_from_a_bake() -> None:
    s = sm.abort(baking_step_2(), "rolled back by ops", 0, T)
    assert (s.phase, s.current, s.failed_step) == (Phase.ROLLING_BACK, 0, 2)


def test_resume_a_bake_whose_deployment_ecs_replaced_fails_the_step() -> None:
    rec = sm.settled(sm.begin_step(sm.baked(sm.settled(sm.begin_step(run(), T), T), T), T), T, "d2")
    same = sm.resume_or_start(rec, 50, rec.steps, run(), primary="d2")
    assert same.state == rec
    for primary, failed in (("d3", False), ("d2", True)):
        r = sm.resume_or_start(rec, 50, rec.steps, run(), primary=primary, primary_failed=failed)
        assert r.state.phase is Phase.ROLLING_BACK and r.state.current == 25
        assert "deployment d2 of step 2/4" in r.state.reason
