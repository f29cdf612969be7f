"""The one reader of "what an auto scaling group launches" (instance types, launch template data).

Shared by ``savings`` (what to price), ``capacity`` (what to map to Graviton) and ``rollout``
(is a provider x86 or arm64). Reads only; AWS errors become one-line exit-3 errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graviton.aws.session import aws_errors


class TypeSource(StrEnum):
    """Where a group's instance types were read from."""

    MIXED_INSTANCES_POLICY = "mixed-instances-policy"
    LAUNCH_TEMPLATE = "launch-template"
    LAUNCH_CONFIGURATION = "launch-configuration"


@dataclass(frozen=True)
class TypeOption:
    """One instance type a group may launch, with the capacity units one instance counts for."""

    instance_type: str
    weight: int = 1


@dataclass(frozen=True)
class ConfiguredTypes:
    """The types a group's configuration launches (mixed policy overrides first, in order).

    ``problem`` says why no type could be read (attribute-based selection, a missing
    template); ``options`` is then empty."""

    source: TypeSource | None
    options: tuple[TypeOption, ...]
    attribute_based: bool = False
    problem: str | None = None

    @property
    def types(self) -> frozenset[str]:
        return frozenset(option.instance_type for option in self.options)


def chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    """``items`` in lists of at most ``size`` (AWS's per-call limits)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def group_name_of(arn_or_name: str) -> str:
    """The group name in an auto scaling group ARN (ECS accepts a bare name too)."""
    marker = ":autoScalingGroupName/"
    return arn_or_name.split(marker, 1)[1] if marker in arn_or_name else arn_or_name


def describe_group(autoscaling: Any, name: str) -> Mapping[str, Any] | None:
    """DescribeAutoScalingGroups for one group; None when it does not exist."""
    with aws_errors("Auto Scaling DescribeAutoScalingGroups"):
        answer = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    groups = answer.get("AutoScalingGroups", [])
    return groups[0] if groups else None


def running_types(group: Mapping[str, Any]) -> tuple[str, ...] | None:
    """One instance type per instance not terminating; None when any instance lacks its type."""
    running = [
        instance
        for instance in group.get("Instances") or []
        if not str(instance.get("LifecycleState", "")).startswith("Terminat")
    ]
    if not all(instance.get("InstanceType") for instance in running):
        return None
    return tuple(str(instance["InstanceType"]) for instance in running)


def template_version(ec2: Any, spec: Mapping[str, Any]) -> Mapping[str, Any] | str:
    """The launch template version ``spec`` names (Id or Name, Version; default ``$Default``):
    the whole DescribeLaunchTemplateVersions item, or why it cannot be read."""
    import botocore.exceptions

    ident = {key: spec[key] for key in ("LaunchTemplateId", "LaunchTemplateName") if spec.get(key)}
    label = str(spec.get("LaunchTemplateName") or spec.get("LaunchTemplateId") or "?")
    if "LaunchTemplateId" in ident:
        ident.pop("LaunchTemplateName", None)
    version = str(spec.get("Version") or "$Default")
    try:
        answer = ec2.describe_launch_template_versions(**ident, Versions=[version])
    except botocore.exceptions.ClientError as exc:
        if "NotFound" in str(exc.response.get("Error", {}).get("Code", "")):
            return f"launch template {label!r} version {version} not found"
        with aws_errors("EC2 DescribeLaunchTemplateVersions"):
            raise
    except botocore.exceptions.BotoCoreError:
        with aws_errors("EC2 DescribeLaunchTemplateVersions"):
            raise
    versions = answer.get("LaunchTemplateVersions", [])
    if not versions:
        return f"launch template {label!r} version {version} not found"
    return dict(versions[0])


def configured_types(group: Mapping[str, Any], *, ec2: Any, autoscaling: Any) -> ConfiguredTypes:
    """The instance types ``group``'s mixed instances policy, launch template or launch
    configuration would launch."""
    policy = group.get("MixedInstancesPolicy")
    if policy:
        template = policy.get("LaunchTemplate") or {}
        overrides = template.get("Overrides") or []
        typed = tuple(
            TypeOption(str(o["InstanceType"]), max(1, int(o.get("WeightedCapacity") or 1)))
            for o in overrides
            if o.get("InstanceType")
        )
        attribute_based = any(o.get("InstanceRequirements") for o in overrides)
        if typed:
            return ConfiguredTypes(TypeSource.MIXED_INSTANCES_POLICY, typed, attribute_based)
        if overrides:
            return ConfiguredTypes(
                TypeSource.MIXED_INSTANCES_POLICY,
                (),
                True,
                "its mixed instances policy picks instance types by attributes",
            )
        return _from_template(
            ec2,
            template.get("LaunchTemplateSpecification") or {},
            TypeSource.MIXED_INSTANCES_POLICY,
        )
    if group.get("LaunchTemplate"):
        return _from_template(ec2, group["LaunchTemplate"], TypeSource.LAUNCH_TEMPLATE)
    if group.get("LaunchConfigurationName"):
        lc_name = str(group["LaunchConfigurationName"])
        with aws_errors("Auto Scaling DescribeLaunchConfigurations"):
            answer = autoscaling.describe_launch_configurations(LaunchConfigurationNames=[lc_name])
        configs = answer.get("LaunchConfigurations", [])
        if configs and configs[0].get("InstanceType"):
            option = TypeOption(str(configs[0]["InstanceType"]))
            return ConfiguredTypes(TypeSource.LAUNCH_CONFIGURATION, (option,))
        return ConfiguredTypes(
            TypeSource.LAUNCH_CONFIGURATION,
            (),
            problem=f"launch configuration {lc_name!r} not found",
        )
    return ConfiguredTypes(
        None, (), problem="no instances and no launch template or launch configuration"
    )


def _from_template(ec2: Any, spec: Mapping[str, Any], source: TypeSource) -> ConfiguredTypes:
    found = template_version(ec2, spec)
    if isinstance(found, str):
        return ConfiguredTypes(source, (), problem=found)
    data = found.get("LaunchTemplateData") or {}
    label = str(found.get("LaunchTemplateName") or spec.get("LaunchTemplateName") or "?")
    if data.get("InstanceType"):
        return ConfiguredTypes(source, (TypeOption(str(data["InstanceType"])),))
    if data.get("InstanceRequirements"):
        return ConfiguredTypes(
            source, (), True, f"launch template {label!r} picks instance types by attributes"
        )
    version = found.get("VersionNumber", spec.get("Version") or "$Default")
    return ConfiguredTypes(
        source, (), problem=f"launch template {label!r} version {version} sets no instance type"
    )
