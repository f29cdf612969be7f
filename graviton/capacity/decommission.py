"""Take an x86 capacity provider down once nothing uses it (``graviton capacity decommission``
and ``graviton shift --finalize --scale-in-x86``).

Refused (exit 2, nothing changed, every user named) while a service's capacity provider
strategy or the cluster's default strategy gives the provider weight or base, while another
cluster has it attached (its group serves that cluster), while a task runs
or is pending on one of its container instances, or while one of its instances is protected
from scale-in without being a container instance graviton can drain. Otherwise, in this order:
strategy entries naming it with weight 0 and base 0 are dropped (ECS does not detach a provider
a strategy names; dropping one from a service's strategy is a new deployment of that service,
whose tasks stay where the rest of its strategy places them); it is detached from the cluster
(every other provider kept); its container instances are set to DRAINING and waited for until
empty; their scale-in protection is lifted (they are empty) and the group is scaled to 0 (not
written when its minimum and desired capacity already are 0); with
``delete``, the group, the launch template only it used and then the capacity provider are
deleted (the provider last, so that a rerun after a failed step finds what is left).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graviton.aws import aws_errors, containers
from graviton.aws.fleet import chunks, describe_group, group_name_of
from graviton.capacity.plan import describe_cluster, describe_provider
from graviton.errors import PreflightError, ServiceUnavailable, UsageError


class DecommissionRefused(PreflightError):
    """Something still uses the provider (exit 2); ``users`` names each one."""

    def __init__(self, provider: str, users: Sequence[str]) -> None:
        self.users = tuple(users)
        super().__init__(f"{provider} is still in use: " + "; ".join(users))


class DrainTimeout(ServiceUnavailable):
    """Container instances still had tasks when the drain timeout ran out (exit 3)."""


@dataclass(frozen=True)
class DecommissionRequest:
    cluster: str
    provider: str
    delete: bool = False
    dry_run: bool = False
    timeout: float = 1800.0  # seconds to wait for the drain
    poll: float = 10.0


@dataclass(frozen=True)
class DecommissionReport:
    cluster: str
    provider: str
    auto_scaling_group: str
    dry_run: bool
    actions: tuple[str, ...]  # done (or, in a dry run, to be done), in order
    container_instances: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "graviton.capacity.decommission/v1",
            "cluster": self.cluster,
            "provider": self.provider,
            "auto_scaling_group": self.auto_scaling_group,
            "dry_run": self.dry_run,
            "actions": list(self.actions),
            "container_instances": list(self.container_instances),
        }

    def text(self) -> str:
        head = "would" if self.dry_run else "did"
        lines = [f"decommission {self.provider} ({self.auto_scaling_group}) in {self.cluster}:"]
        lines += [f"  {head}: {action}" for action in self.actions]
        return "\n".join(lines) + "\n"


def _gives(item: Mapping[str, Any]) -> bool:
    return int(item.get("weight") or 0) > 0 or int(item.get("base") or 0) > 0


def _services(ecs: Any, cluster: str) -> list[Mapping[str, Any]]:
    arns: list[str] = []
    with aws_errors("ECS ListServices"):
        for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
            arns.extend(page.get("serviceArns", []))
    out: list[Mapping[str, Any]] = []
    for chunk in chunks(arns, 10):
        with aws_errors("ECS DescribeServices"):
            answer = ecs.describe_services(cluster=cluster, services=chunk)
        out.extend(s for s in answer.get("services", []) if s.get("status") != "INACTIVE")
    return out


def _at_zero(group: Mapping[str, Any] | None) -> bool:
    """Whether the group's minimum and desired capacity are both 0, as read (never assumed)."""
    return group is not None and group.get("MinSize") == 0 and group.get("DesiredCapacity") == 0


def _busy(ci: Mapping[str, Any]) -> int:
    return int(ci.get("runningTasksCount") or 0) + int(ci.get("pendingTasksCount") or 0)


