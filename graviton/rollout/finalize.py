"""``graviton shift --finalize``: after a completed shift to 100% ARM, drop the x86 provider
from the strategy (its base moves to ARM); with ``--scale-in-x86``, scale the x86 group in
through :data:`SCALE_IN` (one function, so the capacity decommission can replace it)."""

from __future__ import annotations

from collections.abc import Callable

from graviton.errors import PreflightError
from graviton.rollout import machine as sm
from graviton.rollout.deploy import wait_settled
from graviton.rollout.plan import finalized_strategy
from graviton.rollout.preflight import Clients, Target
from graviton.rollout.request import EXIT_OK
from graviton.rollout.session import Session
from graviton.rollout.state import Phase


def scale_in_x86(clients: Clients, target: Target) -> bool:
    """Set the x86 group's min and desired to 0; True when there was a group to scale in."""
    if not target.x86_asg:
        return False
    clients.autoscaling.scale_in(target.x86_asg)
    return True


# the one place finalize scales x86 in (swap for graviton.capacity's decommission here)
SCALE_IN: Callable[[Clients, Target], bool] = scale_in_x86


def finalize(session: Session, target: Target) -> int:
    name, recorded = target.service.name, target.recorded
    if target.percent != 100 or (
        recorded is not None and recorded.phase not in (Phase.DONE, Phase.FINALIZED)
    ):
        raise PreflightError(
            f"{name}: finalize needs a completed shift to 100% ARM (now {target.percent}%)"
        )
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
    scaled = SCALE_IN(session.clients, target) if session.req.scale_in_x86 else False
    session.emit(
        "finalized",
        name,
        strategy=[i.to_api() for i in strategy],
        dropped=[target.x86],
        scaled_in=scaled,
    )
    return EXIT_OK
