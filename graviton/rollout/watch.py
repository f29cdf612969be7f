"""The bake's I/O loop: read the alarms (and the service, to see a deployment replaced or the
run taken over) once per poll and let :func:`graviton.rollout.bake.judge_bake` decide."""

from __future__ import annotations

from dataclasses import dataclass

from graviton.rollout.bake import (
    AlarmReading,
    BakeOutcome,
    BakePolicy,
    BakeProgress,
    hidden_change,
    judge_bake,
)
from graviton.rollout.plan import arm_percent
from graviton.rollout.preflight import ShiftTarget
from graviton.rollout.session import Session
from graviton.rollout.state import Phase, RolloutState
from graviton.timeutil import parse_iso


@dataclass(frozen=True)
class BakeResult:
    outcome: BakeOutcome  # PASS, FAIL or TAKEOVER
    reason: str


def _taken_over(
    session: Session, target: ShiftTarget, state: RolloutState
) -> tuple[str | None, str | None]:
    """(takeover reason, failure reason) when the step's deployment is no longer the primary
    one: `graviton rollback` (or someone) took over, or ECS replaced it (its own rollback)."""
    if not state.deployment:
        return None, None
    view = session.clients.ecs.service(target.cluster, target.service.name)
    primary = view.primary
    if primary is not None and primary.id == state.deployment and primary.rollout_state != "FAILED":
        return None, None
    recorded = session.read_state(target.service.arn)
    if recorded is None or recorded.run_id != state.run_id or recorded.phase is not Phase.BAKING:
        who = recorded.phase.value if recorded else "state removed"
        return f"the run was taken over ({who}) by `graviton rollback`", None
    now = arm_percent(view.strategy, target.x86, target.arm)
    if now not in (state.current, state.last_good):
        return (
            f"the service was changed outside this controller (now {now}% ARM); nothing was moved",
            None,
        )
    got = primary.id if primary else "none"
    return None, (
        f"deployment {state.deployment} of step {state.step_label} was replaced by {got} "
        "during the bake (ECS rollback?)"
    )


def bake(
    session: Session, target: ShiftTarget, state: RolloutState, resumed: bool = False
) -> BakeResult:
    """Watch the alarms for the bake time. A resumed bake starts again from zero, and judges
    every alarm change since the step began baking (while no controller watched)."""
    req, clock, name = session.req, session.clock, target.service.name
    timing = req.timing
    policy = BakePolicy(timing.bake, req.on_insufficient_data, timing.deploy_timeout)
    session.emit(
        "bake", name, step=state.step_label, seconds=timing.bake, alarms=list(target.alarms)
    )
    since = (parse_iso(state.updated) if resumed else None) or clock.wall()
    progress = BakeProgress(seen={a: s for (svc, a), s in session.seen.items() if svc == name})
    while True:
        readings = session.clients.alarms.states(target.alarms) if target.alarms else {}
        for alarm, reading in list(readings.items()):
            if reading.state != "ALARM" and hidden_change(reading, progress.seen.get(alarm), since):
                seen = progress.seen.get(alarm)
                start = seen.updated if seen and seen.updated is not None else since
                history = session.clients.alarms.entered_since(alarm, start)
                readings[alarm] = AlarmReading(
                    reading.name, reading.state, reading.updated, reading.reason, history
                )
        for alarm in target.alarms:
            before = progress.seen.get(alarm)
            value = readings[alarm].state if alarm in readings else "MISSING"
            if before is None or before.state != value:
                session.emit(
                    "alarm",
                    name,
                    name=alarm,
                    state=value,
                    previous=before.state if before else None,
                    reason=readings[alarm].reason if alarm in readings else "alarm deleted",
                )
        takeover, failure = _taken_over(session, target, state)
        if failure is not None:
            return BakeResult(BakeOutcome.FAIL, failure)
        decision = judge_bake(
            readings,
            policy,
            since,
            clock.wall(),
            watched=target.alarms,
            progress=progress,
            taken_over=takeover,
            step=state.step_label,
        )
        progress = decision.progress
        for alarm, seen in progress.seen.items():
            session.seen[(name, alarm)] = seen
        if decision.outcome is not BakeOutcome.WAIT and decision.outcome is not BakeOutcome.PASS:
            return BakeResult(decision.outcome, decision.reason)
        session.emit(
            "tick",
            name,
            step=state.step_label,
            remaining_s=decision.remaining_s,
            alarms={a: readings[a].state for a in target.alarms if a in readings},
            paused=decision.paused,
        )
        if decision.outcome is BakeOutcome.PASS:
            return BakeResult(BakeOutcome.PASS, decision.reason)
        session.heartbeat()
        # jitter below the poll interval: an alarm is seen at most one poll after it fires
        clock.sleep(min(timing.poll * (1 - 0.2 * clock.jitter()), max(decision.remaining_s, 0.05)))
