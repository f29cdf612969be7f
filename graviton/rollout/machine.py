"""The rollout state machine, pure: each function takes a :class:`RolloutState` (and plain
facts) and returns the next one. :mod:`graviton.rollout.drive` performs the I/O between them.

::

    step-good --begin_step--> deploying --settled--> baking --baked--> step-good | done
                                  |                     |
                                  +-------fail----------+--> rolling-back --> rolled-back
    done --finalized--> finalized
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graviton.rollout.state import Phase, RolloutState


class TransitionError(ValueError):
    """A transition that the state machine does not allow (a bug in the caller)."""


def _require(state: RolloutState, *phases: Phase) -> None:
    if state.phase not in phases:
        allowed = ", ".join(p.value for p in phases)
        raise TransitionError(f"in phase {state.phase.value}, expected {allowed}")


def new_run(
    run_id: str, steps: tuple[int, ...], start: int, x86: str, arm: str, now: str
) -> RolloutState:
    """A run that has done nothing yet: the starting weights count as good."""
    return RolloutState(
        run_id=run_id,
        x86=x86,
        arm=arm,
        steps=steps,
        start=start,
        index=-1,
        current=start,
        last_good=start,
        phase=Phase.GOOD if steps else Phase.DONE,
        updated=now,
    )


def begin_step(state: RolloutState, now: str) -> RolloutState:
    _require(state, Phase.GOOD)
    if state.index + 1 >= len(state.steps):
        raise TransitionError("no step left")
    index = state.index + 1
    return state.with_(index=index, current=state.steps[index], phase=Phase.DEPLOYING, updated=now)


def settled(state: RolloutState, now: str, deployment: str = "") -> RolloutState:
    """The step's deployment (id ``deployment``, recorded for a resume) settled: bake it."""
    _require(state, Phase.DEPLOYING)
    return state.with_(phase=Phase.BAKING, updated=now, deployment=deployment)


def baked(state: RolloutState, now: str) -> RolloutState:
    """The bake passed: the step is good; the last one makes the run done."""
    _require(state, Phase.BAKING)
    last = state.index + 1 == len(state.steps)
    return state.with_(
        last_good=state.current, phase=Phase.DONE if last else Phase.GOOD, updated=now
    )


def fail(state: RolloutState, reason: str, rollback_to: int, now: str) -> RolloutState:
    """The step failed (alarm, failed deployment, timeout): roll back to ``rollback_to``."""
    _require(state, Phase.DEPLOYING, Phase.BAKING)
    return state.with_(
        phase=Phase.ROLLING_BACK,
        failed_step=state.index + 1,
        reason=reason,
        current=rollback_to,
        updated=now,
    )


def abort(state: RolloutState, reason: str, rollback_to: int, now: str) -> RolloutState:
    """`graviton rollback`: from any phase, go back to ``rollback_to`` and stay there."""
    failed = state.index + 1 if state.phase in (Phase.DEPLOYING, Phase.BAKING) else None
    return state.with_(
        phase=Phase.ROLLING_BACK,
        failed_step=failed if failed is not None else state.failed_step,
        reason=reason,
        current=rollback_to,
        updated=now,
    )


def rolled_back(state: RolloutState, now: str) -> RolloutState:
    _require(state, Phase.ROLLING_BACK)
    return state.with_(phase=Phase.ROLLED_BACK, updated=now)


def finalized(state: RolloutState, now: str) -> RolloutState:
    _require(state, Phase.DONE)
    return state.with_(phase=Phase.FINALIZED, updated=now)


class Action(StrEnum):
    START_STEP = "start-step"  # send the next step's weights
    DEPLOY = "deploy"  # make sure the step's weights are applied, wait for the deployment
    BAKE = "bake"  # watch the alarms for the bake time
    ROLL_BACK = "roll-back"  # make sure the rollback weights are applied, wait
    STOP = "stop"


