"""What the twin costs at each step of a shift, from the same report ``graviton savings`` makes
(a sideways import of the savings capability: the twin's cost is exactly that report's plan)."""

from __future__ import annotations

import dataclasses
from typing import Any

from graviton.aws import AwsOptions, aws_errors
from graviton.aws.fleet import describe_group
from graviton.capacity.plan import Clients
from graviton.capacity.twin import TwinPlan
from graviton.savings.inventory import fleet_of
from graviton.savings.render import to_json
from graviton.savings.report import Inventory, Skipped
from graviton.savings.run import PricingRequest, savings_report


def twin_costs(
    aws: AwsOptions,
    clients: Clients,
    plan: TwinPlan,
    *,
    pricing: str = "table",
    rates_file: str | None = None,
    discount: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """({"costs": ...}, warnings): the x86 and twin cost at each ARM weight, the rate of each
    type, and the Reserved Instances the move strands."""
    request = PricingRequest(pricing=pricing, rates_file=rates_file, discount=discount)
    request.rates()
    group = describe_group(clients.autoscaling, plan.source_group)
    if group is None:
        return {"costs": None}, [f"auto scaling group {plan.source_group} vanished: no costs"]
    fleet = fleet_of(plan.source_provider, group, ec2=clients.ec2, autoscaling=clients.autoscaling)
    if isinstance(fleet, Skipped):
        return {"costs": None}, [f"no cost at each step: {fleet.reason}"]
    inventory = Inventory(cluster=plan.cluster, region=plan.region, fleets=(fleet,))
    with aws_errors("AWS"):
        ec2 = dataclasses.replace(aws, max_attempts=2).client("ec2")
    report = savings_report(aws, inventory, request, ec2)
    data = to_json(report)
    costs = {
        "pricing": data["pricing"],
        "instances": [
            {k: line[k] for k in ("instance_type", "count", "graviton_type", "status",
                                  "unit_price_before", "unit_price_after", "rate_before",
                                  "rate_after")}
            for provider in data["providers"]
            for line in provider["lines"]
        ],
        "steps": [
            {"arm_weight_percent": 0, "hourly_x86": data["total"]["hourly_before"],
             "hourly_graviton": 0.0, "hourly": data["total"]["hourly_before"],
             "monthly_x86": data["total"]["monthly_before"], "monthly_graviton": 0.0,
             "monthly": data["total"]["monthly_before"]},
            *(
                {k: step[k] for k in ("arm_weight_percent", "hourly_x86", "hourly_graviton",
                                      "hourly", "monthly_x86", "monthly_graviton", "monthly")}
                for step in data["plan"]
            ),
        ],
        "commitments": list(report.commitments),
    }  # fmt: skip
    return {"costs": costs}, list(report.warnings)


def costs_text(extra: dict[str, Any]) -> str:
    costs = extra.get("costs")
    if not costs:
        return ""
    out = ["", "Cost at each shift step (USD, on-demand; month = 730 h):"]
    out.append(
        f"  {'ARM':>4}  {'x86 $/h':>9}  {'twin $/h':>9}  {'total $/h':>9}  "
        f"{'twin $/month':>12}  {'total $/month':>13}"
    )
    for step in costs["steps"]:
        out.append(
            f"  {step['arm_weight_percent']:>3}%  {step['hourly_x86']:>9.4f}  "
            f"{step['hourly_graviton']:>9.4f}  {step['hourly']:>9.4f}  "
            f"{step['monthly_graviton']:>12,.2f}  {step['monthly']:>13,.2f}"
        )
    for item in costs["instances"]:
        out.append(
            f"  rate: {item['instance_type']} {item['unit_price_before']} ({item['rate_before']})"
            + (
                f" -> {item['graviton_type']} {item['unit_price_after']} ({item['rate_after']})"
                if item["graviton_type"]
                else ""
            )
        )
    out.extend(f"commitment: {line}" for line in costs["commitments"])
    return "\n".join(out) + "\n"
