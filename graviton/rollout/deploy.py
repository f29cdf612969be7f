"""Send a step's (or a rollback's) weights and wait for the deployment to settle."""

from __future__ import annotations

from dataclasses import dataclass

from graviton.rollout.ecs import (
    DeploymentState,
    ServiceView,
    TaskCounts,
    deployment_configuration,
)
from graviton.rollout.events import weights
from graviton.rollout.plan import arm_percent, intended_split, strategy_for
from graviton.rollout.preflight import ShiftTarget
from graviton.rollout.session import Session
from graviton.rollout.state import Phase, RolloutState, config_of


@dataclass(frozen=True)
class Sent:
    """The service after :func:`send`: ``deployment`` is the one started (None: nothing sent,
    the weights were already there)."""

    view: ServiceView
    deployment: str | None


def send(session: Session, target: ShiftTarget, state: RolloutState) -> Sent:
    """Make the service's weights ``state.current``: UpdateService with forceNewDeployment and
    the merged deployment configuration, unless the service already has them."""
    ecs, name = session.clients.ecs, target.service.name
    view = ecs.service(target.cluster, name)
    if arm_percent(view.strategy, target.x86, target.arm) == state.current:
        return Sent(view, None)
    wanted = strategy_for(state.current, view.strategy, target.x86, target.arm)
    own = config_of(state)
    config = deployment_configuration(
        own if own is not None else view.deployment_configuration, target.alarms
    )
    view = ecs.update_strategy(target.cluster, name, wanted, config)
    return Sent(view, view.primary.id if view.primary else None)


def announce(session: Session, target: ShiftTarget, state: RolloutState, sent: Sent) -> None:
    if state.phase is Phase.DEPLOYING:
        primary = sent.view.primary
        session.emit(
            "step",
            target.service.name,
            run=state.run_id,
            step=state.index + 1,
            of=len(state.steps),
            weights=weights(state.current),
            deployment=sent.deployment or (primary.id if primary else "-"),
        )


@dataclass(frozen=True)
class Settled:
    deployment: str  # the primary deployment's id
    failure: str | None  # why it did not settle; None when it did
    view: ServiceView | None = None  # the service as last read


def wait_settled(
    session: Session, target: ShiftTarget, state: RolloutState, deployment: str | None
) -> Settled:
    ecs, name, timing, clock = (
        session.clients.ecs,
        target.service.name,
        session.req.timing,
        session.clock,
    )
    started = clock.monotonic()
    last: tuple[str, int, int] | None = None
    while True:
        view: ServiceView = ecs.service(target.cluster, name)
        status = view.deployment_state(deployment)
        primary = view.primary
        pid = primary.id if primary else "-"
        seen = (status, primary.running if primary else 0, view.desired)
        if seen != last:
            session.emit(
                "deployment",
                name,
                step=state.step_label,
                deployment=pid,
                state=primary.rollout_state or status if primary else status,
                running=seen[1],
                desired=seen[2],
            )
            last = seen
        if status is DeploymentState.SETTLED:
            session.emit(
                "settled",
                name,
                step=state.step_label,
                deployment=pid,
                seconds=round(clock.monotonic() - started, 3),
            )
            return Settled(pid, None, view)
        if status is DeploymentState.FAILED:
            why = primary.reason if primary and primary.reason else "replaced by ECS"
            return Settled(pid, f"deployment failed ({why})")
        elapsed = clock.monotonic() - started
        if elapsed >= timing.deploy_timeout:
            return Settled(pid, f"deployment did not settle within {timing.deploy_timeout:g}s")
        session.heartbeat()
        clock.sleep(min(timing.poll, timing.deploy_timeout - elapsed))


def report_split(
    session: Session, target: ShiftTarget, state: RolloutState, view: ServiceView | None = None
) -> tuple[dict[str, int], TaskCounts]:
    """Emit the intended split of ``state.current`` beside the tasks really running (per
    provider, and per CPU architecture of their container instances); return both."""
    ecs = session.clients.ecs
    view = view or ecs.service(target.cluster, target.service.name)
    intended = intended_split(
        strategy_for(state.current, view.strategy, target.x86, target.arm), view.desired
    )
    running = ecs.running_tasks(target.cluster, target.service.name)
    session.emit(
        "split",
        target.service.name,
        step=state.step_label,
        intended=intended,
        running=dict(running.by_provider),
        arch=dict(running.by_arch),
    )
    return intended, running
