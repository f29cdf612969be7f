"""``--cpu auto``: the Graviton generation of an ECS cluster's ARM capacity provider.

:func:`provider_types` reads (boto3) the instance types each capacity provider's auto scaling group
can run: its instances, its mixed instances policy's overrides and its launch template or launch
configuration. :func:`auto_generation` (pure) maps them with
:func:`graviton.instances.generation`; a mix of generations is validated on the OLDEST one, since
code that runs there runs on the newer ones, not the other way round.

The group's types come from the one fleet reader, :mod:`graviton.aws.fleet`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graviton.aws import AwsOptions, aws_errors
from graviton.aws.fleet import configured_types, group_name_of, running_types
from graviton.errors import PreflightError, UsageError
from graviton.instances import Arch, Generation, architecture, generation
from graviton.validate.cpu import oldest

_NOT_EC2 = {"FARGATE", "FARGATE_SPOT"}


def _cluster_providers(ecs: Any, cluster: str) -> list[str]:
    with aws_errors("ECS DescribeClusters"):
        answer = ecs.describe_clusters(clusters=[cluster])
    found = [c for c in answer.get("clusters", []) if c.get("status") != "INACTIVE"]
    if not found:
        raise UsageError(f"ECS cluster {cluster!r} not found")
    return [str(p) for p in found[0].get("capacityProviders") or [] if p not in _NOT_EC2]


def _group_types(group: Mapping[str, Any], *, ec2: Any, autoscaling: Any) -> list[str] | str:
    """Every instance type ``group`` runs or may launch, or why that cannot be told."""
    configured = configured_types(group, ec2=ec2, autoscaling=autoscaling)
    if configured.attribute_based:
        return "its mixed instances policy picks instance types by attributes"
    types = set(running_types(group) or ()) | set(configured.types)
    if not types:
        return configured.problem or "no instance type can be read"
    return sorted(types)


def provider_types(
    aws: AwsOptions, cluster: str | None, provider: str | None
) -> dict[str, list[str] | str]:
    """Capacity provider -> the instance types of its auto scaling group (or why unknown)."""
    ecs = aws.client("ecs")
    names = [provider] if provider else []
    if cluster is not None:
        attached = _cluster_providers(ecs, cluster)
        if provider is not None and provider not in attached:
            raise UsageError(f"capacity provider {provider!r} is not attached to {cluster!r}")
        names = names or attached
    if not names:
        raise UsageError(f"ECS cluster {cluster!r} has no EC2 capacity provider")
    with aws_errors("ECS DescribeCapacityProviders"):
        answer = ecs.describe_capacity_providers(capacityProviders=names)
    groups: dict[str, str] = {}
    out: dict[str, list[str] | str] = {}
    for found in answer.get("capacityProviders", []):
        asg = (found.get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn")
        if asg:
            groups[str(found["name"])] = group_name_of(str(asg))
        else:
            out[str(found["name"])] = "no auto scaling group behind it"
    for name in names:
        if name not in groups and name not in out:
            out[name] = "capacity provider not found"
    if groups:
        autoscaling, ec2 = aws.client("autoscaling"), aws.client("ec2")
        with aws_errors("Auto Scaling DescribeAutoScalingGroups"):
            described = autoscaling.describe_auto_scaling_groups(
                AutoScalingGroupNames=sorted(set(groups.values()))
            )
        by_name = {str(g["AutoScalingGroupName"]): g for g in described["AutoScalingGroups"]}
        for name, group_name in groups.items():
            group = by_name.get(group_name)
            out[name] = (
                f"auto scaling group {group_name!r} not found"
                if group is None
                else _group_types(group, ec2=ec2, autoscaling=autoscaling)
            )
    return {name: out[name] for name in names}


def auto_generation(
    types: Mapping[str, Sequence[str] | str], explicit: bool
) -> tuple[Generation, str]:
    """Pure: the generation to validate on and a one-line account of where it came from.

    ``explicit``: the user named the provider, so it must be an ARM one; otherwise (a whole
    cluster) x86 providers are passed over and every ARM provider counts, and a provider whose
    types cannot be read is refused (it could be an older Graviton)."""
    generations: dict[str, Generation] = {}
    arm: dict[str, Sequence[str]] = {}
    for name, found in types.items():
        if isinstance(found, str):
            # a provider of the cluster whose types cannot be read may run an older Graviton
            # than the ones that can: passing it over would validate on too new a CPU
            hint = "" if explicit else "name the ARM one with --provider or "
            raise PreflightError(
                f"capacity provider {name!r}: {found}; cannot tell its Graviton generation: "
                f"{hint}pass --cpu graviton2|graviton3|graviton4"
            )
        graviton = [t for t in found if architecture(t) is Arch.ARM64]
        if not graviton:
            if explicit:
                shown = ", ".join(found) or "no instance type"
                raise PreflightError(
                    f"capacity provider {name!r} is not an ARM provider ({shown}): "
                    "name the Graviton one with --provider"
                )
            continue
        if explicit and len(graviton) != len(found):
            x86 = ", ".join(t for t in found if t not in graviton)
            raise PreflightError(f"capacity provider {name!r} mixes x86 types ({x86}) in")
        for itype in graviton:
            gen = generation(itype)
            if gen is None:
                raise PreflightError(
                    f"cannot tell the Graviton generation of {itype} (capacity provider "
                    f"{name!r}): pass --cpu graviton2|graviton3|graviton4"
                )
            generations[itype] = gen
        arm[name] = graviton
    if not generations:
        raise PreflightError(
            "no Graviton capacity provider whose instance types are known: pass --cpu or --provider"
        )
    chosen = oldest(generations.values())
    listed = "; ".join(f"{n}: {', '.join(t)}" for n, t in arm.items())
    mixed = " (the oldest of them)" if len(set(generations.values())) > 1 else ""
    return chosen, f"capacity provider {listed} -> {chosen.value}{mixed}"
