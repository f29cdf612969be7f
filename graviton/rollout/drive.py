"""Drive one service through its steps: the pure transitions of :mod:`graviton.rollout.machine`
with the I/O between them (send weights, wait, bake, roll back), the state saved after each.

Order of writes: a step's state is recorded *before* its weights go out (a rerun must know a
step was started); a rollback's weights go out *before* anything is recorded (a rollback never
depends on the bookkeeping; the state is written best-effort after and repaired by the next
run)."""

from __future__ import annotations

from graviton.errors import PreflightError, UsageError, one_line
from graviton.rollout import machine as sm
from graviton.rollout.bake import BakeOutcome
from graviton.rollout.deploy import Sent, announce, report_split, send, wait_settled
from graviton.rollout.events import weights
from graviton.rollout.plan import plan_steps
from graviton.rollout.preflight import ShiftTarget
from graviton.rollout.request import EXIT_OK, EXIT_ROLLED_BACK, RollbackTo, new_run_id
from graviton.rollout.session import Session
from graviton.rollout.state import Phase, RolloutState, config_json, config_of
from graviton.rollout.watch import bake


def _aws_errors() -> tuple[type[BaseException], ...]:
    import botocore.exceptions

    return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)


def drive(session: Session, target: ShiftTarget) -> int:
    req, name = session.req, target.service.name
    recorded = target.recorded
    requested: tuple[int, ...] | None = None
    if recorded is not None:
        try:
            requested = plan_steps(recorded.start, req.step, req.to)
        except UsageError:  # the recorded start is beyond the new --to
            requested = None
    steps = plan_steps(target.percent, req.step, req.to)
    fresh = sm.new_run(
        new_run_id(session.clock),
        steps,
        target.percent,
        target.x86,
        target.arm,
        session.clock.iso(),
    ).with_(
        lock=req.lock_table or "",
        saved_config=config_json(target.service.deployment_configuration),
    )
    primary = target.service.primary
    begin = sm.resume_or_start(
        recorded,
        target.percent,
        requested,
        fresh,
        primary=primary.id if primary else None,
        primary_failed=bool(primary and primary.rollout_state == "FAILED"),
    )
    state = begin.state
    resumed_bake = False
    if begin.resumed:
        if (state.x86, state.arm) != (target.x86, target.arm):
            raise PreflightError(
                f"{name}: run {state.run_id} uses providers {state.x86}/{state.arm}, not "
                f"{target.x86}/{target.arm}"
            )
        session.emit(
            "resume",
            name,
            run=state.run_id,
            phase=state.phase.value,
            step=state.step_label,
            note=begin.note,
        )
        resumed_bake = state.phase is Phase.BAKING
        if state.phase is Phase.ROLLING_BACK and recorded and recorded.phase is not state.phase:
            announce_rollback(session, target, state)
        state = state.with_(lock=req.lock_table or state.lock)
    elif not steps:
        session.emit("nothing", name, reason=f"already at {target.percent}% ARM (--to {req.to})")
        return EXIT_OK
    else:
        state = session.save(target, state)
    return _loop(session, target, state, resumed_bake)


def _loop(session: Session, target: ShiftTarget, state: RolloutState, resumed_bake: bool) -> int:
    name, req = target.service.name, session.req
    once_done = False
    while True:
        action = sm.next_action(state, once_done)
        if action is sm.Action.STOP:
            break
        if action is sm.Action.START_STEP:
            before = state
            state = session.save(target, sm.begin_step(state, session.clock.iso()))
            try:
                sent = send(session, target, state)
            except _aws_errors():
                # UpdateService was refused: the step never started, so no `deploying` state
                # may stay behind (it would refuse later runs with other flags)
                session.save_best_effort(target, before)
                raise
            state = _deployed(session, target, state, sent)
        elif action is sm.Action.DEPLOY:  # a resumed deploying step
            sent = send(session, target, state)
            state = _deployed(session, target, state, sent)
        elif action is sm.Action.BAKE:
            try:
                result = bake(session, target, state, resumed=resumed_bake)
            except _aws_errors():
                _emergency_rollback(session, target, state)
                raise
            resumed_bake = False
            if result.outcome is BakeOutcome.TAKEOVER:
                session.emit("aborted", name, reason=result.reason)
                return EXIT_ROLLED_BACK
            if result.outcome is BakeOutcome.FAIL:
                state = fail(session, target, state, result.reason)
                continue
            intended, running = report_split(session, target, state)  # after the bake
            wanted = intended.get(target.arm, 0)
            if wanted and not running.by_arch.get("arm64", 0):
                state = fail(
                    session,
                    target,
                    state,
                    f"no task ran on an arm64 container instance during the bake of step "
                    f"{state.step_label} ({wanted} intended, running by architecture: "
                    f"{dict(running.by_arch) or 'none'}): the step was not tested",
                )
                continue
            state = session.save(target, sm.baked(state, session.clock.iso()))
            session.emit("good", name, step=state.step_label, weights=weights(state.current))
            once_done = req.once
        elif action is sm.Action.ROLL_BACK:
            return roll_back(session, target, state)
    if state.phase is Phase.DONE:
        restore_config(session, target, state)
        session.emit("done", name, weights=weights(state.current))
    return EXIT_OK


