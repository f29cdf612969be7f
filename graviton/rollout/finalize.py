"""``graviton shift --finalize``: after a completed shift to 100% ARM, drop the x86 provider
from the strategy (its base moves to ARM); with ``--scale-in-x86``, decommission the x86
provider with the same code as ``graviton capacity decommission``: it refuses (exit 2, before
this service's strategy changes) while another service, the cluster default strategy or a task
still uses it, then detaches it, drains its container instances and scales its group to 0."""

from __future__ import annotations

from graviton.capacity.decommission import DecommissionClients, DecommissionRequest, decommission
from graviton.errors import PreflightError
from graviton.rollout import machine as sm
from graviton.rollout.deploy import wait_settled
from graviton.rollout.plan import finalized_strategy
from graviton.rollout.preflight import ShiftTarget
from graviton.rollout.request import EXIT_OK
from graviton.rollout.session import Session
from graviton.rollout.state import Phase


def decommission_x86(session: Session, target: ShiftTarget, *, dry_run: bool) -> bool:
    """Decommission the x86 provider (``dry_run``: only check that nothing else uses it, which
    raises ``DecommissionRefused``, exit 2). True when the group was scaled in."""
    clients = session.clients
    request = DecommissionRequest(
        target.cluster,
        target.x86,
        dry_run=dry_run,
        timeout=session.req.timing.deploy_timeout,
        poll=session.req.timing.poll,
    )
    decommission(
        DecommissionClients(clients("ecs"), clients("autoscaling"), clients("ec2")),
        request,
        emit=None if dry_run else lambda line: session.emit("decommission", None, action=line),
    )
    return not dry_run


def finalize(session: Session, target: ShiftTarget) -> int:
    name, recorded = target.service.name, target.recorded
    if target.percent != 100 or (
        recorded is not None and recorded.phase not in (Phase.DONE, Phase.FINALIZED)
    ):
        raise PreflightError(
            f"{name}: finalize needs a completed shift to 100% ARM (now {target.percent}%)"
        )
    if session.req.scale_in_x86:  # refuse before anything changes
        decommission_x86(session, target, dry_run=True)
    strategy = finalized_strategy(target.service.strategy, target.x86, target.arm)
    if [i.provider for i in target.service.strategy] != [target.arm]:
        view = session.clients.ecs.update_strategy(target.cluster, name, strategy)
        state = recorded or sm.new_run(
            "finalize", (), 100, target.x86, target.arm, session.clock.iso()
        )
        settled = wait_settled(session, target, state, view.primary.id if view.primary else None)
        if settled.failure is not None:
            raise PreflightError(f"{name}: finalize deployment: {settled.failure}")
    if recorded is not None and recorded.phase is Phase.DONE:
        session.save(target, sm.finalized(recorded, session.clock.iso()))
    scaled = decommission_x86(session, target, dry_run=False) if session.req.scale_in_x86 else False
    session.emit(
        "finalized",
        name,
        strategy=[i.to_api() for i in strategy],
        dropped=[target.x86],
        scaled_in=scaled,
    )
    return EXIT_OK
