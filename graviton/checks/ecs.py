"""Preflight checks on an ECS service about to move to Graviton, pure: they take what ECS,
Auto Scaling and the registry returned (plain dicts) and return :class:`Check` results.
Shared by ``graviton shift`` and the CI gate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Graviton families: a1, and <letters><generation>g<d|n|e|...> (m6g, c6gn, r7gd, t4g, x2gd,
# im4gn, is4gen, g5g, hpc7g, m8g ...). m7i, g4dn, c5n are not.
_GRAVITON_FAMILY = re.compile(r"^(?:a1|[a-z]+\d+g[a-z]*)$")
FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})


@dataclass(frozen=True)
class Check:
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


def is_graviton(instance_type: str) -> bool:
    """``m6g.large`` -> True, ``m6i.large`` -> False (``m6gd``, ``c7gn``, ``t4g`` are Graviton)."""
    family = instance_type.lower().split(".", 1)[0]
    return bool(_GRAVITON_FAMILY.match(family))


@dataclass(frozen=True)
class ProviderInfo:
    """A capacity provider with the instance types its Auto Scaling group launches."""

    name: str
    status: str
    asg: str | None
    types: frozenset[str]
    attribute_based: bool = False

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


def check_service(service: Mapping[str, Any], x86: str, arm: str) -> list[Check]:
    strategy = service.get("capacityProviderStrategy") or []
    out = [
        Check(
            "service", service.get("status") == "ACTIVE", f"service status {service.get('status')}"
        )
    ]
    if not strategy:
        out.append(
            Check(
                "strategy",
                False,
                f"service uses launch type {service.get('launchType') or '?'}, not a capacity "
                "provider strategy (recreate or update it with one first)",
            )
        )
        return out
    names = [str(i.get("capacityProvider")) for i in strategy]
    others = [
        n for n, i in zip(names, strategy, strict=True) if n not in (x86, arm) and i.get("weight")
    ]
    if others:
        out.append(
            Check(
                "strategy",
                False,
                f"strategy also places tasks on {', '.join(others)}; only {x86} and {arm} may "
                "carry weight",
            )
        )
    elif [n for n in names if n in FARGATE_PROVIDERS]:
        out.append(Check("strategy", False, "strategy uses Fargate; shift moves EC2 providers"))
    else:
        out.append(Check("strategy", True, "capacity providers " + ", ".join(names)))
    return out


def check_providers(
    cluster: Mapping[str, Any], providers: Sequence[ProviderInfo], x86: str, arm: str
) -> list[Check]:
    associated = set(cluster.get("capacityProviders") or [])
    by_name = {p.name: p for p in providers}
    out = []
    for role, name, want in (("x86", x86, "x86_64"), ("ARM", arm, "arm64")):
        info = by_name.get(name)
        if info is None:
            out.append(Check(f"{role} provider", False, f"capacity provider {name} not found"))
            continue
        if info.status != "ACTIVE":
            out.append(Check(f"{role} provider", False, f"{name} is {info.status}, not ACTIVE"))
            continue
        if name not in associated:
            out.append(
                Check(
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
                Check(
                    f"{role} provider",
                    False,
                    f"{name}'s auto scaling group {info.asg} {why}; it must launch {need} types",
                )
            )
            continue
        out.append(Check(f"{role} provider", True, f"{name} (ASG {info.asg}: {types})"))
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
) -> list[Check]:
    out = []
    family = f"{task_definition.get('family')}:{task_definition.get('revision')}"
    cpu = (task_definition.get("runtimePlatform") or {}).get("cpuArchitecture")
    if cpu and str(cpu).upper() == "X86_64":
        out.append(
            Check(
                "runtime platform",
                False,
                f"task definition {family} pins runtimePlatform cpuArchitecture X86_64",
            )
        )
    else:
        out.append(Check("runtime platform", True, f"{family}: cpuArchitecture {cpu or 'unset'}"))
    compat = set(task_definition.get("requiresCompatibilities") or [])
    if compat and "EC2" not in compat:
        out.append(
            Check(
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
        out.append(Check("placement", False, reasons[0]))
    else:
        out.append(
            Check("placement", True, f"{len(constraints)} placement constraint(s) allow ARM")
        )
    return out


def container_images(task_definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(container name, image) for every container, sidecars included."""
    return [
        (str(c.get("name")), str(c.get("image")))
        for c in task_definition.get("containerDefinitions") or []
    ]
