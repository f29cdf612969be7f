"""What `graviton status` shows: the recorded run, the real strategy and split of tasks, and
whether a controller is driving it (its lease, from the lock table the run recorded)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from graviton.rollout.events import weights
from graviton.rollout.lock import Lease
from graviton.rollout.plan import arm_percent, format_strategy
from graviton.rollout.preflight import Clients
from graviton.rollout.state import decode
from graviton.timeutil import parse_iso, utc_timestamp


def controller(
    clients: Clients, table: str, cluster: str, service: str, now: float
) -> dict[str, Any]:
    """Who holds the service's lease in ``table``: running, expired or absent."""
    held = Lease(clients("dynamodb"), table, Lease.key_for(cluster, service)).current()
    if held is None:
        return {"running": False, "lease": "absent", "table": table}
    if held.expires < now:
        return {
            "running": False,
            "lease": "expired",
            "owner": held.owner,
            "expired": utc_timestamp(held.expires),
            "table": table,
        }
    return {
        "running": True,
        "lease": "held",
        "owner": held.owner,
        "until": utc_timestamp(held.expires),
        "table": table,
    }


def read_status(
    clients: Clients,
    cluster: str,
    service: str,
    lock_table: str | None = None,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    ecs = clients.ecs
    view = ecs.service(cluster, service)
    recorded = decode(ecs.tags(view.arn))
    primary = view.primary
    tasks = ecs.running_tasks(cluster, service)
    out: dict[str, Any] = {
        "service": service,
        "cluster": cluster,
        "strategy": [i.to_api() for i in view.strategy],
        "strategy_text": format_strategy(view.strategy),
        "deployment": {
            "id": primary.id if primary else None,
            "state": view.deployment_state(),
            "rollout_state": primary.rollout_state if primary else None,
            "running": view.running,
            "desired": view.desired,
        },
        "running": dict(tasks.by_provider),
        "running_arch": dict(tasks.by_arch),
        "state": None,
        "controller": None,
    }
    table = lock_table or (recorded.lock if recorded else None)
    if table:
        out["controller"] = controller(clients, table, cluster, service, now())
    elif recorded is not None and recorded.phase.active and recorded.expect:
        overdue = (parse_iso(recorded.expect) or 0) < now()
        out["controller"] = {
            "running": not overdue,
            "lease": "none",
            "expected_by": recorded.expect,
        }
    if recorded is not None:
        out["arm_percent"] = arm_percent(view.strategy, recorded.x86, recorded.arm)
        out["state"] = {
            "run": recorded.run_id,
            "phase": recorded.phase.value,
            "active": recorded.phase.active,
            "step": recorded.step_label,
            "steps": list(recorded.steps),
            "start": recorded.start,
            "weights": weights(recorded.current),
            "last_good": weights(recorded.last_good),
            "x86_provider": recorded.x86,
            "arm_provider": recorded.arm,
            "failed_step": recorded.failed_step,
            "reason": recorded.reason or None,
            "updated": recorded.updated,
            "deployment": recorded.deployment or None,
        }
    return out


def settled(report: dict[str, Any]) -> bool:
    """Nothing more will happen without someone: no active phase, or no controller running."""
    state, ctl = report["state"], report["controller"]
    if state is None or not state["active"]:
        return ctl is None or not ctl["running"]
    return ctl is not None and not ctl["running"]


def watch(
    read: Callable[[], dict[str, Any]],
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, Any]]:
    """``status --watch``: yield the report each time it changes, until the run rests (no
    active phase) and no controller runs."""
    last: dict[str, Any] | None = None
    while True:
        report = read()
        key = {k: v for k, v in report.items() if k != "controller"}
        key["controller_running"] = (report["controller"] or {}).get("running")
        if key != last:
            yield report
            last = key
        if settled(report):
            return
        sleep(interval)
