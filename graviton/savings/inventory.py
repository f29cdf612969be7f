"""Read what runs behind an ECS cluster's capacity providers (the boto3 edge of ``savings``).

cluster -> capacity providers (DescribeClusters, DescribeCapacityProviders) -> auto scaling
groups (DescribeAutoScalingGroups) -> instance types and counts. The running instances are
the fact; a group with none is priced at its desired capacity, with the type its mixed
instances policy, launch template or launch configuration would launch, and says so. With a
service, only the providers its capacity provider strategy draws from are read.

Nothing here writes to AWS.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from graviton.aws import AwsOptions, aws_errors
from graviton.aws.fleet import chunks, configured_types, group_name_of, running_types
from graviton.errors import UsageError
from graviton.savings.report import (
    CountedFrom,
    InstanceCount,
    Inventory,
    ProviderFleet,
    Skipped,
)

FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
_FARGATE_REASON = (
    "Fargate: no EC2 instances to price (on Fargate, a task definition with "
    "runtimePlatform.cpuArchitecture ARM64 runs on Graviton)"
)


def read_inventory(aws: AwsOptions, cluster: str, service: str | None = None) -> Inventory:
    """The inventory of ``cluster`` (or of the providers ``service`` uses) in ``aws``'s region."""
    with aws_errors("AWS"):
        ecs = aws.client("ecs")
        autoscaling = aws.client("autoscaling")
        ec2 = aws.client("ec2")
        region = str(ecs.meta.region_name)
    return collect(ecs, autoscaling, ec2, cluster=cluster, region=region, service=service)


def collect(
    ecs: Any,
    autoscaling: Any,
    ec2: Any,
    *,
    cluster: str,
    region: str,
    service: str | None = None,
) -> Inventory:
    """:func:`read_inventory` with the clients given (ECS, Auto Scaling, EC2)."""
    with aws_errors("ECS DescribeClusters"):
        answer = ecs.describe_clusters(clusters=[cluster])
    found = [c for c in answer.get("clusters", []) if c.get("status") != "INACTIVE"]
    if not found:
        raise UsageError(f"ECS cluster {cluster!r} not found in {region}")
    info = found[0]
    notes: list[str] = []
    if service is None:
        names = list(info.get("capacityProviders") or [])
        if not names:
            raise UsageError(
                f"ECS cluster {cluster!r} has no capacity providers: nothing to price "
                "(graviton savings reads the auto scaling groups behind capacity providers)"
            )
    else:
        names, service_notes = _service_providers(ecs, info, service)
        notes.extend(service_notes)

    skipped = [Skipped(name, _FARGATE_REASON) for name in names if name in FARGATE_PROVIDERS]
    groups_of, unusable = _provider_groups(ecs, [n for n in names if n not in FARGATE_PROVIDERS])
    skipped.extend(unusable)
    groups = _describe_groups(autoscaling, sorted(set(groups_of.values())))

    fleets: list[ProviderFleet] = []
    for provider, group_name in groups_of.items():
        group = groups.get(group_name)
        if group is None:
            skipped.append(Skipped(provider, f"auto scaling group {group_name!r} not found"))
            continue
        fleet = fleet_of(provider, group, ec2=ec2, autoscaling=autoscaling)
        if isinstance(fleet, Skipped):
            skipped.append(fleet)
        else:
            fleets.append(fleet)
    return Inventory(
        cluster=str(info.get("clusterName", cluster)),
        region=region,
        service=service,
        fleets=tuple(fleets),
        skipped=tuple(skipped),
        notes=tuple(notes),
    )


