"""What moto does not simulate: ECS placing a service's tasks by capacity provider.

moto's services never start tasks, so :class:`TaskPlacer` plays the ECS scheduler through moto's
own API: whenever the service gets a new deployment it stops the service's tasks and starts
``desiredCount`` new ones with ``run_task(group="service:NAME", capacityProviderStrategy=...)``,
split by the service's strategy exactly as graviton intends (bases first, then weights). The
controller then reads the real split with list_tasks/describe_tasks like it would on AWS.
"""

from __future__ import annotations

import threading
from typing import Any

from graviton.rollout.plan import intended_split, strategy_from_api
from tests.support.cluster import client


def place(ecs: Any, cluster: str, service: str) -> dict[str, int]:
    """Replace ``service``'s tasks by a fresh placement following its strategy."""
    svc = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
    if arns:
        for task in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]:
            if task.get("group") == f"service:{service}" and task["lastStatus"] == "RUNNING":
                ecs.stop_task(cluster=cluster, task=task["taskArn"], reason="new deployment")
    split = intended_split(
        strategy_from_api(svc.get("capacityProviderStrategy")), svc["desiredCount"]
    )
    for provider, count in split.items():
        if count:
            ecs.run_task(
                cluster=cluster,
                taskDefinition=svc["taskDefinition"],
                count=count,
                group=f"service:{service}",
                startedBy=svc["deployments"][0]["id"][:36],
                capacityProviderStrategy=[{"capacityProvider": provider, "weight": 1}],
            )
    return split


class TaskPlacer:
    """A thread that re-places a service's tasks on every new deployment (poll ``interval``)."""

    def __init__(
        self, endpoint_url: str, region: str, cluster: str, services: list[str], interval: float
    ) -> None:
        self.ecs = client("ecs", endpoint_url, region)
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
                place(self.ecs, self.cluster, svc["serviceName"])
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