def decommission(
    clients: Any,
    request: DecommissionRequest,
    *,
    emit: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DecommissionReport:
    """Decommission ``request.provider``; ``clients`` has ``ecs``, ``autoscaling`` and ``ec2``
    boto3 clients. Raises :class:`DecommissionRefused` (exit 2, nothing changed),
    :class:`DrainTimeout` or ``ServiceUnavailable`` (exit 3)."""
    ecs, autoscaling = clients.ecs, clients.autoscaling
    say = emit or (lambda line: None)
    cluster = describe_cluster(ecs, request.cluster)
    cluster_name = str(cluster.get("clusterName", request.cluster))
    provider = describe_provider(ecs, request.provider)
    if provider is None:
        raise UsageError(f"capacity provider {request.provider!r} not found")
    asg_provider = provider.get("autoScalingGroupProvider") or {}
    if not asg_provider.get("autoScalingGroupArn"):
        raise UsageError(f"{request.provider} has no auto scaling group (Fargate?)")
    group_name = group_name_of(str(asg_provider["autoScalingGroupArn"]))
    group = describe_group(autoscaling, group_name)

    # ---- who still uses it (reads only) ----
    users: list[str] = []
    if request.provider not in (cluster.get("capacityProviders") or []):
        # not this cluster's (or detached by an earlier run): it must be no other cluster's,
        # or its group would be scaled in under that cluster's tasks
        for other in _clusters_using(ecs, request.provider, str(cluster.get("clusterArn", ""))):
            users.append(f"it is attached to cluster {other}, not {cluster_name}")
    zero_in: list[Mapping[str, Any]] = []
    default = list(cluster.get("defaultCapacityProviderStrategy") or [])
    for item in default:
        if item.get("capacityProvider") == request.provider and _gives(item):
            users.append(
                f"the cluster default strategy gives it weight {item.get('weight', 0)}, "
                f"base {item.get('base', 0)}"
            )
    services = _services(ecs, cluster_name)
    for service in services:
        for item in service.get("capacityProviderStrategy") or []:
            if item.get("capacityProvider") != request.provider:
                continue
            others = [
                i
                for i in service.get("capacityProviderStrategy") or []
                if i.get("capacityProvider") != request.provider
            ]
            if _gives(item):
                users.append(
                    f"service {service['serviceName']} (weight {item.get('weight', 0)}, "
                    f"base {item.get('base', 0)})"
                )
            elif not any(_gives(i) for i in others):
                users.append(
                    f"service {service['serviceName']} (its strategy has no other provider "
                    "with weight: shift it first)"
                )
            else:
                zero_in.append(service)
    instances = list((group or {}).get("Instances") or [])
    instance_ids = {str(i["InstanceId"]) for i in instances}
    cis = containers.on_instances(ecs, cluster_name, instance_ids)
    for ci in cis:
        if _busy(ci):
            users.append(
                f"container instance {ci.get('ec2InstanceId')} runs "
                f"{ci.get('runningTasksCount', 0)} task(s), "
                f"{ci.get('pendingTasksCount', 0)} pending"
                + _task_owners(ecs, cluster_name, str(ci["containerInstanceArn"]))
            )
    registered = {str(ci.get("ec2InstanceId")) for ci in cis}
    for instance in instances:
        if instance.get("ProtectedFromScaleIn") and instance["InstanceId"] not in registered:
            if str(instance.get("LifecycleState", "")).startswith("Terminat"):
                continue
            users.append(
                f"instance {instance['InstanceId']} is protected from scale-in and is not a "
                f"container instance of {cluster_name}: graviton will not lift its protection"
            )
    if users:
        raise DecommissionRefused(request.provider, users)

    # ---- the plan ----
    attached = request.provider in (cluster.get("capacityProviders") or [])
    new_default = [i for i in default if i.get("capacityProvider") != request.provider]
    actions: list[str] = []
    done = actions.append

    def step(text: str, run: Callable[[], None]) -> None:
        if not request.dry_run:
            run()
        say(("would: " if request.dry_run else "") + text)
        done(text)

    for service in zero_in:
        rest = [
            dict(i)
            for i in service.get("capacityProviderStrategy") or []
            if i.get("capacityProvider") != request.provider
        ]
        name = str(service["serviceName"])

        def drop(name: str = name, rest: list[dict[str, Any]] = rest) -> None:
            with aws_errors(f"ECS UpdateService {name}"):
                ecs.update_service(
                    cluster=cluster_name,
                    service=name,
                    capacityProviderStrategy=rest,
                    forceNewDeployment=True,
                )

        step(f"dropped {request.provider} (weight 0) from service {name}'s strategy", drop)
    if attached:
        remaining = [p for p in cluster.get("capacityProviders") or [] if p != request.provider]

        def detach() -> None:
            with aws_errors("ECS PutClusterCapacityProviders"):
                ecs.put_cluster_capacity_providers(
                    cluster=cluster_name,
                    capacityProviders=remaining,
                    defaultCapacityProviderStrategy=new_default,
                )

        step(f"detached {request.provider} from cluster {cluster_name}", detach)
    ci_arns = [str(ci["containerInstanceArn"]) for ci in cis]
    if ci_arns:
        step(
            f"set {len(ci_arns)} container instance(s) to DRAINING and waited for them to empty",
            lambda: _drain(ecs, cluster_name, ci_arns, request, sleep, clock),
        )
    protected = [str(i["InstanceId"]) for i in instances if i.get("ProtectedFromScaleIn")]
    if protected:

        def unprotect() -> None:
            for chunk in chunks(protected, 50):
                with aws_errors("Auto Scaling SetInstanceProtection"):
                    autoscaling.set_instance_protection(
                        AutoScalingGroupName=group_name,
                        InstanceIds=chunk,
                        ProtectedFromScaleIn=False,
                    )

        step(f"lifted scale-in protection of {len(protected)} drained instance(s)", unprotect)
    # at 0 already (``shift --finalize --scale-in-x86`` ran first): nothing to write; read again
    # before saying so, the drain may have taken minutes
    if (
        group is not None
        and _at_zero(group)
        and (request.dry_run or _at_zero(describe_group(autoscaling, group_name)))
    ):
        step(
            f"kept auto scaling group {group_name} as it was: already at 0 (min 0, desired 0)",
            lambda: None,
        )
    elif group is not None:

        def scale() -> None:
            with aws_errors("Auto Scaling UpdateAutoScalingGroup"):
                autoscaling.update_auto_scaling_group(
                    AutoScalingGroupName=group_name, MinSize=0, DesiredCapacity=0
                )

        step(f"scaled auto scaling group {group_name} to 0", scale)
    if request.delete:
        _delete(clients, request, group_name, group, step)
    return DecommissionReport(
        cluster=cluster_name,
        provider=request.provider,
        auto_scaling_group=group_name,
        dry_run=request.dry_run,
        actions=tuple(actions),
        container_instances=tuple(str(ci.get("ec2InstanceId")) for ci in cis),
    )


def _clusters_using(ecs: Any, provider: str, this_arn: str) -> list[str]:
    """The names of the other clusters that have ``provider`` attached."""
    arns: list[str] = []
    with aws_errors("ECS ListClusters"):
        for page in ecs.get_paginator("list_clusters").paginate():
            arns.extend(a for a in page.get("clusterArns", []) if a != this_arn)
    out: list[str] = []
    for chunk in chunks(arns, 100):
        with aws_errors("ECS DescribeClusters"):
            answer = ecs.describe_clusters(clusters=chunk)
        out += [
            str(c.get("clusterName"))
            for c in answer.get("clusters", [])
            if provider in (c.get("capacityProviders") or []) and c.get("status") != "INACTIVE"
        ]
    return out


def _task_owners(ecs: Any, cluster: str, ci_arn: str) -> str:
    with aws_errors("ECS ListTasks"):
        arns = ecs.list_tasks(cluster=cluster, containerInstance=ci_arn).get("taskArns", [])
    if not arns:
        return ""
    with aws_errors("ECS DescribeTasks"):
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:100]).get("tasks", [])
    groups = sorted({str(t.get("group") or "?") for t in tasks})
    return f" ({', '.join(groups)})" if groups else ""