def _service_providers(
    ecs: Any, cluster: Mapping[str, Any], service: str
) -> tuple[list[str], list[str]]:
    """The capacity providers ``service``'s tasks are placed on, and how that was decided."""
    cluster_name = str(cluster.get("clusterName"))
    with aws_errors("ECS DescribeServices"):
        answer = ecs.describe_services(cluster=cluster["clusterArn"], services=[service])
    found = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
    if not found:
        raise UsageError(f"ECS service {service!r} not found in cluster {cluster_name!r}")
    svc = found[0]
    strategy = svc.get("capacityProviderStrategy") or []
    if strategy:
        return [str(item["capacityProvider"]) for item in strategy], []
    launch_type = svc.get("launchType")
    if launch_type == "FARGATE":
        raise UsageError(f"ECS service {service!r} runs on Fargate: no EC2 capacity to price")
    if launch_type == "EXTERNAL":
        raise UsageError(f"ECS service {service!r} runs on ECS Anywhere: no EC2 capacity to price")
    default = cluster.get("defaultCapacityProviderStrategy") or []
    if launch_type != "EC2" and default:
        note = f"service {service!r} has no capacity provider strategy: used the cluster default"
        return [str(item["capacityProvider"]) for item in default], [note]
    names = list(cluster.get("capacityProviders") or [])
    if not names:
        raise UsageError(
            f"ECS service {service!r} uses no capacity provider and cluster {cluster_name!r} "
            "has none: nothing to price"
        )
    note = (
        f"service {service!r} has launch type EC2 and no capacity provider strategy: its tasks "
        "can land on any instance, so every provider of the cluster is counted"
    )
    return names, [note]


def _provider_groups(ecs: Any, names: Sequence[str]) -> tuple[dict[str, str], list[Skipped]]:
    groups: dict[str, str] = {}
    skipped: list[Skipped] = []
    for chunk in chunks(names, 20):
        with aws_errors("ECS DescribeCapacityProviders"):
            answer = ecs.describe_capacity_providers(capacityProviders=chunk)
        for provider in answer.get("capacityProviders", []):
            name = str(provider["name"])
            asg = (provider.get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn")
            if asg:
                groups[name] = group_name_of(str(asg))
            else:
                skipped.append(Skipped(name, "no auto scaling group behind this provider"))
        for failure in answer.get("failures", []):
            name = str(failure.get("arn", "?")).rsplit("/", 1)[-1]
            skipped.append(Skipped(name, f"capacity provider {failure.get('reason', 'MISSING')}"))
    # keep the order the cluster (or the service's strategy) lists them in
    return {name: groups[name] for name in names if name in groups}, skipped


def _describe_groups(autoscaling: Any, names: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    groups: dict[str, Mapping[str, Any]] = {}
    paginator = autoscaling.get_paginator("describe_auto_scaling_groups")
    for chunk in chunks(names, 50):
        with aws_errors("Auto Scaling DescribeAutoScalingGroups"):
            for page in paginator.paginate(AutoScalingGroupNames=chunk):
                for group in page.get("AutoScalingGroups", []):
                    groups[str(group["AutoScalingGroupName"])] = group
    return groups


def fleet_of(
    provider: str, group: Mapping[str, Any], *, ec2: Any, autoscaling: Any
) -> ProviderFleet | Skipped:
    """Count one group's instances by type; fall back to its configuration when it has none."""
    name = str(group["AutoScalingGroupName"])
    running = running_types(group)
    if running:
        counts = Counter(running)
        return ProviderFleet(
            provider=provider,
            auto_scaling_group=name,
            instances=tuple(InstanceCount(t, n) for t, n in sorted(counts.items())),
        )

    configured = configured_types(group, ec2=ec2, autoscaling=autoscaling)
    if not configured.options or configured.source is None:
        return Skipped(provider, f"auto scaling group {name!r}: {configured.problem}")
    first = configured.options[0]
    counted_from = CountedFrom(configured.source.value)
    desired = int(group.get("DesiredCapacity") or 0)
    present = [i for i in group.get("Instances") or [] if not _terminating(i)]
    if present:  # instances without a type in the answer: count them, type from the config
        count, basis = len(present), f"its {len(present)} instances"
    else:
        count, basis = math.ceil(desired / first.weight), f"desired capacity {desired}"
    notes = [
        f"no instance types in the answer: priced {basis} as {first.instance_type} ({counted_from})"
    ]
    if len(configured.options) > 1:
        others = ", ".join(o.instance_type for o in configured.options[1:])
        notes.append(f"the mixed instances policy may also launch {others}")
    return ProviderFleet(
        provider=provider,
        auto_scaling_group=name,
        instances=(InstanceCount(first.instance_type, count),),
        counted_from=counted_from,
        notes=tuple(notes),
    )


def _terminating(instance: Mapping[str, Any]) -> bool:
    return str(instance.get("LifecycleState", "")).startswith("Terminat")
