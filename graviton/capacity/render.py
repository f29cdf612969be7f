"""The twin plan and a run's outcome as plain text or JSON."""

from __future__ import annotations

from typing import Any

from graviton.capacity.create import Outcome
from graviton.capacity.twin import TwinPlan

PLAN_SCHEMA = "graviton.capacity.plan/v1"


def plan_json(plan: TwinPlan, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "schema": PLAN_SCHEMA,
        "cluster": plan.cluster,
        "region": plan.region,
        "from": plan.source_provider,
        "auto_scaling_group": plan.source_group,
        "name": plan.name,
        "ami": plan.ami,
        "instance_types": [
            {"x86": m.x86_type, "graviton": m.graviton_type, "why": m.why}
            for m in plan.type_mappings
        ],
        "fields": [
            {
                "resource": f.resource,
                "field": f.name,
                "value": f.value,
                "how": f.how.value,
                "why": f.why or None,
            }
            for f in plan.fields
        ],
        "notes": list(plan.notes),
        **(extra or {}),
    }


def plan_text(plan: TwinPlan) -> str:
    lines = [
        f"Graviton twin of {plan.source_provider} (auto scaling group {plan.source_group}) "
        f"in cluster {plan.cluster} ({plan.region}): {plan.name}"
    ]
    width = max(len(f.name) for f in plan.fields)
    current = ""
    for f in plan.fields:
        if f.resource != current:
            current = f.resource
            lines.append(f"  {current}:")
        why = f"  ({f.why})" if f.why else ""
        lines.append(f"    {f.name:<{width}}  {f.how.value:<6}  {f.value}{why}")
    lines.extend(f"note: {note}" for note in plan.notes)
    return "\n".join(lines) + "\n"


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "name": outcome.name,
        "changed": outcome.changed,
        "created": list(outcome.created),
        "kept": list(outcome.kept),
        "attached": outcome.attached,
    }


def outcome_text(outcome: Outcome) -> str:
    if not outcome.changed:
        return f"{outcome.name}: already in place ({', '.join(outcome.kept)}); nothing changed\n"
    lines = [f"created {what}" for what in outcome.created]
    lines += [f"kept {what} (already there)" for what in outcome.kept]
    if outcome.attached:
        lines.append(f"attached {outcome.name} to the cluster (default strategy unchanged)")
    return "\n".join(lines) + "\n"
