"""Gather what the preflight checks need (reads only) and run them before any change."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from graviton.aws.fleet import group_name_of
from graviton.checks.alarms import check_alarms
from graviton.checks.ecs import (
    PreflightCheck,
    ProviderInfo,
    check_arm_capacity,
    check_providers,
    check_service,
    check_tag_room,
    check_task_definition,
    container_images,
    discover_providers,
    long_service_arn,
)
from graviton.errors import PreflightError
from graviton.oci.ecr import EcrClients
from graviton.rollout.alarms import Alarms
from graviton.rollout.ecs import AutoScaling, Ecs, ServiceView
from graviton.rollout.plan import arm_percent, intended_split, strategy_for
from graviton.rollout.state import RolloutState, config_json, decode, tags_needed, user_tags
from graviton.unreachable import unreachable


class Clients:
    """boto3 clients made on first use by ``factory`` (``AwsOptions.client`` in the CLI)."""

    def __init__(self, factory: Callable[[str], Any], ecr: EcrClients | None = None) -> None:
        self._factory = factory
        self._made: dict[str, Any] = {}
        self.ecr = ecr or EcrClients()  # images are read in their registry's own region

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = self._factory(service)
        return self._made[service]

    @property
    def ecs(self) -> Ecs:
        return Ecs(self("ecs"))

    @property
    def autoscaling(self) -> AutoScaling:
        return AutoScaling(self("autoscaling"), self("ec2"))

    @property
    def alarms(self) -> Alarms:
        return Alarms(self("cloudwatch"))


@dataclass(frozen=True)
class ShiftTarget:
    """A service that passed preflight."""

    cluster: str
    service: ServiceView
    x86: str
    arm: str
    x86_asg: str | None
    alarms: tuple[str, ...]
    percent: int  # current ARM share
    checks: tuple[PreflightCheck, ...]
    recorded: RolloutState | None = None  # the run recorded on the service (its tags)
    tags: Mapping[str, str] = field(default_factory=dict)  # the service's tags, as read

    def with_(self, **changes: Any) -> ShiftTarget:
        return replace(self, **changes)


def _provider_infos(clients: Clients, names: Sequence[str]) -> list[ProviderInfo]:
    out = []
    for p in clients.ecs.capacity_providers(names):
        spec = p.get("autoScalingGroupProvider") or {}
        arn = spec.get("autoScalingGroupArn")
        if not arn:
            out.append(ProviderInfo(p["name"], p.get("status", ""), None, frozenset()))
            continue
        asg = group_name_of(arn)
        types = clients.autoscaling.instance_types(asg)
        managed = (spec.get("managedScaling") or {}).get("status") == "ENABLED"
        out.append(
            ProviderInfo(
                p["name"],
                p.get("status", ""),
                asg,
                types.types,
                types.attribute_based,
                managed_scaling=managed,
            )
        )
    return out


def _arm_capacity_check(
    clients: Clients,
    cluster: str,
    info: ProviderInfo,
    task_definition: Mapping[str, Any],
    arm_tasks: int,
) -> list[PreflightCheck]:
    """Can the ARM group hold the tasks the last step puts on it?"""
    if info.managed_scaling or info.asg is None:
        return check_arm_capacity(info, arm_tasks, None, None, {})
    group = clients.autoscaling.group(info.asg)
    ids = [str(i["InstanceId"]) for i in group.get("Instances", [])]
    registered = clients.ecs.registered_capacity(cluster, ids)
    need = {"CPU": 0, "MEMORY": 0}
    for c in task_definition.get("containerDefinitions") or ():
        need["CPU"] += int(c.get("cpu") or 0)
        need["MEMORY"] += int(c.get("memoryReservation") or c.get("memory") or 0)
    for key, top in (("CPU", "cpu"), ("MEMORY", "memory")):
        if str(task_definition.get(top) or "").isdigit():
            need[key] = max(need[key], int(task_definition[top]))
    return check_arm_capacity(
        info, arm_tasks, int(group.get("MaxSize", 0)), registered[0] if registered else None, need
    )


def image_checks(
    clients: Clients, task_definition: dict[str, Any], strict_images: bool = False
) -> list[PreflightCheck]:
    """Every container image must hold linux/amd64 and linux/arm64. An image whose registry
    does not answer from here is reported unverified (a warning), unless ``strict_images``:
    then it is an error (exit 3). Missing platforms and missing images always fail."""
    from graviton.image.inspect import check_image
    from graviton.oci.registry import RegistryUnreachable

    out = []
    for container, image in container_images(task_definition):
        name = f"image {container}"
        try:
            result = check_image(image, ecr=clients.ecr)
        except RegistryUnreachable as exc:
            if strict_images:
                raise
            detail = f"{image}: UNVERIFIED, {exc}; prove it where the registry answers: "
            out.append(
                PreflightCheck(name, True, detail + f"graviton verify {image}", warning=True)
            )
            continue
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if unreachable(exc) and code is None:
                raise  # could not reach the registry: an error (exit 3), not a verdict
            out.append(PreflightCheck(name, False, f"{image}: {code or type(exc).__name__}: {exc}"))
            continue
        out.append(PreflightCheck(name, result.ok, result.summary()))
    return out


def preflight(
    clients: Clients,
    cluster_name: str,
    service_name: str,
    *,
    x86: str | None,
    arm: str | None,
    alarms: Sequence[str],
    on_insufficient_data: str,
    emit: Callable[[PreflightCheck], None] = lambda c: None,
    strict_images: bool = False,
    to: int = 100,
) -> ShiftTarget:
    """Run every check (reads only); raise :class:`PreflightError` with the first failure's
    one-line reason. Each check is passed to ``emit`` as it is made."""
    checks: list[PreflightCheck] = []

    def add(new: Sequence[PreflightCheck]) -> None:
        for c in new:
            checks.append(c)
            emit(c)

    def stop_if_failed() -> None:
        failed = [c for c in checks if not c.ok]
        if failed:
            more = f" (and {len(failed) - 1} more failed checks)" if len(failed) > 1 else ""
            raise PreflightError(f"{service_name}: {failed[0].detail}{more}")

    ecs = clients.ecs
    cluster = ecs.cluster(cluster_name)
    raw = ecs.raw_service(cluster_name, service_name)
    service = ecs.service(cluster_name, service_name)
    tags = ecs.tags(service.arn) if long_service_arn(service.arn) else {}
    associated = list(cluster.get("capacityProviders") or [])
    names = sorted(set(associated) | {n for n in (x86, arm) if n})
    infos = _provider_infos(clients, names)
    if x86 is None or arm is None:
        found = discover_providers(
            [i for i in infos if i.name in associated], [i.provider for i in service.strategy]
        )
        if isinstance(found, str):
            add([PreflightCheck("providers", False, found)])
            stop_if_failed()
        else:
            x86, arm = x86 or found[0], arm or found[1]
    assert x86 is not None and arm is not None
    if x86 == arm:
        raise PreflightError("--x86-provider and --arm-provider name the same provider")
    add(check_service(raw, x86, arm, cluster_name))
    add(check_providers(cluster, infos, x86, arm))
    stop_if_failed()
    recorded = decode(tags)
    saved = recorded.saved_config if recorded and recorded.saved_config else None
    add(
        check_tag_room(
            len(user_tags(tags)),
            tags_needed(saved or config_json(service.deployment_configuration)),
        )
    )
    arm_types = next(i.types for i in infos if i.name == arm)
    task_definition = ecs.task_definition(service.task_definition)
    add(check_task_definition(task_definition, list(service.placement_constraints), arm_types))
    arm_info = next(i for i in infos if i.name == arm)
    at_target = intended_split(strategy_for(to, service.strategy, x86, arm), service.desired)
    add(_arm_capacity_check(clients, cluster_name, arm_info, task_definition, at_target[arm]))
    add(image_checks(clients, task_definition, strict_images))
    watched = tuple(alarms) or tuple(
        (service.deployment_configuration.get("alarms") or {}).get("alarmNames") or ()
    )
    states = {n: a.state for n, a in clients.alarms.states(watched).items()}
    # a run interrupted mid-step is resumed: its bake (not preflight) judges a firing alarm
    resuming = recorded is not None and recorded.phase.active
    add(check_alarms(watched, states, on_insufficient_data, resuming=resuming))
    percent = arm_percent(service.strategy, x86, arm)
    if percent is None:
        add([PreflightCheck("weights", False, "neither provider carries weight in the strategy")])
    stop_if_failed()
    assert percent is not None
    x86_asg = next(i.asg for i in infos if i.name == x86)
    return ShiftTarget(
        cluster_name, service, x86, arm, x86_asg, watched, percent, tuple(checks), recorded, tags
    )
