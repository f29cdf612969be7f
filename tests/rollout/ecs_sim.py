"""The ECS scheduler moto does not have, synchronous with UpdateService.

Every container instance carries the ``ecs.cpu-architecture`` attribute the ECS agent sets
(x86_64 on the m6i group, arm64 on the m6g group), and each UpdateService that goes through the
fault proxy re-places the service's tasks (:func:`tests.support.placement.place`, on each
provider's own instances) before its answer is returned, so the split graviton reads back is the
one ECS would run, with no timing race. ``mode="x86-only"`` plays an ARM group that cannot
launch: every task lands on x86 instances.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.support.cluster import client
from tests.support.fault_proxy import FaultProxy
from tests.support.placement import label_architectures, place


def provider_instances(c: dict[str, Any]) -> dict[str, list[str]]:
    return label_architectures(
        client("ecs", c["moto_url"], c["region"]),
        client("autoscaling", c["moto_url"], c["region"]),
        c["cluster"],
        {c["x86_provider"]: (c["x86_asg"], "x86_64"), c["arm_provider"]: (c["arm_asg"], "arm64")},
    )


@dataclass
class Scheduler:
    c: dict[str, Any]
    mode: str = "follow"  # or "x86-only"
    instances: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.instances = provider_instances(self.c)

    def place(self, service: str) -> dict[str, int]:
        c = self.c
        instances = dict(self.instances)
        if self.mode == "x86-only":
            instances[c["arm_provider"]] = instances[c["x86_provider"]]
        return place(client("ecs", c["moto_url"], c["region"]), c["cluster"], service, instances)

    def on_update_service(self, proxy: FaultProxy) -> None:
        """Re-place the service's tasks whenever an UpdateService went through the proxy."""

        def replace(body: bytes) -> bytes:
            try:
                service = json.loads(body)["service"]
            except (ValueError, KeyError):
                return body
            if service.get("deployments"):  # CODE_DEPLOY/EXTERNAL services have none here
                self.place(service["serviceName"])
            return body

        proxy.rewrite("UpdateService", replace)
