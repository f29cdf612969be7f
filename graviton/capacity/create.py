"""Carry out a :class:`~graviton.capacity.twin.TwinPlan`: launch template, auto scaling group,
capacity provider, attached to the cluster.

Idempotent: each resource is looked up first by its name and the ``graviton:twin-of`` tag; one
that is already there is kept, not changed. Every resource this run creates goes on an undo log;
when a call fails midway the log is played back in reverse and the error (exit 3) says what was
undone and, if an undo failed too, what is left.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graviton.aws import aws_errors
from graviton.aws.fleet import describe_group
from graviton.capacity.plan import Clients, describe_cluster, describe_provider
from graviton.capacity.twin import TWIN_OF_TAG, TwinPlan
from graviton.errors import GravitonError, ServiceUnavailable, UsageError, one_line
from graviton.instances import Arch, architecture
from graviton.interrupts import Terminated, shield


class CreateFailed(ServiceUnavailable):
    """A call failed midway; what this run had created was deleted (``undone``)."""

    def __init__(self, message: str, undone: Sequence[str], left: Sequence[str]) -> None:
        self.undone = tuple(undone)
        self.left = tuple(left)
        text = message + "; undone: " + (", ".join(reversed(undone)) or "nothing to undo")
        if left:
            text += "; COULD NOT UNDO (delete by hand): " + ", ".join(left)
        super().__init__(text)


class CreateInterrupted(CreateFailed):
    """Ctrl-C (exit 130) or SIGTERM (exit 143) midway: what this run had created was deleted."""

    exit_code = 130


class CreateTerminated(CreateInterrupted):
    exit_code = 143


@dataclass(frozen=True)
class Outcome:
    """What a run did: ``created`` and ``kept`` name resources; ``attached`` is True when it
    attached the provider to the cluster."""

    name: str
    created: tuple[str, ...]
    kept: tuple[str, ...]
    attached: bool

    @property
    def changed(self) -> bool:
        return bool(self.created) or self.attached


@dataclass
class _Undo:
    """One undo step, logged BEFORE its call is sent: a call AWS carried out but whose answer
    was lost (botocore's retry then told it already exists) must be undone too. ``run`` looks
    first and returns False when there was nothing of this run's to undo."""

    what: str
    run: Callable[[], bool]


def create_twin(clients: Clients, plan: TwinPlan) -> Outcome:
    """Make the twin ``plan`` describes (or find it made); see the module docstring."""
    undo: list[_Undo] = []
    created: list[str] = []
    kept: list[str] = []
    attached = False
    try:
        template_id = _launch_template(clients, plan, undo, created, kept)
        group_arn = _group(clients, plan, template_id, undo, created, kept)
        _provider(clients, plan, group_arn, undo, created, kept)
        attached = _attach(clients, plan, undo)
    except (KeyboardInterrupt, Terminated) as exc:
        shield()
        terminated = isinstance(exc, Terminated)
        if not undo and not terminated:
            raise
        undone, left = _play_back(undo)
        kind = CreateTerminated if terminated else CreateInterrupted
        how = "terminated (SIGTERM)" if terminated else "interrupted"
        raise kind(f"capacity create {plan.name}: {how}", undone, left) from None
    except Exception as exc:
        if not undo:
            raise
        message = (
            str(exc) if isinstance(exc, GravitonError) else one_line(f"{type(exc).__name__}: {exc}")
        )
        shield()
        undone, left = _play_back(undo)
        raise CreateFailed(f"capacity create {plan.name}: {message}", undone, left) from None
    return Outcome(plan.name, tuple(created), tuple(kept), attached)


def _play_back(undo: list[_Undo]) -> tuple[list[str], list[str]]:
    undone: list[str] = []
    left: list[str] = []
    for step in reversed(undo):
        try:
            did = step.run()
        except Exception as exc:  # keep undoing the rest; report what stays
            left.append(f"{step.what} ({one_line(str(exc), 120)})")
        else:
            if did:
                undone.append(step.what)
    undone.reverse()  # CreateFailed prints them in the order they were undone
    return undone, left


def _tag_value(tags: Sequence[Mapping[str, Any]] | None, key: str = TWIN_OF_TAG) -> str | None:
    for tag in tags or ():
        if (tag.get("Key") or tag.get("key")) == key:
            return str(tag.get("Value", tag.get("value", "")))
    return None


def _check_ours(
    kind: str, name: str, tags: Sequence[Mapping[str, Any]] | None, plan: TwinPlan
) -> None:
    if _tag_value(tags) != plan.source_provider:
        raise UsageError(
            f"{kind} {name!r} already exists and is not the Graviton twin of "
            f"{plan.source_provider!r} (no {TWIN_OF_TAG}={plan.source_provider} tag): "
            "pass another --name"
        )


def _launch_template(
    clients: Clients, plan: TwinPlan, undo: list[_Undo], created: list[str], kept: list[str]
) -> str:
    ec2 = clients.ec2
    found = _templates(ec2, plan.name)
    if found:
        _check_ours("launch template", plan.name, found[0].get("Tags"), plan)
        _check_arm64_template(ec2, plan.name)
        kept.append(f"launch template {plan.name}")
        return str(found[0]["LaunchTemplateId"])
    what = f"launch template {plan.name}"

    def delete_template() -> bool:
        mine = [
            t
            for t in _templates(ec2, plan.name)
            if _tag_value(t.get("Tags")) == plan.tags[TWIN_OF_TAG]
        ]
        for template in mine:
            ec2.delete_launch_template(LaunchTemplateId=template["LaunchTemplateId"])
        return bool(mine)

    undo.append(_Undo(what, delete_template))
    with aws_errors("EC2 CreateLaunchTemplate"):
        answer = ec2.create_launch_template(
            LaunchTemplateName=plan.name,
            LaunchTemplateData=dict(plan.template_data),
            TagSpecifications=[
                {
                    "ResourceType": "launch-template",
                    "Tags": [{"Key": k, "Value": v} for k, v in plan.tags.items()],
                }
            ],
        )
    template_id = (answer.get("LaunchTemplate") or {}).get("LaunchTemplateId")
    if not template_id:
        raise ServiceUnavailable("EC2 CreateLaunchTemplate: its answer names no launch template")
    created.append(what)
    return str(template_id)


def _templates(ec2: Any, name: str) -> list[Mapping[str, Any]]:
    """The launch templates named ``name`` (none: EC2 answers NotFound)."""
    import botocore.exceptions

    try:
        found: list[Mapping[str, Any]] = ec2.describe_launch_templates(LaunchTemplateNames=[name])[
            "LaunchTemplates"
        ]
    except botocore.exceptions.ClientError as exc:
        if "NotFound" not in str(exc.response.get("Error", {}).get("Code", "")):
            with aws_errors("EC2 DescribeLaunchTemplates"):
                raise
        found = []
    return found


def _check_arm64_template(ec2: Any, name: str) -> None:
    """A kept twin template must still launch arm64: a later version with an x86 AMI or type
    (the group launches ``$Latest``) boots nothing on Graviton."""
    with aws_errors("EC2 DescribeLaunchTemplateVersions"):
        versions = ec2.describe_launch_template_versions(
            LaunchTemplateName=name, Versions=["$Latest"]
        )["LaunchTemplateVersions"]
    data = versions[0].get("LaunchTemplateData") or {} if versions else {}
    image = data.get("ImageId")
    arch = None
    if image:
        with aws_errors("EC2 DescribeImages"):
            images = ec2.describe_images(ImageIds=[str(image)]).get("Images", [])
        arch = images[0].get("Architecture") if images else None
    itype = data.get("InstanceType")
    if arch != "arm64" or (itype and architecture(str(itype)) is not Arch.ARM64):
        raise UsageError(
            f"launch template {name} (the twin) drifted: its latest version launches "
            f"{image or 'no AMI'} ({arch or 'unknown architecture'})"
            + (f" on {itype}" if itype else "")
            + ", not arm64; fix or delete it by hand"
        )


def _group(
    clients: Clients,
    plan: TwinPlan,
    template_id: str,
    undo: list[_Undo],
    created: list[str],
    kept: list[str],
) -> str:
    autoscaling = clients.autoscaling
    existing = describe_group(autoscaling, plan.name)
    if existing is not None:
        _check_ours("auto scaling group", plan.name, existing.get("Tags"), plan)
        spec = (
            existing.get("LaunchTemplate")
            or ((existing.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get(
                "LaunchTemplateSpecification"
            )
            or {}
        )
        launches = spec.get("LaunchTemplateId") or spec.get("LaunchTemplateName")
        if launches not in (template_id, plan.name):
            raise UsageError(
                f"auto scaling group {plan.name} (the twin) launches from {launches or 'nothing'}"
                f", not launch template {plan.name}: it drifted; fix or delete it by hand"
            )
        kept.append(f"auto scaling group {plan.name}")
        return str(existing["AutoScalingGroupARN"])
    request = dict(plan.group_request)
    spec = {"LaunchTemplateId": template_id, "Version": "$Latest"}
    if "MixedInstancesPolicy" in request:
        policy = dict(request["MixedInstancesPolicy"])
        policy["LaunchTemplate"] = dict(policy["LaunchTemplate"], LaunchTemplateSpecification=spec)
        request["MixedInstancesPolicy"] = policy
    else:
        request["LaunchTemplate"] = spec
    request["Tags"] = [
        dict(tag, ResourceId=plan.name, ResourceType="auto-scaling-group")
        for tag in request.get("Tags", [])
    ]
    what = f"auto scaling group {plan.name}"

    def delete_group() -> bool:
        group = describe_group(autoscaling, plan.name)
        if group is None or _tag_value(group.get("Tags")) != plan.tags[TWIN_OF_TAG]:
            return False
        autoscaling.delete_auto_scaling_group(AutoScalingGroupName=plan.name, ForceDelete=True)
        return True

    undo.append(_Undo(what, delete_group))
    with aws_errors("Auto Scaling CreateAutoScalingGroup"):
        autoscaling.create_auto_scaling_group(**request)
    created.append(what)
    group = describe_group(autoscaling, plan.name)
    if group is None:
        raise ServiceUnavailable(f"auto scaling group {plan.name} not found after creating it")
    return str(group["AutoScalingGroupARN"])


def _provider(
    clients: Clients,
    plan: TwinPlan,
    group_arn: str,
    undo: list[_Undo],
    created: list[str],
    kept: list[str],
) -> None:
    ecs = clients.ecs
    existing = describe_provider(ecs, plan.name)
    if existing is not None:
        _check_ours("capacity provider", plan.name, existing.get("tags"), plan)
        scales = (existing.get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn")
        if scales != group_arn:
            raise UsageError(
                f"capacity provider {plan.name} (the twin) scales {scales or 'no group'}, not "
                f"auto scaling group {plan.name} ({group_arn}): it drifted (was its group "
                "deleted?); delete the provider by hand and rerun"
            )
        kept.append(f"capacity provider {plan.name}")
        return
    request = dict(plan.provider_request)
    request["autoScalingGroupProvider"] = dict(
        request["autoScalingGroupProvider"], autoScalingGroupArn=group_arn
    )
    what = f"capacity provider {plan.name}"

    def delete_provider() -> bool:
        found = describe_provider(ecs, plan.name)
        if found is None or _tag_value(found.get("tags")) != plan.tags[TWIN_OF_TAG]:
            return False
        ecs.delete_capacity_provider(capacityProvider=plan.name)
        return True

    undo.append(_Undo(what, delete_provider))
    with aws_errors("ECS CreateCapacityProvider"):
        ecs.create_capacity_provider(**request)
    created.append(what)


def _attach(clients: Clients, plan: TwinPlan, undo: list[_Undo]) -> bool:
    ecs = clients.ecs
    cluster = describe_cluster(ecs, plan.cluster)
    providers = list(cluster.get("capacityProviders") or [])
    if plan.name in providers:
        return False
    strategy = [dict(item) for item in cluster.get("defaultCapacityProviderStrategy") or []]

    def detach() -> bool:  # as the cluster is then, less the twin: nothing else is touched
        now = describe_cluster(ecs, plan.cluster)
        attached = list(now.get("capacityProviders") or [])
        if plan.name not in attached:
            return False
        ecs.put_cluster_capacity_providers(
            cluster=plan.cluster,
            capacityProviders=[p for p in attached if p != plan.name],
            defaultCapacityProviderStrategy=list(now.get("defaultCapacityProviderStrategy") or []),
        )
        return True

    undo.append(_Undo(f"attachment of {plan.name} to cluster {plan.cluster}", detach))
    with aws_errors("ECS PutClusterCapacityProviders"):
        ecs.put_cluster_capacity_providers(
            cluster=plan.cluster,
            capacityProviders=[*providers, plan.name],
            defaultCapacityProviderStrategy=strategy,
        )
    return True