def _deployed(
    session: Session, target: ShiftTarget, state: RolloutState, sent: Sent
) -> RolloutState:
    announce(session, target, state, sent)
    try:
        settled = wait_settled(session, target, state, sent.deployment)
        if settled.failure is not None:
            return fail(session, target, state, settled.failure)
        state = session.save(target, sm.settled(state, session.clock.iso(), settled.deployment))
    except _aws_errors():
        _emergency_rollback(session, target, state)
        raise
    report_split(session, target, state, settled.view)
    return state


def _emergency_rollback(session: Session, target: ShiftTarget, state: RolloutState) -> None:
    """AWS failed mid-step (after retries): what was not proven is not kept. The rollback
    weights go out first, then the state, best-effort; the error is then raised (exit 3)."""
    if state.phase not in (Phase.DEPLOYING, Phase.BAKING):
        return
    reason = "AWS error in the middle of the step"
    state = sm.fail(state, reason, _rollback_target(session, state), session.clock.iso())
    try:
        send(session, target, state)
    finally:
        session.save_best_effort(target, state)


def _rollback_target(session: Session, state: RolloutState) -> int:
    return 0 if session.req.rollback_to is RollbackTo.X86 else state.last_good


def announce_rollback(session: Session, target: ShiftTarget, state: RolloutState) -> None:
    session.emit(
        "rollback",
        target.service.name,
        step=f"{state.failed_step}/{len(state.steps)}",
        reason=state.reason,
        weights=weights(state.current),
    )


def fail(session: Session, target: ShiftTarget, state: RolloutState, reason: str) -> RolloutState:
    """The step failed: the state to roll back to (nothing written yet: the rollback's weights
    go out first, in :func:`roll_back`)."""
    state = sm.fail(state, reason, _rollback_target(session, state), session.clock.iso())
    announce_rollback(session, target, state)
    return state


def roll_back(
    session: Session, target: ShiftTarget, state: RolloutState, failed_label: str | None = None
) -> int:
    """Send the rollback weights FIRST, then record (best-effort), wait, record rolled back,
    restore the service's own deployment configuration. Exit 1 (rolled back)."""
    try:
        sent = send(session, target, state)
    except _aws_errors():
        session.save_best_effort(target, state)  # a rerun resumes the rollback
        raise
    state = session.save_best_effort(target, state)
    settled = wait_settled(session, target, state, sent.deployment)
    reason = state.reason + (
        f"; the rollback deployment: {settled.failure}" if settled.failure else ""
    )
    state = session.save_best_effort(
        target, sm.rolled_back(state.with_(reason=reason), session.clock.iso())
    )
    restore_config(session, target, state)
    report_split(session, target, state)
    session.emit(
        "rolled_back",
        target.service.name,
        failed_step=failed_label or f"{state.failed_step}/{len(state.steps)}",
        reason=state.reason,
        weights=weights(state.current),
    )
    return EXIT_ROLLED_BACK if failed_label is None or settled.failure else EXIT_OK


def restore_config(session: Session, target: ShiftTarget, state: RolloutState) -> None:
    """Put the service's own deployment configuration back, exactly as it was before the run."""
    own = config_of(state)
    if own is None:
        return
    current = session.clients.ecs.service(target.cluster, target.service.name)
    if config_json(current.deployment_configuration) == config_json(own):
        return
    try:
        session.clients.ecs.set_deployment_configuration(target.cluster, target.service.name, own)
    except _aws_errors() as exc:
        session.emit(
            "warning",
            target.service.name,
            message=f"could not restore the service's deployment configuration: "
            f"{one_line(str(exc))}",
        )