def next_action(state: RolloutState, once_done: bool = False) -> Action:
    """What the runner does next; ``once_done`` is True after one step with ``--once``."""
    if state.phase is Phase.GOOD:
        return Action.STOP if once_done else Action.START_STEP
    return {
        Phase.DEPLOYING: Action.DEPLOY,
        Phase.BAKING: Action.BAKE,
        Phase.ROLLING_BACK: Action.ROLL_BACK,
    }.get(state.phase, Action.STOP)


@dataclass(frozen=True)
class Resume:
    """How a run begins: ``state`` to drive, and a note for the user when it resumes."""

    state: RolloutState
    resumed: bool
    note: str = ""


def resume_or_start(
    recorded: RolloutState | None,
    actual: int | None,
    requested: tuple[int, ...] | None,
    fresh: RolloutState,
    primary: str | None = None,
    primary_failed: bool = False,
) -> Resume:
    """Reconcile the state recorded on the service with its real strategy (``actual`` ARM %).

    * an active phase (deploying, baking, rolling-back) always resumes, from that phase: a bake
      is never skipped, and weights never move beyond the last good step without one; a run
      interrupted while deploying or baking whose weights ECS reverted (its own deployment
      rollback) is rolled back; other drift is an error;
    * a bake whose recorded deployment is no longer the service's primary one (``primary``: ECS
      rolled it back, or a new revision was deployed) or whose deployment failed is a failed
      step, never a settled one;
    * a run that stopped between steps (``--once``) continues when the service still has its
      last good weights and the same plan (``requested``, the steps from the run's start);
    * otherwise (done, rolled back, drifted, first run) ``fresh`` starts.
    """
    from graviton.errors import PreflightError

    if recorded is None:
        return Resume(fresh, resumed=False)
    label = f"run {recorded.run_id} ({recorded.phase.value} at step {recorded.step_label})"
    if recorded.phase.active:
        if recorded.phase is not Phase.ROLLING_BACK and requested not in (None, recorded.steps):
            raise PreflightError(
                f"unfinished {label} has steps {_pcts(recorded.steps)}; rerun with the same "
                "--step/--to to resume it, or run `graviton rollback`"
            )
        if (
            recorded.phase is Phase.BAKING
            and recorded.deployment
            and (primary_failed or (primary is not None and primary != recorded.deployment))
        ):
            why = "failed" if primary_failed else f"was replaced by {primary}"
            return Resume(
                fail(
                    recorded,
                    f"deployment {recorded.deployment} of step {recorded.step_label} {why} "
                    "while graviton was away (ECS rollback or a new revision)",
                    recorded.last_good,
                    recorded.updated,
                ),
                resumed=True,
                note=f"resuming {label}: its deployment {why}",
            )
        if actual == recorded.current or recorded.phase is Phase.ROLLING_BACK:
            return Resume(recorded, resumed=True, note=f"resuming {label}")
        if recorded.phase is Phase.DEPLOYING and actual == recorded.last_good:
            return Resume(recorded, resumed=True, note=f"resuming {label}: weights not yet sent")
        if actual == recorded.last_good or actual == recorded.start:
            return Resume(
                fail(
                    recorded,
                    f"weights went back to {actual}% ARM while graviton was away "
                    "(ECS deployment rollback?)",
                    recorded.last_good,
                    recorded.updated,
                ),
                resumed=True,
                note=f"resuming {label}: ECS reverted the step",
            )
        raise PreflightError(
            f"the service is at {actual}% ARM but {label} expected {recorded.current}%; "
            "it was changed outside graviton: run `graviton rollback` or fix the strategy"
        )
    if (
        recorded.phase is Phase.GOOD
        and actual == recorded.last_good
        and requested == recorded.steps
    ):
        return Resume(recorded, resumed=True, note=f"continuing {label}")
    return Resume(fresh, resumed=False)


def _pcts(steps: tuple[int, ...]) -> str:
    return " ".join(f"{s}%" for s in steps)
