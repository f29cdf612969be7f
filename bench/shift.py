"""Benchmark `graviton shift` against a moto server process.

Measures (1) AWS API calls per step, counted with botocore ``before-call`` hooks on the
controller's clients, and (2) the delay from an alarm entering ALARM (``set_alarm_state``) to
the rollback ``update_service`` call. Target for (2): <= poll interval + 1 s.
Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graviton.aws import AwsOptions  # noqa: E402
from graviton.rollout.events import Event, ListSink  # noqa: E402
from graviton.rollout.plan import Timing  # noqa: E402
from graviton.rollout.preflight import Clients  # noqa: E402
from graviton.rollout.runner import Runner, ShiftRequest  # noqa: E402
from tests.support.cluster import client, make_cluster  # noqa: E402
from tests.support.moto_server import FAKE_CREDENTIALS, moto_server, reset  # noqa: E402
from tests.support.placement import TaskPlacer, label_architectures  # noqa: E402


def placer(url: str, names: dict[str, Any]) -> TaskPlacer:
    """The ECS scheduler moto lacks: tasks on their provider's instances (arm64 / x86_64), so
    each step's bake really runs ARM tasks."""
    instances = label_architectures(
        client("ecs", url, REGION),
        client("autoscaling", url, REGION),
        "prod",
        {
            names["x86_provider"]: (names["x86_asg"], "x86_64"),
            names["arm_provider"]: (names["arm_asg"], "arm64"),
        },
    )
    return TaskPlacer(url, REGION, "prod", ["orders"], 0.05, instances)


REGION = "eu-west-1"
POLL = 1.0
TRIALS = 5


def counting_clients(url: str, calls: Counter[str], stamps: list[tuple[float, str]]) -> Clients:
    options = AwsOptions(region=REGION, endpoint_url=url)

    def make(service: str) -> Any:
        c = options.client(service)

        def record(model: Any, **_: Any) -> None:
            calls[model.name] += 1
            stamps.append((time.monotonic(), model.name))

        c.meta.events.register("before-call", record)
        return c

    return Clients(make)


def calls_per_step(url: str) -> None:
    reset(url)
    names = make_cluster(url, REGION)
    calls: Counter[str] = Counter()
    stamps: list[tuple[float, str]] = []
    request = ShiftRequest(
        cluster="prod",
        services=("orders",),
        alarms=tuple(names["alarms"]["orders"]),
        timing=Timing(bake=2 * POLL, poll=POLL, deploy_timeout=60),
        lock_table=names["lock_table"],
    )
    sink = ListSink()
    started = time.monotonic()
    with placer(url, names):
        code = Runner(request, counting_clients(url, calls, stamps), sink).run()
    elapsed = time.monotonic() - started
    steps = sink.kinds().count("good")
    total = sum(calls.values())
    print(f"full rollout: exit {code}, {steps} steps, {total} API calls in {elapsed:.1f}s")
    print(f"  API calls per step: {total / steps:.1f} (bake {2 * POLL:g}s, poll {POLL:g}s)")
    for op, n in calls.most_common():
        print(f"    {op:<32} {n:>4}  ({n / steps:.1f}/step)")


class _Firing:
    def __init__(self, url: str, alarm: str) -> None:
        self.cw = client("cloudwatch", url, REGION)
        self.alarm = alarm
        self.fired_at: float | None = None

    def on_event(self, event: Event) -> None:
        if event.kind == "bake" and event.data["step"] == "2/4" and self.fired_at is None:
            threading.Timer(0.37 * POLL, self.fire).start()  # somewhere inside a poll interval

    def fire(self) -> None:
        self.cw.set_alarm_state(AlarmName=self.alarm, StateValue="ALARM", StateReason="bench")
        self.fired_at = time.monotonic()


class _Sink(ListSink):
    def __init__(self, firing: _Firing) -> None:
        super().__init__()
        self.firing = firing

    def emit(self, event: Event) -> None:
        super().emit(event)
        self.firing.on_event(event)


def rollback_delay(url: str) -> float:
    reset(url)
    names = make_cluster(url, REGION)
    calls: Counter[str] = Counter()
    stamps: list[tuple[float, str]] = []
    firing = _Firing(url, names["alarms"]["orders"][0])
    request = ShiftRequest(
        cluster="prod",
        services=("orders",),
        alarms=tuple(names["alarms"]["orders"]),
        timing=Timing(bake=30, poll=POLL, deploy_timeout=60),
    )
    with placer(url, names):
        code = Runner(request, counting_clients(url, calls, stamps), _Sink(firing)).run()
    assert code == 1 and firing.fired_at is not None
    rollback_call = next(t for t, op in stamps if op == "UpdateService" and t > firing.fired_at)
    return rollback_call - firing.fired_at


def main() -> int:
    os.environ.update(FAKE_CREDENTIALS)
    with moto_server() as url:
        calls_per_step(url)
        delays = [rollback_delay(url) for _ in range(TRIALS)]
    target = POLL + 1.0
    worst, median = max(delays), statistics.median(delays)
    print(f"alarm -> rollback update_service, {TRIALS} trials, poll {POLL:g}s:")
    print(f"  median {median:.2f}s, max {worst:.2f}s; target <= {target:.1f}s (poll + 1s)")
    print(f"  ratio max/target {worst / target:.2f}  (<= 1.00 meets the target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
