"""``graviton rollback``: the emergency brake. Move a service back to the last good weights (or
all x86) now and mark its run rolled back, so it stays so; a controller baking it sees its
deployment replaced and stops. The weights go out first, the state after (best-effort)."""

from __future__ import annotations

from graviton.errors import PreflightError
from graviton.rollout import machine as sm
from graviton.rollout.drive import roll_back
from graviton.rollout.events import weights
from graviton.rollout.plan import arm_percent
from graviton.rollout.preflight import ShiftTarget
from graviton.rollout.request import RollbackTo
from graviton.rollout.session import Session


def manual_rollback(session: Session, service: str, to: RollbackTo, who: str) -> int:
    req, ecs = session.req, session.clients.ecs
    view = ecs.service(req.cluster, service)
    recorded = session.read_state(view.arn)
    if recorded is None:
        if to is not RollbackTo.X86 or req.x86 is None or req.arm is None:
            raise PreflightError(
                f"{service}: no graviton run is recorded on it; use --to x86 with "
                "--x86-provider and --arm-provider"
            )
        recorded = sm.new_run("manual", (), 0, req.x86, req.arm, session.clock.iso())
        recorded = recorded.with_(current=arm_percent(view.strategy, req.x86, req.arm) or 0)
    percent = 0 if to is RollbackTo.X86 else recorded.last_good
    target = ShiftTarget(
        req.cluster,
        view,
        recorded.x86,
        recorded.arm,
        None,
        tuple((view.deployment_configuration.get("alarms") or {}).get("alarmNames") or ()),
        recorded.current,
        (),
        recorded,
    )
    state = sm.abort(recorded, f"rolled back by {who}", percent, session.clock.iso())
    session.emit(
        "rollback", service, step=state.step_label, reason=state.reason, weights=weights(percent)
    )
    return roll_back(session, target, state, failed_label=state.step_label)
