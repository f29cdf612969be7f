"""Preflight checks on an ECS service about to move to Graviton, pure: they take what ECS,
Auto Scaling and the registry returned (plain dicts) and return :class:`PreflightCheck` results.
Shared by ``graviton shift`` and the CI gate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graviton.instances import is_graviton

FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})


@dataclass(frozen=True)
class PreflightCheck:
    """One preflight check: ``name`` says what was checked, ``detail`` the one-line reason."""

    name: str
    ok: bool
    detail: str
    warning: bool = False  # passed, but could not be proven (said so in ``detail``)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.name, "ok": self.ok, "detail": self.detail}
        if self.warning:
            out["warning"] = True
        return out


@dataclass(frozen=True)
class ProviderInfo:
    """A capacity provider with the instance types its Auto Scaling group launches."""

    name: str
    status: str
    asg: str | None
    types: frozenset[str]
    attribute_based: bool = False
    managed_scaling: bool = False  # ECS managed scaling grows the group for placed tasks

    @property
    def arch(self) -> str:
        """``arm64``, ``x86_64``, ``mixed`` or ``unknown``."""
        if self.attribute_based or not self.types:
            return "unknown"
        graviton = {is_graviton(t) for t in self.types}
        if graviton == {True}:
            return "arm64"
        if graviton == {False}:
            return "x86_64"
        return "mixed"


def discover_providers(
    providers: Sequence[ProviderInfo], in_strategy: Iterable[str] = ()
) -> tuple[str, str] | str:
    """(x86, arm) provider names found by instance types, or the reason they cannot be.

    When several providers qualify for one side, those already in the service's strategy are
    preferred; anything still ambiguous is an error (name them with --x86-provider/--arm-provider).
    """
    used = set(in_strategy)

    def pick(arch: str) -> str | list[str]:
        found = [p.name for p in providers if p.arch == arch]
        if len(found) > 1:
            preferred = [n for n in found if n in used]
            if len(preferred) == 1:
                return preferred[0]
            return found
        return found[0] if found else []

    x86, arm = pick("x86_64"), pick("arm64")
    problems = []
    for side, got in (("x86", x86), ("ARM (Graviton)", arm)):
        if isinstance(got, list):
            kinds = ", ".join(f"{p.name}: {p.arch}" for p in providers) or "none"
            problems.append(
                f"no {side} capacity provider in the cluster ({kinds})"
                if not got
                else f"more than one {side} capacity provider: {', '.join(got)}"
            )
    if problems:
        return "; ".join(problems) + " - name them with --x86-provider and --arm-provider"
    assert isinstance(x86, str) and isinstance(arm, str)
    return x86, arm


def long_service_arn(arn: str) -> bool:
    """``arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`` (the long format) can carry tags;
    the old ``service/NAME`` format cannot."""
    return arn.split(":", 5)[-1].count("/") >= 2


# UpdateService's valid capacity-provider transitions (ECS API reference, UpdateService
# capacityProviderStrategy): Fargate launch type -> ASG provider, EC2 launch type -> Fargate
# provider, Fargate provider <-> ASG provider, provider -> launch type. EC2 launch type -> ASG
# provider is not among them.
_LAUNCH_TYPE_REASON = {
    "EC2": "UpdateService cannot move an EC2 launch type service to an Auto Scaling group "
    "capacity provider (not a valid transition); recreate the service with a capacity "
    "provider strategy",
    "FARGATE": "a Fargate service moves to Graviton with runtimePlatform ARM64, not with EC2 "
    "capacity providers",
}


def check_service(
    service: Mapping[str, Any], x86: str, arm: str, cluster: str = ""
) -> list[PreflightCheck]:
    """The service itself: ACTIVE, an ECS deployment controller, a taggable (long) ARN, a
    capacity provider strategy of the two providers, and tasks that can run on ARM."""
    strategy = service.get("capacityProviderStrategy") or []
    out = [
        PreflightCheck(
            "service", service.get("status") == "ACTIVE", f"service status {service.get('status')}"
        )
    ]
    controller = str((service.get("deploymentController") or {}).get("type") or "ECS")
    if controller != "ECS":
        out.append(
            PreflightCheck(
                "deployment controller",
                False,
                f"service uses the {controller} deployment controller: its capacity provider "
                "strategy cannot be changed with UpdateService (only the ECS controller can)",
            )
        )
    arn = str(service.get("serviceArn", ""))
    if arn and not long_service_arn(arn):
        out.append(
            PreflightCheck(
                "service ARN",
                False,
                f"service ARN {arn} has the old short format, which cannot be tagged (graviton "
                "keeps the rollout state in tags): opt in to serviceLongArnFormat and recreate "
                "the service",
            )
        )
    if not strategy:
        launch = str(service.get("launchType") or "?")
        why = _LAUNCH_TYPE_REASON.get(launch, "it has no capacity provider strategy")
        out.append(
            PreflightCheck(
                "strategy",
                False,
                f"service uses launch type {launch}, not a capacity provider strategy: {why}",
            )
        )
        return out
    names = [str(i.get("capacityProvider")) for i in strategy]
    others = [
        n for n, i in zip(names, strategy, strict=True) if n not in (x86, arm) and i.get("weight")
    ]
    if others:
        out.append(
            PreflightCheck(
                "strategy",
                False,
                f"strategy also places tasks on {', '.join(others)}; only {x86} and {arm} may "
                "carry weight",
            )
        )
    elif [n for n in names if n in FARGATE_PROVIDERS]:
        out.append(
            PreflightCheck("strategy", False, "strategy uses Fargate; shift moves EC2 providers")
        )
    else:
        out.append(PreflightCheck("strategy", True, "capacity providers " + ", ".join(names)))
    desired = int(service.get("desiredCount") or 0)
    base = max((int(i.get("base") or 0) for i in strategy if i.get("capacityProvider") == x86),
               default=0)  # fmt: skip
    if desired <= 0:
        out.append(
            PreflightCheck(
                "tasks", False, "desiredCount is 0: no task would run on ARM to prove a step"
            )
        )
    elif base >= desired:
        out.append(
            PreflightCheck(
                "tasks",
                False,
                f"{x86} has base {base} >= desiredCount {desired}: every step would place all "
                "tasks on x86 and bake with no ARM task; lower the base first",
            )
        )
    return out


def check_tag_room(user_tags: int, needed: int, limit: int = 50) -> list[PreflightCheck]:
    """ECS allows ``limit`` tags per resource: the service's own plus the ``needed`` ones
    graviton writes for its state must fit, or a later save (a rollback's) would fail."""
    if user_tags + needed > limit:
        return [
            PreflightCheck(
                "tags",
                False,
                f"the service has {user_tags} tags of its own and graviton needs up to {needed} "
                f"for its state; ECS allows {limit}: remove {user_tags + needed - limit}",
            )
        ]
    return [
        PreflightCheck(
            "tags", True, f"{user_tags} own tags + up to {needed} of graviton's <= {limit}"
        )
    ]


def check_arm_capacity(
    info: ProviderInfo,
    arm_tasks: int,
    max_size: int | None,
    registered: Mapping[str, int] | None,
    need: Mapping[str, int],
) -> list[PreflightCheck]:
    """Can the ARM provider's group hold ``arm_tasks`` (the last step's)? Managed scaling grows
    it; otherwise MaxSize x the tasks one instance (``registered`` CPU/MEMORY) holds must."""
    name = "ARM capacity"
    if info.managed_scaling:
        return [PreflightCheck(name, True, f"{info.name}: managed scaling on")]
    if max_size is None:
        return [PreflightCheck(name, True, f"{info.name}: no Auto Scaling group", warning=True)]
    per = None
    if registered:
        fits = [registered[k] // need[k] for k in ("CPU", "MEMORY") if need.get(k)]
        per = min(fits) if fits else None
    if per is None:
        if max_size == 0 and arm_tasks > 0:
            per = 0
        else:
            return [
                PreflightCheck(
                    name,
                    True,
                    f"{info.name}: managed scaling off, MaxSize {max_size}; tasks per instance "
                    "unknown (no ARM container instance registered)",
                    warning=True,
                )
            ]
    holds = max_size * per
    if holds < arm_tasks:
        return [
            PreflightCheck(
                name,
                False,
                f"{info.name}'s auto scaling group {info.asg} has managed scaling off and MaxSize "
                f"{max_size} ({per} task(s) per instance): it holds {holds} tasks, the last step "
                f"needs {arm_tasks}; raise MaxSize or enable managed scaling",
            )
        ]
    return [
        PreflightCheck(
            name, True, f"{info.name}: MaxSize {max_size} holds {holds} >= {arm_tasks} tasks"
        )
    ]


def check_providers(
    cluster: Mapping[str, Any], providers: Sequence[ProviderInfo], x86: str, arm: str
) -> list[PreflightCheck]:
    associated = set(cluster.get("capacityProviders") or [])
    by_name = {p.name: p for p in providers}
    out = []
    for role, name, want in (("x86", x86, "x86_64"), ("ARM", arm, "arm64")):
        info = by_name.get(name)
        if info is None:
            out.append(
                PreflightCheck(f"{role} provider", False, f"capacity provider {name} not found")
            )
            continue
        if info.status != "ACTIVE":
            out.append(
                PreflightCheck(f"{role} provider", False, f"{name} is {info.status}, not ACTIVE")
            )
            continue
        if name not in associated:
            out.append(
                PreflightCheck(
                    f"{role} provider",
                    False,
                    f"{name} is not associated with cluster {cluster.get('clusterName')}",
                )
            )
            continue
        types = ", ".join(sorted(info.types)) or "no known type"
        if info.arch != want:
            why = (
                "uses attribute-based instance selection (cannot prove the architecture)"
                if info.attribute_based
                else f"launches {types}"
            )
            need = "only Graviton" if want == "arm64" else "no Graviton"
            out.append(
                PreflightCheck(
                    f"{role} provider",
                    False,
                    f"{name}'s auto scaling group {info.asg} {why}; it must launch {need} types",
                )
            )
            continue
        out.append(PreflightCheck(f"{role} provider", True, f"{name} (ASG {info.asg}: {types})"))
    return out


def _matches(instance_type: str, pattern: str) -> bool:
    regex = "^" + re.escape(pattern.strip().lower()).replace(r"\*", ".*") + "$"
    return bool(re.match(regex, instance_type.lower()))


_EXPR = re.compile(
    r"attribute:ecs\.(?P<attr>cpu-architecture|instance-type)\s*"
    r"(?P<op>==|!=|\bnot_in\b|\bin\b)\s*"
    r"(?P<rhs>\[[^\]]*\]|\([^)]*\)|[^\s)&|]+)",
    re.IGNORECASE,
)


def constraint_excludes_arm(expression: str, arm_types: Iterable[str]) -> str | None:
    """Why a ``memberOf`` expression keeps tasks off the ARM instances, or None."""
    arm_types = list(arm_types)
    for m in _EXPR.finditer(expression):
        attr, op = m["attr"].lower(), m["op"].lower()
        values = [v.strip(" '\"") for v in m["rhs"].strip("[]()").split(",") if v.strip(" '\"")]
        if attr == "cpu-architecture":
            has_arm = any(v.lower() == "arm64" for v in values)
            if (op in ("==", "in") and not has_arm) or (op in ("!=", "not_in") and has_arm):
                return f"placement constraint {expression!r} excludes arm64"
        else:
            hits = [t for t in arm_types if any(_matches(t, v) for v in values)]
            if op in ("==", "in") and arm_types and not hits:
                return f"placement constraint {expression!r} excludes the ARM instance types"
            if op in ("!=", "not_in") and arm_types and len(hits) == len(arm_types):
                return f"placement constraint {expression!r} excludes the ARM instance types"
    return None


def check_task_definition(
    task_definition: Mapping[str, Any],
    service_constraints: Sequence[Mapping[str, Any]],
    arm_types: Iterable[str],
) -> list[PreflightCheck]:
    out = []
    family = f"{task_definition.get('family')}:{task_definition.get('revision')}"
    cpu = (task_definition.get("runtimePlatform") or {}).get("cpuArchitecture")
    if cpu and str(cpu).upper() == "X86_64":
        out.append(
            PreflightCheck(
                "runtime platform",
                False,
                f"task definition {family} pins runtimePlatform cpuArchitecture X86_64",
            )
        )
    else:
        out.append(
            PreflightCheck("runtime platform", True, f"{family}: cpuArchitecture {cpu or 'unset'}")
        )
    compat = set(task_definition.get("requiresCompatibilities") or [])
    if compat and "EC2" not in compat:
        out.append(
            PreflightCheck(
                "compatibility",
                False,
                f"task definition {family} requires {', '.join(sorted(compat))}, not EC2",
            )
        )
    constraints = [*service_constraints, *(task_definition.get("placementConstraints") or [])]
    reasons = [
        r
        for c in constraints
        if c.get("type") == "memberOf"
        for r in [constraint_excludes_arm(str(c.get("expression", "")), arm_types)]
        if r
    ]
    if reasons:
        out.append(PreflightCheck("placement", False, reasons[0]))
    else:
        out.append(
            PreflightCheck(
                "placement", True, f"{len(constraints)} placement constraint(s) allow ARM"
            )
        )
    return out


def container_images(task_definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(container name, image) for every container, sidecars included."""
    return [
        (str(c.get("name")), str(c.get("image")))
        for c in task_definition.get("containerDefinitions") or []
    ]
