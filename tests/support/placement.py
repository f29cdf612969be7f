"""What moto does not simulate: ECS placing a service's tasks by capacity provider.

moto's services never start tasks, so :class:`TaskPlacer` plays the ECS scheduler through moto's
own API: whenever the service gets a new deployment it stops the service's tasks and starts
``desiredCount`` new ones with ``run_task(group="service:NAME", capacityProviderStrategy=...)``,
split by the service's strategy exactly as graviton intends (bases first, then weights). The
controller then reads the real split with list_tasks/describe_tasks like it would on AWS.

With ``instances`` (from :func:`label_architectures`: provider -> its group's container
instances, each carrying the ``ecs.cpu-architecture`` attribute the ECS agent sets), every task
also lands on an instance of its provider's group, so the architecture graviton reads back from
describe_container_instances is the one ECS would run it on.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from graviton.rollout.plan import intended_split, strategy_from_api
from tests.support.cluster import client

Instances = Mapping[str, Sequence[str]]  # capacity provider -> container instance ARNs


def label_architectures(
    ecs: Any, autoscaling: Any, cluster: str, groups: Mapping[str, tuple[str, str]]
) -> dict[str, list[str]]:
    """Set ``ecs.cpu-architecture`` on the container instances of each provider's group
    (``groups``: provider -> (ASG name, arch)); returns provider -> its instance ARNs."""
    arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
    described = ecs.describe_container_instances(cluster=cluster, containerInstances=arns)
    by_ec2 = {
        i["ec2InstanceId"]: i["containerInstanceArn"] for i in described["containerInstances"]
    }
    out: dict[str, list[str]] = {}
    for provider, (asg, arch) in groups.items():
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[asg])
        ids = [i["InstanceId"] for i in group["AutoScalingGroups"][0]["Instances"]]
        out[provider] = [by_ec2[i] for i in ids if i in by_ec2]
        for arn in out[provider]:
            ecs.put_attributes(
                cluster=cluster,
                attributes=[{"name": "ecs.cpu-architecture", "value": arch, "targetId": arn}],
            )
    return out


def _run_on(ecs: Any, cluster: str, on: Sequence[str], every: Sequence[str], **kw: Any) -> None:
    """run_task on the instances ``on`` only: moto places on any ACTIVE instance, so the
    others are DRAINING for the call."""
    others = [a for a in every if a not in on]
    if others:
        ecs.update_container_instances_state(
            cluster=cluster, containerInstances=others, status="DRAINING"
        )
    try:
        ecs.run_task(cluster=cluster, **kw)
    finally:
        if others:
            ecs.update_container_instances_state(
                cluster=cluster, containerInstances=others, status="ACTIVE"
            )


def place(
    ecs: Any, cluster: str, service: str, instances: Instances | None = None
) -> dict[str, int]:
    """Replace ``service``'s tasks by a fresh placement following its strategy (on each
    provider's own ``instances`` when given)."""
    svc = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
    if arns:
        for task in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]:
            if task.get("group") == f"service:{service}" and task["lastStatus"] == "RUNNING":
                ecs.stop_task(cluster=cluster, task=task["taskArn"], reason="new deployment")
    split = intended_split(
        strategy_from_api(svc.get("capacityProviderStrategy")), svc["desiredCount"]
    )
    every = [a for arns_ in (instances or {}).values() for a in arns_]
    for provider, count in split.items():
        if not count:
            continue
        kw: dict[str, Any] = {
            "taskDefinition": svc["taskDefinition"],
            "count": count,
            "group": f"service:{service}",
            "startedBy": svc["deployments"][0]["id"][:36],
            "capacityProviderStrategy": [{"capacityProvider": provider, "weight": 1}],
        }
        if instances is not None and provider in instances:
            _run_on(ecs, cluster, instances[provider], every, **kw)
        else:
            ecs.run_task(cluster=cluster, **kw)
    return split


class TaskPlacer:
    """A thread that re-places a service's tasks on every new deployment (poll ``interval``)."""

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        cluster: str,
        services: list[str],
        interval: float,
        instances: Instances | None = None,
    ) -> None:
        self.ecs = client("ecs", endpoint_url, region)
        self.instances = instances
        self.cluster = cluster
        self.services = services
        self.interval = interval
        self._stop = threading.Event()
        self._seen: dict[str, str] = {}
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sync(self) -> None:
        resp = self.ecs.describe_services(cluster=self.cluster, services=self.services)
        for svc in resp["services"]:
            deployment = svc["deployments"][0]["id"] if svc["deployments"] else ""
            if self._seen.get(svc["serviceName"]) != deployment:
                place(self.ecs, self.cluster, svc["serviceName"], self.instances)
                self._seen[svc["serviceName"]] = deployment

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except Exception:  # the server went away at the end of a run
                return

    def __enter__(self) -> TaskPlacer:
        self.sync()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
