"""The Graviton twin of an x86 capacity provider, decided from plain data (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from graviton.instances import (
    GRAVITON_SIZES,
    Arch,
    Generation,
    architecture,
    graviton_counterpart,
)

TWIN_OF_TAG = "graviton:twin-of"  # on every resource a twin is made of: the x86 provider's name
MANAGED_TAG = "AmazonECSManaged"  # ECS managed scaling needs it on the auto scaling group

# Launch template fields the twin never copies: the AMI and type are mapped, the rest is
# x86-specific or read-only in DescribeLaunchTemplateVersions.
_NOT_COPIED = frozenset({"ImageId", "InstanceType", "InstanceRequirements"})

_GENERATION_DIGIT = {
    Generation.GRAVITON2: "6",
    Generation.GRAVITON3: "7",
    Generation.GRAVITON4: "8",
}


# The twin's one name is that of a launch template ([A-Za-z0-9().-/_], 3-128), an auto scaling
# group and a capacity provider ([A-Za-z0-9_-], up to 255, not starting with aws/ecs/fargate):
# a name one of them refuses would fail midway, after the others were made.
_NAME = re.compile(r"^[A-Za-z0-9_-]{3,128}$")
_RESERVED_PREFIXES = ("aws", "ecs", "fargate")


def name_problem(name: str, source: str) -> str | None:
    """Why ``name`` cannot name the twin of ``source`` (every resource of it), or None."""
    if name == source:
        return f"--name {name}: that is the x86 provider's own name; the twin needs another"
    if not _NAME.match(name):
        return (
            f"--name {name!r}: 3 to 128 letters, digits, '-' or '_' (it names a launch template, "
            "an auto scaling group and a capacity provider)"
        )
    if name.lower().startswith(_RESERVED_PREFIXES):
        return f"--name {name}: ECS capacity provider names cannot start with aws, ecs or fargate"
    return None


class How(StrEnum):
    COPIED = "copied"
    MAPPED = "mapped"
    SET = "set"


@dataclass(frozen=True)
class Field:
    """One line of the plan: a field of the twin, its value, and where the value came from."""

    resource: str  # "launch-template" | "auto-scaling-group" | "capacity-provider" | "cluster"
    name: str
    value: str
    how: How
    why: str = ""


@dataclass(frozen=True)
class AmiFamily:
    """An ECS-optimized AMI family and the public SSM parameter of its arm64 build."""

    name: str
    arm64_parameter: str


# (pattern on the x86 AMI's name, family); the first match wins.
_AMI_FAMILIES: tuple[tuple[re.Pattern[str], AmiFamily], ...] = (
    (
        re.compile(r"^al2023-ami-ecs-(?!.*(gpu|neuron|inf))hvm-.*-x86_64"),
        AmiFamily(
            "Amazon Linux 2023 ECS-optimized",
            "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
        ),
    ),
    (
        re.compile(r"^amzn2-ami-ecs-kernel-5\.10-hvm-.*-x86_64"),
        AmiFamily(
            "Amazon Linux 2 (kernel 5.10) ECS-optimized",
            "/aws/service/ecs/optimized-ami/amazon-linux-2/kernel-5.10/arm64/recommended/image_id",
        ),
    ),
    (
        re.compile(r"^amzn2-ami-ecs-hvm-.*-x86_64"),
        AmiFamily(
            "Amazon Linux 2 ECS-optimized",
            "/aws/service/ecs/optimized-ami/amazon-linux-2/arm64/recommended/image_id",
        ),
    ),
    (
        re.compile(r"^bottlerocket-aws-ecs-(?P<v>\d+)-x86_64"),
        AmiFamily(
            "Bottlerocket aws-ecs", "/aws/service/bottlerocket/aws-ecs-{v}/arm64/latest/image_id"
        ),
    ),
)


def ami_family(ami_name: str) -> AmiFamily | None:
    """The ECS-optimized family of an x86 AMI, by its name; None for a custom (or GPU) AMI."""
    for pattern, family in _AMI_FAMILIES:
        match = pattern.match(ami_name)
        if match:
            version = match.groupdict().get("v")
            if version:
                return AmiFamily(
                    f"{family.name}-{version}", family.arm64_parameter.format(v=version)
                )
            return family
    return None


@dataclass(frozen=True)
class TypeMapping:
    x86_type: str
    graviton_type: str | None
    why: str


def map_type(
    instance_type: str, *, family: str | None = None, generation: Generation | None = None
) -> TypeMapping:
    """The Graviton type that replaces ``instance_type`` (same vCPU and memory); ``family``
    (``m7g``) or ``generation`` choose another Graviton line of the same size."""
    match = graviton_counterpart(instance_type)
    if match.graviton_type is None:
        return TypeMapping(match.instance_type, None, match.note or "no Graviton counterpart")
    base = match.graviton_type
    size = base.split(".", 1)[1]
    why = "same vCPU and memory" + (f" ({match.note})" if match.note else "")
    if match.is_graviton:
        return TypeMapping(match.instance_type, base, "already Graviton")
    target = base
    if family:
        target = f"{family}.{size}"
        why = f"--family {family}, same size"
    elif generation is not None:
        head = base.split(".", 1)[0]
        target = re.sub(r"\d", _GENERATION_DIGIT[generation], head, count=1) + f".{size}"
        if head.startswith("t4g") and generation is not Generation.GRAVITON2:
            return TypeMapping(match.instance_type, None, f"t4g has no {generation} line")
        why = f"--generation {generation}, same size"
    if architecture(target) is not Arch.ARM64:
        return TypeMapping(match.instance_type, None, f"{target} is not a Graviton type")
    if size not in GRAVITON_SIZES.get(target.split(".", 1)[0], frozenset()):
        return TypeMapping(match.instance_type, None, f"{target} does not exist")
    return TypeMapping(match.instance_type, target, why)


@dataclass(frozen=True)
class TwinPlan:
    """Everything ``capacity create`` will make, as request payloads, and the field-by-field
    account of where each value came from."""

    cluster: str
    region: str
    source_provider: str
    source_group: str
    name: str
    ami: str
    ami_why: str
    template_data: Mapping[str, Any]
    group_request: Mapping[str, Any]  # CreateAutoScalingGroup minus the launch template id
    provider_request: Mapping[str, Any]  # CreateCapacityProvider minus the group ARN
    type_mappings: tuple[TypeMapping, ...]
    fields: tuple[Field, ...]
    max_size: int
    notes: tuple[str, ...] = field(default=())

    @property
    def tags(self) -> dict[str, str]:
        return {TWIN_OF_TAG: self.source_provider}


def template_data(
    x86_data: Mapping[str, Any], ami: str, instance_type: str | None
) -> dict[str, Any]:
    """The twin's LaunchTemplateData: every field of the x86 one, with the arm64 AMI and type."""
    data = {key: value for key, value in x86_data.items() if key not in _NOT_COPIED}
    if data.get("TagSpecifications"):  # launch-template tags are the template's, not its data's
        specs = [s for s in data["TagSpecifications"] if s.get("ResourceType") != "launch-template"]
        data["TagSpecifications"] = specs
        if not specs:
            del data["TagSpecifications"]
    data["ImageId"] = ami
    if instance_type:
        data["InstanceType"] = instance_type
    return data


def copied_fields(x86_data: Mapping[str, Any]) -> list[Field]:
    fields = []
    for key in sorted(x86_data):
        if key in _NOT_COPIED:
            continue
        value = x86_data[key]
        shown = "(set)" if key == "UserData" else _short(value)
        fields.append(Field("launch-template", key, shown, How.COPIED))
    return fields


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def user_tags(tags: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An auto scaling group's own tags, without AWS's and graviton's (set anew)."""
    return [
        {
            "Key": t["Key"],
            "Value": t.get("Value", ""),
            "PropagateAtLaunch": bool(t.get("PropagateAtLaunch")),
        }
        for t in tags
        if not str(t["Key"]).startswith("aws:") and t["Key"] not in {MANAGED_TAG, TWIN_OF_TAG}
    ]
