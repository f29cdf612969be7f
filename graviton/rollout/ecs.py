"""ECS and Auto Scaling at the edge: boto3 calls in, frozen plain data out.

Every call here is a read except :meth:`Ecs.update_strategy`,
:meth:`Ecs.set_deployment_configuration`, :meth:`Ecs.put_tags`, :meth:`Ecs.remove_tags` and
:meth:`AutoScaling.scale_in` (the dry-run test asserts that none of
them is called).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from graviton.aws import containers
from graviton.aws.fleet import configured_types, describe_group
from graviton.errors import PreflightError
from graviton.rollout.plan import Strategy, strategy_from_api

MUTATING_CALLS = frozenset(
    {
        "UpdateService",
        "TagResource",
        "UntagResource",
        "UpdateAutoScalingGroup",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
    }
)


class DeploymentState(StrEnum):
    SETTLED = "settled"
    FAILED = "failed"
    IN_PROGRESS = "in-progress"


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    rollout_state: str | None  # IN_PROGRESS | COMPLETED | FAILED (None without a controller)
    running: int
    desired: int
    reason: str = ""


@dataclass(frozen=True)
class ServiceView:
    arn: str
    name: str
    status: str
    desired: int
    running: int
    strategy: Strategy
    launch_type: str | None
    deployments: tuple[Deployment, ...]
    task_definition: str
    placement_constraints: tuple[Mapping[str, str], ...] = ()
    deployment_configuration: Mapping[str, Any] = field(default_factory=dict)
    deployment_controller: str = "ECS"

    @property
    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    def deployment_state(self, deployment_id: str | None = None) -> DeploymentState:
        """``settled``, ``failed`` or ``in-progress`` for the deployment ``deployment_id``
        (default: the primary one). Settled: one PRIMARY deployment with rolloutState COMPLETED,
        or, without a rollout state, running == desired and no other deployment."""
        primary = self.primary
        if primary is None:
            return DeploymentState.IN_PROGRESS
        if primary.rollout_state == "FAILED":
            return DeploymentState.FAILED
        if deployment_id is not None and primary.id != deployment_id:
            # ECS replaced our deployment: its own rollback (circuit breaker or alarms)
            return DeploymentState.FAILED
        alone = all(d.status == "PRIMARY" for d in self.deployments if d.status != "INACTIVE")
        if primary.rollout_state == "COMPLETED" and alone:
            return DeploymentState.SETTLED
        if primary.rollout_state is None and alone and primary.running == primary.desired:
            return DeploymentState.SETTLED
        return DeploymentState.IN_PROGRESS


def _service_view(raw: Mapping[str, Any]) -> ServiceView:
    deployments = tuple(
        Deployment(
            id=str(d.get("id", "")),
            status=str(d.get("status", "")),
            rollout_state=d.get("rolloutState"),
            running=int(d.get("runningCount", 0)),
            desired=int(d.get("desiredCount", 0)),
            reason=str(d.get("rolloutStateReason", "")),
        )
        for d in raw.get("deployments") or ()
    )
    return ServiceView(
        arn=str(raw["serviceArn"]),
        name=str(raw["serviceName"]),
        status=str(raw.get("status", "")),
        desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)),
        strategy=strategy_from_api(raw.get("capacityProviderStrategy")),
        launch_type=raw.get("launchType"),
        deployments=deployments,
        task_definition=str(raw.get("taskDefinition", "")),
        placement_constraints=tuple(raw.get("placementConstraints") or ()),
        deployment_configuration=dict(raw.get("deploymentConfiguration") or {}),
        deployment_controller=str((raw.get("deploymentController") or {}).get("type") or "ECS"),
    )


def deployment_configuration(current: Mapping[str, Any], alarms: Sequence[str]) -> dict[str, Any]:
    """The service's deployment configuration merged with graviton's for the shift: the circuit
    breaker and (when there are alarms) deployment alarms switched on with rollback, so ECS
    itself reverts a failing deployment. The service's own deployment alarms stay watched (the
    union of its names and graviton's); other settings (maximumPercent, ...) are kept. The
    service's own configuration is restored when the run ends."""
    config = {k: v for k, v in current.items() if k not in ("deploymentCircuitBreaker", "alarms")}
    config["deploymentCircuitBreaker"] = {"enable": True, "rollback": True}
    own = current.get("alarms") or {}
    if alarms:
        kept = list(own.get("alarmNames") or []) if own.get("enable") else []
        names = [*kept, *alarms]
        config["alarms"] = {
            "alarmNames": list(dict.fromkeys(names)),
            "enable": True,
            "rollback": True,
        }
    elif "alarms" in current:
        config["alarms"] = current["alarms"]
    return config


@dataclass(frozen=True)
class TaskCounts:
    """The service's running tasks per capacity provider and per CPU architecture (the
    ``ecs.cpu-architecture`` attribute of the container instance each runs on)."""

    by_provider: Mapping[str, int]
    by_arch: Mapping[str, int]