def _drain(
    ecs: Any,
    cluster: str,
    arns: list[str],
    request: DecommissionRequest,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> None:
    for chunk in chunks(arns, 10):
        with aws_errors("ECS UpdateContainerInstancesState"):
            ecs.update_container_instances_state(
                cluster=cluster, containerInstances=chunk, status="DRAINING"
            )
    deadline = clock() + request.timeout
    while True:
        busy = [
            str(ci.get("ec2InstanceId"))
            for ci in containers.describe(ecs, cluster, arns)
            if _busy(ci)
        ]
        if not busy:
            return
        if clock() >= deadline:
            raise DrainTimeout(
                f"{request.provider}: {', '.join(busy)} still ran tasks after "
                f"{request.timeout:g}s of DRAINING (left DRAINING, detached; rerun to finish)"
            )
        sleep(request.poll)


def _delete(
    clients: Any,
    request: DecommissionRequest,
    group_name: str,
    group: Mapping[str, Any] | None,
    step: Callable[[str, Callable[[], None]], None],
) -> None:
    ecs, autoscaling, ec2 = clients.ecs, clients.autoscaling, clients.ec2
    # The provider goes last: it is what a rerun finds the group and template by, so a step
    # that fails leaves what a rerun needs to finish (ECS marks a provider whose group is
    # deleted INACTIVE by itself).
    if group is not None:
        _delete_group_and_template(autoscaling, ec2, group_name, group, step)

    def provider() -> None:
        if describe_provider(ecs, request.provider) is None:
            return  # INACTIVE once its group was deleted
        with aws_errors("ECS DeleteCapacityProvider"):
            ecs.delete_capacity_provider(capacityProvider=request.provider)

    step(f"deleted capacity provider {request.provider}", provider)


def _delete_group_and_template(
    autoscaling: Any,
    ec2: Any,
    group_name: str,
    group: Mapping[str, Any],
    step: Callable[[str, Callable[[], None]], None],
) -> None:
    spec = group.get("LaunchTemplate") or (
        (group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}
    ).get("LaunchTemplateSpecification")
    others = _other_users(autoscaling, group_name, spec) if spec else []

    def delete_group() -> None:
        with aws_errors("Auto Scaling DeleteAutoScalingGroup"):
            autoscaling.delete_auto_scaling_group(AutoScalingGroupName=group_name, ForceDelete=True)

    step(f"deleted auto scaling group {group_name}", delete_group)
    if not spec:
        return
    label = str(spec.get("LaunchTemplateName") or spec.get("LaunchTemplateId"))
    if others:
        step(f"kept launch template {label}: also used by {', '.join(others)}", lambda: None)
        return
    key = "LaunchTemplateId" if spec.get("LaunchTemplateId") else "LaunchTemplateName"

    def template() -> None:
        with aws_errors("EC2 DeleteLaunchTemplate"):
            ec2.delete_launch_template(**{key: spec[key]})

    step(f"deleted launch template {label}", template)


def _other_users(autoscaling: Any, group_name: str, spec: Mapping[str, Any]) -> list[str]:
    ident = {spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName")} - {None}
    others = []
    with aws_errors("Auto Scaling DescribeAutoScalingGroups"):
        for page in autoscaling.get_paginator("describe_auto_scaling_groups").paginate():
            for group in page.get("AutoScalingGroups", []):
                if group["AutoScalingGroupName"] == group_name:
                    continue
                other = (
                    group.get("LaunchTemplate")
                    or ((group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get(
                        "LaunchTemplateSpecification"
                    )
                    or {}
                )
                if {other.get("LaunchTemplateId"), other.get("LaunchTemplateName")} & ident:
                    others.append(str(group["AutoScalingGroupName"]))
    return others


@dataclass(frozen=True)
class DecommissionClients:
    """The boto3 clients :func:`decommission` uses."""

    ecs: Any
    autoscaling: Any
    ec2: Any
