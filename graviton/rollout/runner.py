"""The controller loop: drives :mod:`graviton.rollout.controller`'s pure transitions with the
ECS, CloudWatch and DynamoDB adapters, writes the state to the service's tags after every
transition, and reports each event to a sink."""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

from graviton.checks.ecs import Check
from graviton.errors import PreflightError, UsageError
from graviton.rollout import controller as sm
from graviton.rollout.ecs import ServiceView, deployment_configuration
from graviton.rollout.events import Event, Sink, weights
from graviton.rollout.lock import Lease
from graviton.rollout.plan import (
    Strategy,
    Timing,
    arm_percent,
    finalized_strategy,
    intended_split,
    plan_steps,
    strategy_for,
)
from graviton.rollout.preflight import Clients, Target, preflight
from graviton.rollout.state import Phase, RolloutState, decode, encode, stale_keys


@dataclass(frozen=True)
class ShiftRequest:
    cluster: str
    services: tuple[str, ...]
    step: int = 25
    to: int = 100
    x86: str | None = None
    arm: str | None = None
    alarms: tuple[str, ...] = ()
    timing: Timing = field(default_factory=lambda: Timing(600.0, 15.0, 1800.0))
    once: bool = False
    dry_run: bool = False
    rollback_to: str = "last-good"  # or "x86"
    on_insufficient_data: str = "fail"  # or "wait", "pass"
    lock_table: str | None = None
    finalize: bool = False
    scale_in_x86: bool = False
    strict_images: bool = False  # an image whose registry does not answer fails preflight