class Ecs:
    """The ECS calls graviton makes."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def cluster(self, name: str) -> Mapping[str, Any]:
        resp = self.client.describe_clusters(clusters=[name])
        clusters = [c for c in resp.get("clusters", []) if c.get("status") != "INACTIVE"]
        if not clusters:
            raise PreflightError(f"cluster {name} not found")
        return dict(clusters[0])

    def service(self, cluster: str, name: str) -> ServiceView:
        return _service_view(self.raw_service(cluster, name))

    def raw_service(self, cluster: str, name: str) -> dict[str, Any]:
        try:
            resp = self.client.describe_services(cluster=cluster, services=[name])
        except self.client.exceptions.ClusterNotFoundException:
            raise PreflightError(f"cluster {cluster} not found") from None
        services = [s for s in resp.get("services", []) if s.get("status") != "INACTIVE"]
        if not services:
            raise PreflightError(f"service {name} not found in cluster {cluster}")
        return dict(services[0])

    def capacity_providers(self, names: Sequence[str]) -> list[dict[str, Any]]:
        if not names:
            return []
        resp = self.client.describe_capacity_providers(capacityProviders=list(names))
        return [dict(p) for p in resp.get("capacityProviders", [])]

    def task_definition(self, arn: str) -> dict[str, Any]:
        resp = self.client.describe_task_definition(taskDefinition=arn)
        return dict(resp["taskDefinition"])

    def update_strategy(
        self,
        cluster: str,
        service: str,
        strategy: Strategy,
        config: Mapping[str, Any] | None = None,
    ) -> ServiceView:
        """Send the strategy with forceNewDeployment: ECS does not redeploy on a strategy
        change alone (and rejects it without), and never moves running tasks otherwise."""
        kwargs: dict[str, Any] = {}
        if config is not None:
            kwargs["deploymentConfiguration"] = dict(config)
        resp = self.client.update_service(
            cluster=cluster,
            service=service,
            capacityProviderStrategy=[i.to_api() for i in strategy],
            forceNewDeployment=True,
            **kwargs,
        )
        return _service_view(resp["service"])

    def set_deployment_configuration(
        self, cluster: str, service: str, config: Mapping[str, Any]
    ) -> None:
        """Put the service's deployment configuration back (no new deployment)."""
        self.client.update_service(
            cluster=cluster, service=service, deploymentConfiguration=dict(config)
        )

    def running_tasks(self, cluster: str, service: str) -> TaskCounts:
        """Running tasks of ``service`` per capacity provider and per CPU architecture."""
        arns: list[str] = []
        paginator = self.client.get_paginator("list_tasks")
        for page in paginator.paginate(
            cluster=cluster, serviceName=service, desiredStatus="RUNNING"
        ):
            arns.extend(page.get("taskArns", []))
        counts: Counter[str] = Counter()
        instances: Counter[str] = Counter()
        for i in range(0, len(arns), 100):
            resp = self.client.describe_tasks(cluster=cluster, tasks=arns[i : i + 100])
            for task in resp.get("tasks", []):
                # group "service:NAME" is how ECS marks a service's tasks (and filters for
                # backends that ignore serviceName)
                if task.get("group") != f"service:{service}":
                    continue
                if task.get("lastStatus") != "RUNNING":
                    continue
                counts[str(task.get("capacityProviderName") or "-")] += 1
                instances[str(task.get("containerInstanceArn") or "")] += 1
        arch = self.architectures(cluster, [a for a in instances if a])
        by_arch: Counter[str] = Counter()
        for instance, n in instances.items():
            by_arch[arch.get(instance, "unknown")] += n
        return TaskCounts(dict(counts), dict(by_arch))

    def architectures(self, cluster: str, instance_arns: Sequence[str]) -> dict[str, str]:
        """Container instance ARN -> its ``ecs.cpu-architecture`` attribute (set by the ECS
        agent: ``arm64`` or ``x86_64``)."""
        out: dict[str, str] = {}
        for ci in containers.describe(self.client, cluster, instance_arns):
            attrs = {a.get("name"): a.get("value") for a in ci.get("attributes") or ()}
            out[str(ci["containerInstanceArn"])] = str(
                attrs.get("ecs.cpu-architecture") or "unknown"
            )
        return out

    def registered_capacity(self, cluster: str, ec2_ids: Sequence[str]) -> list[dict[str, int]]:
        """The registered CPU and MEMORY of the cluster's container instances on ``ec2_ids``."""
        out = []
        for ci in containers.on_instances(self.client, cluster, ec2_ids):
            res = {
                str(r["name"]): int(r.get("integerValue") or 0)
                for r in ci.get("registeredResources") or ()
            }
            out.append({"CPU": res.get("CPU", 0), "MEMORY": res.get("MEMORY", 0)})
        return out

    def tags(self, arn: str) -> dict[str, str]:
        resp = self.client.list_tags_for_resource(resourceArn=arn)
        return {t["key"]: t["value"] for t in resp.get("tags", [])}

    def put_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        self.client.tag_resource(
            resourceArn=arn, tags=[{"key": k, "value": v} for k, v in tags.items()]
        )

    def remove_tags(self, arn: str, keys: Sequence[str]) -> None:
        if keys:
            self.client.untag_resource(resourceArn=arn, tagKeys=list(keys))


@dataclass(frozen=True)
class AsgTypes:
    name: str
    types: frozenset[str]
    attribute_based: bool  # instance requirements instead of types: cannot be judged


class AutoScaling:
    """Which instance types an Auto Scaling group launches."""

    def __init__(self, client: Any, ec2_client: Any) -> None:
        self.client = client
        self.ec2 = ec2_client

    def group(self, name: str) -> Mapping[str, Any]:
        group = describe_group(self.client, name)
        if group is None:
            raise PreflightError(f"auto scaling group {name} not found")
        return group

    def instance_types(self, name: str) -> AsgTypes:
        """The types the group runs and may launch (the one fleet reader, aws/fleet.py)."""
        group = self.group(name)
        configured = configured_types(group, ec2=self.ec2, autoscaling=self.client)
        running = {
            str(i["InstanceType"]) for i in group.get("Instances", []) if "InstanceType" in i
        }
        return AsgTypes(
            name=name,
            types=frozenset(running | configured.types),
            attribute_based=configured.attribute_based,
        )
