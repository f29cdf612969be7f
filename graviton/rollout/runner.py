"""A shift run end to end: preflight every service (reads only), show the plan, take the
leases, re-read each service under its lease, then drive (or finalize) it.

The parts: :mod:`.preflight` (checks), :mod:`.drive` (steps), :mod:`.deploy` (weights and the
deployment wait), :mod:`.watch` + :mod:`.bake` (the bake), :mod:`.finalize`, :mod:`.manual`
(`graviton rollback`), :mod:`.status` (`graviton status`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack

from graviton.checks.ecs import PreflightCheck
from graviton.errors import UsageError
from graviton.rollout.drive import drive
from graviton.rollout.events import Sink
from graviton.rollout.finalize import finalize
from graviton.rollout.lock import Lease
from graviton.rollout.manual import manual_rollback
from graviton.rollout.plan import arm_percent, plan_steps
from graviton.rollout.preflight import Clients, ShiftTarget, preflight
from graviton.rollout.request import EXIT_OK, Clock, RollbackTo, ShiftRequest
from graviton.rollout.session import Session
from graviton.rollout.state import Phase

__all__ = ["Clock", "Runner", "ShiftRequest", "run"]


def run(session: Session) -> int:
    req = session.req
    targets = [
        preflight(  # every service passes preflight before anything changes
            session.clients,
            req.cluster,
            name,
            x86=req.x86,
            arm=req.arm,
            alarms=req.alarms,
            on_insufficient_data=req.on_insufficient_data,
            emit=_check_reporter(session, name),
            strict_images=req.strict_images,
            to=req.to,
        )
        for name in req.services
    ]
    for target in targets:
        session.remember(target.service.arn, target.tags)
        steps, start, run_id = _plan(req, target)
        session.emit(
            "plan",
            target.service.name,
            run=run_id,
            x86_provider=target.x86,
            arm_provider=target.arm,
            start=start,
            steps=list(steps),
            bake_s=req.timing.bake,
            poll_s=req.timing.poll,
            deploy_timeout_s=req.timing.deploy_timeout,
            alarms=list(target.alarms),
            dry_run=req.dry_run,
        )
    if req.dry_run:
        return EXIT_OK
    with ExitStack() as stack:
        _lock(session, stack, targets)
        for target in targets:
            fresh = _reread(session, target)
            code = finalize(session, fresh) if req.finalize else drive(session, fresh)
            if code != EXIT_OK:
                return code
    return EXIT_OK


def _check_reporter(session: Session, service: str) -> Callable[[PreflightCheck], None]:
    return lambda check: session.emit("check", service, **check.to_json())


def _reread(session: Session, target: ShiftTarget) -> ShiftTarget:
    """The service and its recorded run as they are now, under the lease: preflight ran
    before it, and another controller may have moved the service meanwhile."""
    from graviton.errors import PreflightError

    view = session.clients.ecs.service(target.cluster, target.service.name)
    recorded = session.read_state(view.arn)
    percent = arm_percent(view.strategy, target.x86, target.arm)
    if percent is None:
        raise PreflightError(
            f"{view.name}: neither provider carries weight in the strategy any more"
        )
    return target.with_(service=view, recorded=recorded, percent=percent)


def _plan(req: ShiftRequest, target: ShiftTarget) -> tuple[tuple[int, ...], int, str]:
    """(steps, start, run id) shown by the plan event: the recorded run's when it will be
    resumed, else a new one."""
    if req.finalize:
        return (), target.percent, "-"
    recorded = target.recorded
    if recorded is not None and (recorded.phase.active or recorded.phase is Phase.GOOD):
        try:
            requested = plan_steps(recorded.start, req.step, req.to)
        except UsageError:  # the recorded start is beyond the new --to
            requested = None
        if recorded.phase.active or requested == recorded.steps:
            return recorded.steps, recorded.start, recorded.run_id
    return plan_steps(target.percent, req.step, req.to), target.percent, "new"


def _lock(session: Session, stack: ExitStack, targets: Sequence[ShiftTarget]) -> None:
    req = session.req
    if not req.lock_table:
        return
    for target in sorted(targets, key=lambda t: t.service.name):
        lease = Lease(
            session.clients("dynamodb"),
            req.lock_table,
            Lease.key_for(req.cluster, target.service.name),
            ttl=max(60.0, 4 * req.timing.poll),
        )
        lease.acquire()
        stack.callback(lease.release)
        session.leases.append(lease)
        session.emit("lock", target.service.name, table=req.lock_table, owner=lease.owner)


class Runner:
    """The entry points over one :class:`Session` (CLI, tests, bench)."""

    def __init__(
        self, request: ShiftRequest, clients: Clients, sink: Sink, clock: Clock | None = None
    ) -> None:
        self.session = Session(request, clients, sink, clock or Clock())

    def run(self) -> int:
        return run(self.session)

    def rollback(self, service: str, to: str, who: str) -> int:
        return manual_rollback(self.session, service, RollbackTo(to), who)