@dataclass
class Clock:
    """Time, injectable: monotonic for deadlines, wall for the recorded timestamps."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall: Callable[[], float] = time.time
    jitter: Callable[[], float] = random.random

    def iso(self) -> str:
        return datetime.fromtimestamp(self.wall(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


EXIT_OK, EXIT_ROLLED_BACK = 0, 1


def new_run_id(clock: Clock) -> str:
    stamp = datetime.fromtimestamp(clock.wall(), UTC).strftime("%Y%m%dT%H%M%S")
    return f"r{stamp}-{secrets.token_hex(2)}"


class Runner:
    def __init__(
        self, request: ShiftRequest, clients: Clients, sink: Sink, clock: Clock | None = None
    ) -> None:
        self.req = request
        self.clients = clients
        self.sink = sink
        self.clock = clock or Clock()
        self.leases: list[Lease] = []
        self.alarm_seen: dict[tuple[str, str], str] = {}  # (service, alarm) -> last state

    # -- plumbing -------------------------------------------------------------------------
    def emit(self, kind: str, service: str | None = None, **data: object) -> None:
        self.sink.emit(Event(kind, service, data, self.clock.iso()))

    def heartbeat(self) -> None:
        for lease in self.leases:
            lease.heartbeat()

    def save(self, target: Target, state: RolloutState) -> RolloutState:
        ecs = self.clients.ecs
        tags = encode(state)  # checked against the ECS tag rule before anything is written
        old = ecs.tags(target.service.arn)
        ecs.put_tags(target.service.arn, tags)
        ecs.remove_tags(target.service.arn, stale_keys(old, state))
        return state

    # -- entry points ---------------------------------------------------------------------
    def run(self) -> int:
        req = self.req
        targets = []
        for name in req.services:  # every service passes preflight before anything changes
            targets.append(
                preflight(
                    self.clients,
                    req.cluster,
                    name,
                    x86=req.x86,
                    arm=req.arm,
                    alarms=req.alarms,
                    on_insufficient_data=req.on_insufficient_data,
                    emit=self._check_reporter(name),
                    strict_images=req.strict_images,
                )
            )
        plans = [self._plan(t) for t in targets]
        for target, (steps, start, run) in zip(targets, plans, strict=True):
            self.emit(
                "plan",
                target.service.name,
                run=run,
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
            self._lock(stack, targets)
            for target in targets:
                code = self.finalize(target) if req.finalize else self.drive(target)
                if code != EXIT_OK:
                    return code
        return EXIT_OK

    def _check_reporter(self, service: str) -> Callable[[Check], None]:
        return lambda check: self.emit("check", service, **check.to_json())

    def _plan(self, target: Target) -> tuple[tuple[int, ...], int, str]:
        """(steps, start, run id) shown by the plan event: the recorded run's when it will be
        resumed, else a new one."""
        if self.req.finalize:
            return (), target.percent, "-"
        recorded = decode(self.clients.ecs.tags(target.service.arn))
        if recorded is not None and (recorded.phase.active or recorded.phase is Phase.GOOD):
            try:
                requested = plan_steps(recorded.start, self.req.step, self.req.to)
            except UsageError:  # the recorded start is beyond the new --to
                requested = None
            if recorded.phase.active or requested == recorded.steps:
                return recorded.steps, recorded.start, recorded.run_id
        return plan_steps(target.percent, self.req.step, self.req.to), target.percent, "new"

    def _lock(self, stack: ExitStack, targets: Sequence[Target]) -> None:
        if not self.req.lock_table:
            return
        for target in sorted(targets, key=lambda t: t.service.name):
            lease = Lease(
                self.clients("dynamodb"),
                self.req.lock_table,
                Lease.key_for(self.req.cluster, target.service.name),
                ttl=max(60.0, 4 * self.req.timing.poll),
            )
            lease.acquire()
            stack.callback(lease.release)
            self.leases.append(lease)
            self.emit("lock", target.service.name, table=self.req.lock_table, owner=lease.owner)

    # -- one service ----------------------------------------------------------------------
    def drive(self, target: Target) -> int:
        req, name = self.req, target.service.name
        recorded = decode(self.clients.ecs.tags(target.service.arn))
        requested: tuple[int, ...] | None = None
        if recorded is not None:
            try:
                requested = plan_steps(recorded.start, req.step, req.to)
            except UsageError:  # the recorded start is beyond the new --to
                requested = None
        steps = plan_steps(target.percent, req.step, req.to)
        fresh = sm.new_run(
            new_run_id(self.clock), steps, target.percent, target.x86, target.arm, self.clock.iso()
        )
        begin = sm.resume_or_start(recorded, target.percent, requested, fresh)
        state = begin.state
        if begin.resumed:
            if (state.x86, state.arm) != (target.x86, target.arm):
                raise PreflightError(
                    f"{name}: run {state.run_id} uses providers {state.x86}/{state.arm}, not "
                    f"{target.x86}/{target.arm}"
                )
            self.emit(
                "resume",
                name,
                run=state.run_id,
                phase=state.phase.value,
                step=state.step_label,
                note=begin.note,
            )
        elif not steps:
            self.emit("nothing", name, reason=f"already at {target.percent}% ARM (--to {req.to})")
            return EXIT_OK
        else:
            state = self.save(target, state)
        strategy = target.service.strategy
        once_done = False
        while True:
            action = sm.next_action(state, once_done)
            if action is sm.Action.STOP:
                break
            if action is sm.Action.START_STEP:
                state = self.save(target, sm.begin_step(state, self.clock.iso()))
            elif action is sm.Action.DEPLOY:
                strategy, outcome = self._deploy(target, state, strategy)
                if outcome is None:
                    state = self.save(target, sm.settled(state, self.clock.iso()))
                    self._report_split(target, state, strategy)
                else:
                    state = self._fail(target, state, outcome)
            elif action is sm.Action.BAKE:
                outcome = self._bake(target, state)
                if outcome is None:
                    self._report_split(target, state, strategy)  # after the bake, placed
                    state = self.save(target, sm.baked(state, self.clock.iso()))
                    self.emit("good", name, step=state.step_label, weights=weights(state.current))
                    once_done = req.once
                elif outcome.startswith("aborted: "):
                    self.emit("aborted", name, reason=outcome.removeprefix("aborted: "))
                    return EXIT_ROLLED_BACK
                else:
                    state = self._fail(target, state, outcome)
            elif action is sm.Action.ROLL_BACK:
                strategy, outcome = self._deploy(target, state, strategy)
                reason = state.reason + (f"; the rollback deployment: {outcome}" if outcome else "")
                state = self.save(
                    target, sm.rolled_back(state.with_(reason=reason), self.clock.iso())
                )
                self.emit(
                    "rolled_back",
                    name,
                    failed_step=f"{state.failed_step}/{len(state.steps)}",
                    reason=state.reason,
                    weights=weights(state.current),
                )
                return EXIT_ROLLED_BACK
        if state.phase is Phase.DONE:
            self.emit("done", name, weights=weights(state.current))
        return EXIT_OK

    def _fail(self, target: Target, state: RolloutState, reason: str) -> RolloutState:
        to = 0 if self.req.rollback_to == "x86" else state.last_good
        state = self.save(target, sm.fail(state, reason, to, self.clock.iso()))
        self.emit(
            "rollback",
            target.service.name,
            step=f"{state.failed_step}/{len(state.steps)}",
            reason=reason,
            weights=weights(to),
        )
        return state

    def _deploy(
        self, target: Target, state: RolloutState, strategy: Strategy
    ) -> tuple[Strategy, str | None]:
        """Make the service's weights ``state.current`` (sending them with forceNewDeployment
        unless a resumed run finds them already sent) and wait for the deployment to settle.
        Returns the strategy and None when settled, or why not."""
        ecs, name = self.clients.ecs, target.service.name
        view = ecs.service(target.cluster, name)
        deployment: str | None = None
        if arm_percent(view.strategy, target.x86, target.arm) != state.current:
            wanted = strategy_for(state.current, view.strategy, target.x86, target.arm)
            config = deployment_configuration(view.deployment_configuration, target.alarms)
            view = ecs.update_strategy(target.cluster, name, wanted, config)
            deployment = view.primary.id if view.primary else None
        if state.phase is Phase.DEPLOYING:
            self.emit(
                "step",
                name,
                run=state.run_id,
                step=state.index + 1,
                of=len(state.steps),
                weights=weights(state.current),
                deployment=deployment or (view.primary.id if view.primary else "-"),
            )
        return view.strategy, self._wait_settled(target, state, deployment)

    def _wait_settled(
        self, target: Target, state: RolloutState, deployment: str | None
    ) -> str | None:
        ecs, name, timing = self.clients.ecs, target.service.name, self.req.timing
        started = self.clock.monotonic()
        last: tuple[str, int, int] | None = None
        while True:
            view: ServiceView = ecs.service(target.cluster, name)
            status = view.deployment_state(deployment)
            primary = view.primary
            seen = (status, primary.running if primary else 0, view.desired)
            if seen != last:
                self.emit(
                    "deployment",
                    name,
                    step=state.step_label,
                    deployment=primary.id if primary else "-",
                    state=primary.rollout_state or status if primary else status,
                    running=seen[1],
                    desired=seen[2],
                )
                last = seen
            if status == "settled":
                self.emit(
                    "settled",
                    name,
                    step=state.step_label,
                    deployment=primary.id if primary else "-",
                    seconds=round(self.clock.monotonic() - started, 3),
                )
                return None
            if status == "failed":
                why = primary.reason if primary and primary.reason else "replaced by ECS"
                return f"deployment failed ({why})"
            elapsed = self.clock.monotonic() - started
            if elapsed >= timing.deploy_timeout:
                return f"deployment did not settle within {timing.deploy_timeout:g}s"
            self.heartbeat()
            self.clock.sleep(min(timing.poll, timing.deploy_timeout - elapsed))

    def _report_split(self, target: Target, state: RolloutState, strategy: Strategy) -> None:
        view = self.clients.ecs.service(target.cluster, target.service.name)
        intended = intended_split(
            strategy_for(state.current, strategy, target.x86, target.arm), view.desired
        )
        running = self.clients.ecs.tasks_by_provider(target.cluster, target.service.name)
        self.emit(
            "split", target.service.name, step=state.step_label, intended=intended, running=running
        )

    def _bake(self, target: Target, state: RolloutState) -> str | None:
        """Watch the alarms for the bake time; None when it passes, else why it failed
        ("aborted: ..." when `graviton rollback` took over the run)."""
        name, timing, policy = target.service.name, self.req.timing, self.req.on_insufficient_data
        self.emit(
            "bake", name, step=state.step_label, seconds=timing.bake, alarms=list(target.alarms)
        )
        remaining = timing.bake
        no_data_since: float | None = None
        last = self.clock.monotonic()
        while True:
            states = self.clients.alarms.states(target.alarms) if target.alarms else {}
            now = self.clock.monotonic()
            current = {n: states[n].state if n in states else "MISSING" for n in target.alarms}
            for alarm, value in current.items():
                before = self.alarm_seen.get((name, alarm))
                if before != value:
                    reason = states[alarm].reason if alarm in states else "alarm deleted"
                    self.emit(
                        "alarm", name, name=alarm, state=value, previous=before, reason=reason
                    )
                    self.alarm_seen[(name, alarm)] = value
            firing = [n for n, v in current.items() if v == "ALARM"]
            if firing:
                return f"alarm {firing[0]} is ALARM during the bake of step {state.step_label}"
            blind = [n for n, v in current.items() if v in ("INSUFFICIENT_DATA", "MISSING")]
            paused = False
            if blind and policy == "fail":
                return (
                    f"alarm {blind[0]} has {current[blind[0]]} during the bake of step "
                    f"{state.step_label} (--on-insufficient-data fail)"
                )
            if blind and policy == "wait":
                paused = True
                no_data_since = no_data_since if no_data_since is not None else now
                if now - no_data_since >= timing.deploy_timeout:
                    return (
                        f"alarm {blind[0]} had no data for {timing.deploy_timeout:g}s "
                        f"during the bake of step {state.step_label}"
                    )
            else:
                no_data_since = None
                remaining -= now - last
            last = now
            recorded = decode(self.clients.ecs.tags(target.service.arn))
            if (
                recorded is None
                or recorded.run_id != state.run_id
                or recorded.phase is not Phase.BAKING
            ):
                who = recorded.phase.value if recorded else "state removed"
                return f"aborted: the run was taken over ({who}) by `graviton rollback`"
            self.emit(
                "tick",
                name,
                step=state.step_label,
                remaining_s=max(0.0, remaining),
                alarms=current,
                paused=paused,
            )
            if remaining <= 0:
                return None
            self.heartbeat()
            # jitter below the poll interval: an alarm is seen at most one poll after it fires
            self.clock.sleep(
                min(timing.poll * (1 - 0.2 * self.clock.jitter()), max(remaining, 0.05))
            )

    # -- finalize -------------------------------------------------------------------------
    def finalize(self, target: Target) -> int:
        """After 100%: drop the x86 provider from the strategy (its base moves to ARM);
        with --scale-in-x86, set that ASG's desired and min to 0."""
        name = target.service.name
        recorded = decode(self.clients.ecs.tags(target.service.arn))
        if target.percent != 100 or (
            recorded is not None
            and recorded.phase is not Phase.DONE
            and recorded.phase is not Phase.FINALIZED
        ):
            raise PreflightError(
                f"{name}: finalize needs a completed shift to 100% ARM (now {target.percent}%)"
            )
        strategy = finalized_strategy(target.service.strategy, target.x86, target.arm)
        if [i.provider for i in target.service.strategy] != [target.arm]:
            config = deployment_configuration(
                target.service.deployment_configuration, target.alarms
            )
            view = self.clients.ecs.update_strategy(target.cluster, name, strategy, config)
            state = recorded or sm.new_run(
                "finalize", (), 100, target.x86, target.arm, self.clock.iso()
            )
            outcome = self._wait_settled(target, state, view.primary.id if view.primary else None)
            if outcome is not None:
                raise PreflightError(f"{name}: finalize deployment: {outcome}")
        if recorded is not None and recorded.phase is Phase.DONE:
            self.save(target, sm.finalized(recorded, self.clock.iso()))
        if self.req.scale_in_x86 and target.x86_asg:
            self.clients.autoscaling.scale_in(target.x86_asg)
        self.emit(
            "finalized",
            name,
            strategy=[i.to_api() for i in strategy],
            scaled_in=bool(self.req.scale_in_x86 and target.x86_asg),
        )
        return EXIT_OK

    # -- graviton rollback ----------------------------------------------------------------
    def rollback(self, service: str, to: str, who: str) -> int:
        """Move ``service`` back to the last good weights (or all x86) and mark the run
        rolled back, so it stays so: a controller baking it sees this and stops."""
        ecs = self.clients.ecs
        view = ecs.service(self.req.cluster, service)
        recorded = decode(ecs.tags(view.arn))
        if recorded is None:
            if to != "x86" or self.req.x86 is None or self.req.arm is None:
                raise PreflightError(
                    f"{service}: no graviton run is recorded on it; use --to x86 with "
                    "--x86-provider and --arm-provider"
                )
            recorded = sm.new_run("manual", (), 0, self.req.x86, self.req.arm, self.clock.iso())
            recorded = recorded.with_(
                current=arm_percent(view.strategy, self.req.x86, self.req.arm) or 0
            )
        percent = 0 if to == "x86" else recorded.last_good
        target = Target(
            self.req.cluster,
            view,
            recorded.x86,
            recorded.arm,
            None,
            tuple((view.deployment_configuration.get("alarms") or {}).get("alarmNames") or ()),
            recorded.current,
            (),
        )
        state = self.save(
            target, sm.abort(recorded, f"rolled back by {who}", percent, self.clock.iso())
        )
        self.emit(
            "rollback",
            service,
            step=state.step_label,
            reason=state.reason,
            weights=weights(percent),
        )
        _, outcome = self._deploy(target, state, view.strategy)
        reason = state.reason + (f"; the rollback deployment: {outcome}" if outcome else "")
        state = self.save(target, sm.rolled_back(state.with_(reason=reason), self.clock.iso()))
        self.emit(
            "rolled_back",
            service,
            failed_step=state.step_label,
            reason=state.reason,
            weights=weights(state.current),
        )
        return EXIT_OK if outcome is None else EXIT_ROLLED_BACK


def status(clients: Clients, cluster: str, service: str) -> dict[str, object]:
    """What `graviton status` shows: the recorded state, the real strategy and split."""
    ecs = clients.ecs
    view = ecs.service(cluster, service)
    recorded = decode(ecs.tags(view.arn))
    primary = view.primary
    out: dict[str, object] = {
        "service": service,
        "cluster": cluster,
        "strategy": [i.to_api() for i in view.strategy],
        "deployment": {
            "id": primary.id if primary else None,
            "state": view.deployment_state(),
            "rollout_state": primary.rollout_state if primary else None,
            "running": view.running,
            "desired": view.desired,
        },
        "running": ecs.tasks_by_provider(cluster, service),
        "state": None,
    }
    if recorded is not None:
        out["arm_percent"] = arm_percent(view.strategy, recorded.x86, recorded.arm)
        out["state"] = {
            "run": recorded.run_id,
            "phase": recorded.phase.value,
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
        }
    return out
