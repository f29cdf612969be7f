"""``graviton capacity plan|create|decommission``: the Graviton twin of an x86 capacity provider."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from graviton.aws import AwsOptions, aws_errors, aws_options
from graviton.instances import Generation

F = TypeVar("F", bound=Callable[..., Any])


def _clients(aws: AwsOptions) -> Any:
    from graviton.capacity.plan import Clients

    with aws_errors("AWS"):
        return Clients(
            ecs=aws.client("ecs"),
            autoscaling=aws.client("autoscaling"),
            ec2=aws.client("ec2"),
            ssm=aws.client("ssm"),
        )


def twin_options(func: F) -> F:
    options = [
        click.option("--cluster", required=True, help="ECS cluster name or ARN."),
        click.option(
            "--from",
            "source",
            help="The x86 capacity provider (default: the cluster's only x86 one).",
        ),
        click.option(
            "--family",
            default="auto",
            show_default=True,
            help="Graviton family for every type (r6g, m7g, ...); auto: same size and generation.",
        ),
        click.option(
            "--generation",
            type=click.Choice([g.value for g in Generation if g is not Generation.GRAVITON1]),
            help="Graviton generation of the mapped types (default: the x86 type's).",
        ),
        click.option("--name", help="Name of the twin (default: the x86 name, x86 -> arm)."),
        click.option("--ami", help="arm64 AMI to use (needed when the x86 AMI is a custom one)."),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
        ),
        click.option(
            "--pricing",
            type=click.Choice(["table", "live"]),
            default="table",
            show_default=True,
            help="Prices for the cost at each shift step (see graviton savings).",
        ),
        click.option(
            "--rates",
            "rates_file",
            type=click.Path(dir_okay=False),
            help="Rates file (see graviton savings).",
        ),
        click.option("--discount", help="x86=37%,arm=37% (see graviton savings)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("capacity")
def capacity() -> None:
    """The Graviton twin of an x86 ECS capacity provider: plan it, create it, and
    decommission the x86 provider when nothing uses it.

    \b
    Example:
      graviton capacity plan --cluster prod --from cp-x86
      graviton capacity create --cluster prod --from cp-x86
      graviton capacity decommission --cluster prod --provider cp-x86 --delete
    """


def _plan(aws: AwsOptions, kw: dict[str, Any]) -> tuple[Any, Any, dict[str, Any], list[str]]:
    from graviton.capacity.costs import twin_costs
    from graviton.capacity.plan import PlanRequest, plan_twin

    clients = _clients(aws)
    family = kw["family"] if kw["family"] not in (None, "auto") else None
    request = PlanRequest(
        cluster=kw["cluster"],
        source=kw["source"],
        name=kw["name"],
        family=family,
        generation=Generation(kw["generation"]) if kw["generation"] else None,
        ami=kw["ami"],
    )
    plan = plan_twin(clients, request)
    costs, warnings = twin_costs(
        aws,
        clients,
        plan,
        pricing=kw["pricing"],
        rates_file=kw["rates_file"],
        discount=kw["discount"],
    )
    return clients, plan, costs, warnings


def _show_plan(
    plan: Any,
    costs: dict[str, Any],
    warnings: list[str],
    fmt: str,
    extra: dict[str, Any] | None = None,
) -> None:
    from graviton.capacity.costs import costs_text
    from graviton.capacity.render import plan_json, plan_text

    for warning in warnings:
        click.echo(f"graviton: warning: {warning}", err=True)
    if fmt == "json":
        click.echo(json.dumps(plan_json(plan, {**costs, **(extra or {})}), indent=2))
    else:
        click.echo(plan_text(plan) + costs_text(costs), nl=False)


@capacity.command("plan")
@twin_options
@aws_options
def plan_command(aws: AwsOptions, fmt: str, **kw: Any) -> None:
    """Print the Graviton twin of an x86 capacity provider, field by field: what is copied,
    what is mapped and why, its cost at each shift step and any Reserved Instances the move
    strands. Changes nothing.

    \b
    Example:
      graviton capacity plan --cluster prod --from cp-x86 --format json
    \b
    Exit codes: 0 plan printed, 2 bad flags / cannot be twinned (custom AMI: pass --ami),
    3 AWS could not be read.
    """
    _, plan, costs, warnings = _plan(aws, kw)
    _show_plan(plan, costs, warnings, fmt)


@capacity.command("create")
@twin_options
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (as `capacity plan`), change nothing."
)
@aws_options
def create_command(aws: AwsOptions, fmt: str, dry_run: bool, **kw: Any) -> None:
    """Create the Graviton twin: launch template (arm64 AMI of the same family), auto scaling
    group (min 0, desired 0), capacity provider (same managed scaling), attached to the cluster
    with its default strategy unchanged. A rerun finds the twin by its tags and changes nothing;
    a failure midway deletes what the run created (exit 3, naming it).

    \b
    Example:
      graviton capacity create --cluster prod --from cp-x86 --name cp-arm
    \b
    Exit codes: 0 created (or already there), 2 bad flags / cannot be twinned (nothing
    changed), 3 AWS failed (what this run created was deleted again).
    """
    from graviton.capacity.create import create_twin
    from graviton.capacity.render import outcome_text

    clients, plan, costs, warnings = _plan(aws, kw)
    if dry_run:
        _show_plan(plan, costs, warnings, fmt, {"dry_run": True})
        return
    outcome = create_twin(clients, plan)
    if fmt == "json":
        click.echo(json.dumps(plan_json_with(plan, costs, outcome), indent=2))
    else:
        click.echo(outcome_text(outcome), nl=False)


def plan_json_with(plan: Any, costs: dict[str, Any], outcome: Any) -> dict[str, Any]:
    from graviton.capacity.render import outcome_json, plan_json

    return plan_json(plan, {**costs, "outcome": outcome_json(outcome)})


@capacity.command("decommission")
@click.option("--cluster", required=True, help="ECS cluster name or ARN.")
@click.option("--provider", required=True, help="The x86 capacity provider to take down.")
@click.option(
    "--delete", is_flag=True, help="Also delete the provider, its group and launch template."
)
@click.option("--dry-run", is_flag=True, help="Check and print what would be done; change nothing.")
@click.option(
    "--timeout",
    "timeout",
    default="30m",
    show_default=True,
    metavar="DURATION",
    help="How long to wait for the instances to drain.",
)
@click.option(
    "--poll", default="10s", show_default=True, metavar="DURATION", help="Drain poll interval."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@aws_options
def decommission_command(
    aws: AwsOptions,
    cluster: str,
    provider: str,
    delete: bool,
    dry_run: bool,
    timeout: str,
    poll: str,
    fmt: str,
) -> None:
    """Take an x86 capacity provider down once nothing uses it: refuse (exit 2, naming them)
    while a service's strategy or the cluster default gives it weight or base, or a task runs on
    its instances; else detach it, drain its container instances, scale its group to 0
    (respecting scale-in protection) and, with --delete, delete provider, group and template.

    \b
    Example:
      graviton capacity decommission --cluster prod --provider cp-x86 --delete
    \b
    Exit codes: 0 done, 2 refused (nothing changed), 3 AWS failed or the drain timed out.
    """
    from graviton.capacity.decommission import DecommissionRequest, decommission
    from graviton.timeutil import parse_duration

    clients = _clients(aws)
    request = DecommissionRequest(
        cluster=cluster,
        provider=provider,
        delete=delete,
        dry_run=dry_run,
        timeout=parse_duration(timeout),
        poll=parse_duration(poll),
    )
    report = decommission(
        clients, request, emit=(lambda line: click.echo(line, err=True)) if fmt == "text" else None
    )
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(report.text(), nl=False)
