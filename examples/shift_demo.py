"""`make demo`, AWS part: a local moto server, the example cluster, the savings, two shifts.

0. `graviton savings`: what moving the cluster's x86 capacity to Graviton saves, step by step.
1. `orders` moves from the x86 (m6i) to the Graviton (m6g) capacity provider in four steps,
   then `--finalize` drops the x86 provider from its strategy.
2. `quotes` starts the same way; at 50% its p99-latency alarm goes to ALARM during the bake and
   graviton rolls it back to the last good step, 25%.

No AWS account is needed. What moto simulates is written down in docs/shift-simulation.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.cli import env_for  # noqa: E402
from tests.support.cluster import client, make_cluster  # noqa: E402
from tests.support.moto_server import moto_server  # noqa: E402
from tests.support.placement import TaskPlacer, label_architectures  # noqa: E402

REGION = "eu-west-1"
BAKE, POLL = "3s", "1s"


def say(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def graviton(*args: str) -> int:
    cmd = [sys.executable, "-m", "graviton.cli", *args]
    print("$ graviton " + " ".join(args), flush=True)
    return subprocess.call(cmd, env=env_for(REGION), cwd=ROOT)


def fire_alarm_at(url: str, service: str, alarm: str, step: str) -> threading.Thread:
    """Set ``alarm`` to ALARM once ``service`` is baking ``step`` (read from graviton's tags)."""
    ecs, cw = client("ecs", url, REGION), client("cloudwatch", url, REGION)
    arn = f"arn:aws:ecs:{REGION}:123456789012:service/prod/{service}"

    def watch() -> None:
        for _ in range(600):
            tags = {
                t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]
            }
            if tags.get("graviton:phase") == "baking" and tags.get("graviton:step") == step:
                time.sleep(1)
                cw.set_alarm_state(
                    AlarmName=alarm, StateValue="ALARM", StateReason="p99 1.8s > 1.0s (demo)"
                )
                return
            time.sleep(0.2)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def main() -> int:
    say("starting a local moto server (no AWS account needed)")
    with moto_server() as url:
        os.environ.update(env_for(REGION))
        names = make_cluster(url, REGION, services=("orders", "quotes"))
        print(
            f"cluster prod: x86 provider {names['x86_provider']} (ASG {names['x86_asg']}, m6i), "
            f"Graviton provider {names['arm_provider']} (ASG {names['arm_asg']}, m6g); "
            "services orders and quotes on x86, 4 tasks each; alarms in OK"
        )
        say("graviton savings: the business case, priced from the shipped on-demand table")
        graviton("savings", "--cluster", "prod", "--endpoint-url", url, "--plan")

        common = ["--cluster", "prod", "--endpoint-url", url, "--step", "25"]
        common += ["--bake", BAKE, "--poll", POLL]
        # the ECS agent labels each instance's architecture; tasks land on their provider's group
        instances = label_architectures(
            client("ecs", url, REGION),
            client("autoscaling", url, REGION),
            "prod",
            {
                names["x86_provider"]: (names["x86_asg"], "x86_64"),
                names["arm_provider"]: (names["arm_asg"], "arm64"),
            },
        )
        with TaskPlacer(url, REGION, "prod", ["orders", "quotes"], 0.1, instances):
            say("dry run: the plan and the preflight checks, nothing changed")
            graviton("shift", *common, "--service", "orders", "--dry-run")

            say("shift 1: orders, 0% -> 25% -> 50% -> 75% -> 100% Graviton")
            alarms = [a for n in names["alarms"]["orders"] for a in ("--alarm", n)]
            first = graviton("shift", *common, "--service", "orders", *alarms)
            say("orders is at 100% Graviton: finalize drops the x86 provider from its strategy")
            final = graviton(
                "shift",
                "--cluster",
                "prod",
                "--service",
                "orders",
                "--endpoint-url",
                url,
                "--finalize",
            )
            graviton("status", "--cluster", "prod", "--service", "orders", "--endpoint-url", url)

            say("shift 2: quotes; its p99-latency alarm fires during the bake at 50%")
            alarm = names["alarms"]["quotes"][1]
            watcher = fire_alarm_at(url, "quotes", alarm, "2/4")
            alarms = [a for n in names["alarms"]["quotes"] for a in ("--alarm", n)]
            second = graviton("shift", *common, "--service", "quotes", *alarms)
            watcher.join(timeout=1)
            graviton("status", "--cluster", "prod", "--service", "quotes", "--endpoint-url", url)

        ecs = client("ecs", url, REGION)
        svc = ecs.describe_services(cluster="prod", services=["quotes"])["services"][0]
        weights = {i["capacityProvider"]: i["weight"] for i in svc["capacityProviderStrategy"]}
        back_to_25 = weights == {names["x86_provider"]: 75, names["arm_provider"]: 25}
        say(
            f"orders exit {first} (0 = reached 100%); quotes exit {second} (1 = rolled back), "
            f"quotes weights now {weights}"
        )
        return 0 if (first, final, second, back_to_25) == (0, 0, 1, True) else 1


if __name__ == "__main__":
    sys.exit(main())
