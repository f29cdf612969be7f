"""Read the x86 capacity provider, its auto scaling group and launch template, and decide its
Graviton twin (reads only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graviton.aws import aws_errors
from graviton.aws.fleet import describe_group, group_name_of, template_version
from graviton.capacity.twin import (
    MANAGED_TAG,
    TWIN_OF_TAG,
    Field,
    How,
    TwinPlan,
    TypeMapping,
    ami_family,
    copied_fields,
    map_type,
    name_problem,
    template_data,
    user_tags,
)
from graviton.errors import UsageError
from graviton.instances import Arch, Generation, architecture

_MANAGED_SCALING_KEYS = (
    "status",
    "targetCapacity",
    "minimumScalingStepSize",
    "maximumScalingStepSize",
    "instanceWarmupPeriod",
)
# auto scaling group settings copied as they are
_GROUP_COPIED = (
    "NewInstancesProtectedFromScaleIn",
    "HealthCheckType",
    "HealthCheckGracePeriod",
    "DefaultCooldown",
    "CapacityRebalance",
    "TerminationPolicies",
)


@dataclass(frozen=True)
class Clients:
    ecs: Any
    autoscaling: Any
    ec2: Any
    ssm: Any

    @property
    def region(self) -> str:
        return str(self.ecs.meta.region_name)


@dataclass(frozen=True)
class PlanRequest:
    cluster: str
    source: str | None = None  # the x86 provider; None: the cluster's only x86 one
    name: str | None = None
    family: str | None = None
    generation: Generation | None = None
    ami: str | None = None


def describe_cluster(ecs: Any, cluster: str) -> Mapping[str, Any]:
    with aws_errors("ECS DescribeClusters"):
        answer = ecs.describe_clusters(clusters=[cluster])
    found = [c for c in answer.get("clusters", []) if c.get("status") != "INACTIVE"]
    if not found:
        raise UsageError(f"ECS cluster {cluster!r} not found")
    cluster_info: Mapping[str, Any] = found[0]
    return cluster_info


def describe_provider(ecs: Any, name: str) -> Mapping[str, Any] | None:
    with aws_errors("ECS DescribeCapacityProviders"):
        answer = ecs.describe_capacity_providers(capacityProviders=[name], include=["TAGS"])
    found = [p for p in answer.get("capacityProviders", []) if p.get("status") != "INACTIVE"]
    return found[0] if found else None


def default_name(source: str) -> str:
    for x86 in ("x86_64", "x86", "amd64", "intel"):
        if x86 in source:
            return source.replace(x86, "arm64" if x86 == "x86_64" else "arm")
    return f"{source}-arm64"


MAX_GROUP_TAGS = 50  # tags per auto scaling group (AWS; moto does not enforce it)


def plan_twin(clients: Clients, request: PlanRequest) -> TwinPlan:
    """The twin of ``request.source`` in ``request.cluster``; UsageError when it cannot be made
    as asked (exit 2, nothing changed)."""
    cluster = describe_cluster(clients.ecs, request.cluster)
    attached = list(cluster.get("capacityProviders") or [])
    source = request.source or _only_x86_provider(clients, attached)
    provider = describe_provider(clients.ecs, source)
    if provider is None:
        raise UsageError(f"capacity provider {source!r} not found")
    if source not in attached:  # its instances join another cluster: the twin's would too
        raise UsageError(
            f"capacity provider {source!r} is not attached to cluster "
            f"{cluster.get('clusterName', request.cluster)!r}: pass the cluster it serves"
        )
    asg_arn = (provider.get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn")
    if not asg_arn:
        raise UsageError(f"capacity provider {source!r} has no auto scaling group")
    group_name = group_name_of(str(asg_arn))
    group = describe_group(clients.autoscaling, group_name)
    if group is None:
        raise UsageError(f"auto scaling group {group_name!r} of {source!r} not found")

    fields: list[Field] = []
    notes: list[str] = []
    mixed = group.get("MixedInstancesPolicy") or {}
    spec = (mixed.get("LaunchTemplate") or {}).get("LaunchTemplateSpecification") or group.get(
        "LaunchTemplate"
    )
    if not spec:
        raise UsageError(
            f"auto scaling group {group_name!r} uses a launch configuration: graviton capacity "
            "copies launch templates only (migrate it to a launch template first)"
        )
    latest = dict(spec, Version="$Latest")
    with aws_errors("EC2 DescribeLaunchTemplateVersions"):
        version = template_version(clients.ec2, latest)
    if isinstance(version, str):
        raise UsageError(version)
    x86_data = dict(version.get("LaunchTemplateData") or {})
    label = f"{version.get('LaunchTemplateName')} v{version.get('VersionNumber')}"

    ami, ami_why = _arm64_ami(clients, x86_data.get("ImageId"), request.ami)
    fields.append(Field("launch-template", "ImageId", ami, How.MAPPED, ami_why))

    mappings: list[TypeMapping] = []
    overrides = (mixed.get("LaunchTemplate") or {}).get("Overrides") or []
    new_overrides: list[dict[str, Any]] = []
    for override in overrides:
        if override.get("InstanceRequirements"):
            raise UsageError(
                f"auto scaling group {group_name!r} picks instance types by attributes: "
                "set arm64 instance requirements by hand"
            )
        if not override.get("InstanceType"):
            continue
        mapping = _map(str(override["InstanceType"]), request)
        mappings.append(mapping)
        assert mapping.graviton_type is not None
        new_overrides.append(
            {k: v for k, v in override.items() if k != "LaunchTemplateSpecification"}
            | {"InstanceType": mapping.graviton_type}
        )
        fields.append(
            Field(
                "auto-scaling-group",
                "Overrides.InstanceType",
                f"{mapping.x86_type} -> {mapping.graviton_type}",
                How.MAPPED,
                mapping.why,
            )
        )
    lt_type: str | None = None
    if x86_data.get("InstanceRequirements"):
        raise UsageError(
            f"launch template {label} picks instance types by attributes: "
            "set arm64 instance requirements by hand"
        )
    if x86_data.get("InstanceType"):
        mapping = _map(str(x86_data["InstanceType"]), request)
        mappings.append(mapping)
        lt_type = mapping.graviton_type
        fields.append(
            Field(
                "launch-template",
                "InstanceType",
                f"{mapping.x86_type} -> {lt_type}",
                How.MAPPED,
                mapping.why,
            )
        )
    if not mappings:
        raise UsageError(f"auto scaling group {group_name!r}: no instance type to map")
    fields.extend(copied_fields(x86_data))
    data = template_data(x86_data, ami, lt_type)

    name = request.name or default_name(source)
    problem = name_problem(name, source)
    if problem is not None:
        raise UsageError(problem)
    group_request: dict[str, Any] = {
        "AutoScalingGroupName": name,
        "MinSize": 0,
        "MaxSize": int(group.get("MaxSize") or 0),
        "DesiredCapacity": 0,
    }
    fields.append(Field("auto-scaling-group", "AutoScalingGroupName", name, How.SET))
    fields.append(Field("auto-scaling-group", "MinSize", "0", How.SET, "grows with the shift"))
    fields.append(
        Field(
            "auto-scaling-group",
            "DesiredCapacity",
            "0",
            How.SET,
            "managed scaling adds instances as tasks arrive",
        )
    )
    fields.append(Field("auto-scaling-group", "MaxSize", str(group_request["MaxSize"]), How.COPIED))
    if group.get("VPCZoneIdentifier"):
        group_request["VPCZoneIdentifier"] = group["VPCZoneIdentifier"]
        fields.append(
            Field(
                "auto-scaling-group",
                "VPCZoneIdentifier",
                str(group["VPCZoneIdentifier"]),
                How.COPIED,
            )
        )
    else:
        group_request["AvailabilityZones"] = list(group.get("AvailabilityZones") or [])
        fields.append(
            Field(
                "auto-scaling-group",
                "AvailabilityZones",
                ",".join(group_request["AvailabilityZones"]),
                How.COPIED,
            )
        )
    for key in _GROUP_COPIED:
        if group.get(key) is not None:
            group_request[key] = group[key]
            fields.append(Field("auto-scaling-group", key, str(group[key]), How.COPIED))
    if mixed:
        policy: dict[str, Any] = {"LaunchTemplate": {"Overrides": new_overrides}}
        if mixed.get("InstancesDistribution"):
            policy["InstancesDistribution"] = mixed["InstancesDistribution"]
            fields.append(
                Field(
                    "auto-scaling-group",
                    "InstancesDistribution",
                    _short_json(mixed["InstancesDistribution"]),
                    How.COPIED,
                    "Spot settings kept",
                )
            )
        group_request["MixedInstancesPolicy"] = policy
    tags = user_tags(group.get("Tags") or [])
    tags.append({"Key": MANAGED_TAG, "Value": "", "PropagateAtLaunch": True})
    tags.append({"Key": TWIN_OF_TAG, "Value": source, "PropagateAtLaunch": False})
    if len(tags) > MAX_GROUP_TAGS:  # AWS refuses the group: refuse before anything is made
        raise UsageError(
            f"the twin's auto scaling group would carry {len(tags)} tags ({len(tags) - 2} copied "
            f"from {group_name}, {MANAGED_TAG}, {TWIN_OF_TAG}); AWS allows {MAX_GROUP_TAGS}: "
            f"remove {len(tags) - MAX_GROUP_TAGS} from {group_name} first"
        )
    group_request["Tags"] = tags
    fields.append(
        Field(
            "auto-scaling-group",
            "Tags",
            f"{MANAGED_TAG}, {TWIN_OF_TAG}={source} (+{len(tags) - 2} copied)",
            How.SET,
            "ECS managed scaling needs AmazonECSManaged",
        )
    )

    asg_provider = provider.get("autoScalingGroupProvider") or {}
    scaling = {
        k: v
        for k, v in (asg_provider.get("managedScaling") or {}).items()
        if k in _MANAGED_SCALING_KEYS
    }
    provider_request: dict[str, Any] = {
        "name": name,
        "autoScalingGroupProvider": {
            "managedScaling": scaling,
            "managedTerminationProtection": asg_provider.get(
                "managedTerminationProtection", "DISABLED"
            ),
        },
        "tags": [{"key": TWIN_OF_TAG, "value": source}],
    }
    if asg_provider.get("managedDraining"):
        provider_request["autoScalingGroupProvider"]["managedDraining"] = asg_provider[
            "managedDraining"
        ]
    fields.append(
        Field(
            "capacity-provider",
            "managedScaling",
            _short_json(scaling) if scaling else "(none)",
            How.COPIED,
        )
    )
    fields.append(
        Field(
            "capacity-provider",
            "managedTerminationProtection",
            str(provider_request["autoScalingGroupProvider"]["managedTerminationProtection"]),
            How.COPIED,
        )
    )
    if scaling.get("status") != "ENABLED":
        notes.append(
            f"{source} has no managed scaling: the twin will not grow by itself, so each shift "
            "step waits for capacity you add"
        )
    strategy = cluster.get("defaultCapacityProviderStrategy") or []
    fields.append(
        Field(
            "cluster",
            "capacityProviders",
            ", ".join([*attached, name] if name not in attached else attached),
            How.SET,
            "attached; default strategy unchanged: " + (_strategy_text(strategy) or "(none)"),
        )
    )
    return TwinPlan(
        cluster=str(cluster.get("clusterName", request.cluster)),
        region=clients.region,
        source_provider=source,
        source_group=group_name,
        name=name,
        ami=ami,
        ami_why=ami_why,
        template_data=data,
        group_request=group_request,
        provider_request=provider_request,
        type_mappings=tuple(mappings),
        fields=tuple(fields),
        max_size=int(group_request["MaxSize"]),
        notes=tuple(notes),
    )


def _strategy_text(strategy: Any) -> str:
    return ", ".join(
        f"{i['capacityProvider']}:{i.get('weight', 0)} (base {i.get('base', 0)})" for i in strategy
    )


def _short_json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)


def _map(instance_type: str, request: PlanRequest) -> TypeMapping:
    mapping = map_type(instance_type, family=request.family, generation=request.generation)
    if mapping.graviton_type is None:
        raise UsageError(f"{instance_type}: {mapping.why}")
    return mapping


def _only_x86_provider(clients: Clients, attached: list[str]) -> str:
    from graviton.aws.fleet import configured_types, running_types

    x86: list[str] = []
    for name in attached:
        provider = describe_provider(clients.ecs, name)
        arn = ((provider or {}).get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn")
        if not arn:
            continue
        group = describe_group(clients.autoscaling, group_name_of(str(arn)))
        if group is None:
            continue
        types = set(running_types(group) or ()) or set(
            configured_types(group, ec2=clients.ec2, autoscaling=clients.autoscaling).types
        )
        if types and all(architecture(t) is Arch.X86_64 for t in types):
            x86.append(name)
    if len(x86) != 1:
        found = ", ".join(x86) or "none"
        raise UsageError(f"pass --from: the cluster's x86 capacity providers are {found}")
    return x86[0]


def _arm64_ami(clients: Clients, x86_ami: Any, given: str | None) -> tuple[str, str]:
    """The arm64 AMI for the twin and why; UsageError for a custom AMI without --ami."""
    if given:
        import botocore.exceptions

        try:
            images = clients.ec2.describe_images(ImageIds=[given]).get("Images", [])
        except botocore.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if not code.startswith("InvalidAMIID"):  # NotFound, Malformed, Unavailable
                with aws_errors("EC2 DescribeImages"):
                    raise
            images = []
        except botocore.exceptions.BotoCoreError:
            with aws_errors("EC2 DescribeImages"):
                raise
        if not images:
            raise UsageError(f"--ami {given}: no such image in {clients.region}")
        arch = images[0].get("Architecture")
        if arch != "arm64":
            raise UsageError(f"--ami {given} is {arch}, not arm64")
        return given, "--ami (arm64)"
    if not x86_ami:
        raise UsageError("the x86 launch template sets no AMI: pass --ami with an arm64 AMI")
    with aws_errors("EC2 DescribeImages"):
        images = clients.ec2.describe_images(ImageIds=[str(x86_ami)]).get("Images", [])
    image_name = str(images[0].get("Name", "")) if images else ""
    family = ami_family(image_name) if image_name else None
    if family is None:
        what = f"{x86_ami} ({image_name})" if image_name else f"{x86_ami} (not readable)"
        raise UsageError(
            f"the x86 AMI {what} is not an ECS-optimized AMI graviton knows: "
            "pass --ami with its arm64 build"
        )
    import botocore.exceptions

    try:
        value = clients.ssm.get_parameter(Name=family.arm64_parameter)["Parameter"]["Value"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise UsageError(
                f"{family.arm64_parameter} is not published in {clients.region}: pass --ami"
            ) from None
        with aws_errors(f"SSM GetParameter {family.arm64_parameter}"):
            raise
    except botocore.exceptions.BotoCoreError:
        with aws_errors(f"SSM GetParameter {family.arm64_parameter}"):
            raise
    return str(
        value
    ), f"{family.name}: x86 AMI {x86_ami} ({image_name}) -> {family.arm64_parameter}"
