"""``graviton shift``, ``status``, ``rollback`` and ``unlock``: flags in, exit code out.

Exit codes: 0 reached the target (or nothing to do), 1 rolled back, 2 preflight or usage error
(nothing changed), 3 AWS unreachable or an API error after retries, 4 locked.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from graviton.aws import AwsOptions, aws_errors, aws_options
from graviton.errors import GravitonError, UsageError
from graviton.oci.ecr import EcrClients
from graviton.rollout.plan import Timing, check_step_and_target, parse_duration


class Duration(click.ParamType[float]):
    """10m, 15s, 1m30s, 500ms, or seconds."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float):
            return float(value)
        try:
            return parse_duration(str(value))
        except GravitonError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()


def _sink(fmt: str) -> Any:
    from graviton.rollout.events import JsonSink, TextSink

    if fmt == "json":
        return JsonSink(sys.stdout)
    if sys.stdout.isatty():
        from graviton.rollout.view import LiveSink

        return LiveSink()
    return TextSink(sys.stdout)


def _clients(aws: AwsOptions) -> Any:
    from graviton.rollout.preflight import Clients

    return Clients(aws.client, EcrClients(aws.profile, aws.endpoint_url))


def _who() -> str:
    from graviton.rollout.lock import default_owner

    return default_owner()


cluster_option = click.option("--cluster", required=True, help="ECS cluster name or ARN.")
services_option = click.option(
    "--service", "services", multiple=True, required=True, help="Service name (repeat for several)."
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: live view on a TTY, one line per event otherwise; json: JSON lines.",
)


@click.command()
@cluster_option
@services_option
@click.option("--step", type=int, default=25, show_default=True, help="ARM percent per step.")
@click.option("--to", "to", type=int, default=100, show_default=True, help="Target ARM percent.")
@click.option("--x86-provider", help="x86 capacity provider (default: found by instance types).")
@click.option("--arm-provider", help="Graviton capacity provider (default: found likewise).")
@click.option(
    "--alarm",
    "alarms",
    multiple=True,
    help="CloudWatch alarm to watch (repeat; default: the service's deployment alarms).",
)
@click.option("--bake", type=DURATION, default="10m", show_default=True, help="Bake per step.")
@click.option("--poll", type=DURATION, default="15s", show_default=True, help="Alarm poll.")
@click.option(
    "--deploy-timeout",
    type=DURATION,
    default="30m",
    show_default=True,
    help="How long a deployment may take to settle before the step rolls back.",
)
@click.option("--once", is_flag=True, help="Do one step, then stop (rerun to continue).")
@click.option("--dry-run", is_flag=True, help="Run the checks, print the plan, change nothing.")
@click.option(
    "--rollback-to",
    type=click.Choice(["last-good", "x86"]),
    default="last-good",
    show_default=True,
    help="Where a failed step goes: the last good step's weights, or all x86.",
)
@click.option(
    "--on-insufficient-data",
    type=click.Choice(["fail", "wait", "pass"]),
    default="fail",
    show_default=True,
    help="An alarm with INSUFFICIENT_DATA fails the step, pauses the bake, or passes.",
)
@click.option(
    "--strict-images",
    is_flag=True,
    help="Fail (exit 3) when an image's registry does not answer, instead of warning that the "
    "image is unverified.",
)
@click.option("--lock-table", help="DynamoDB table for a per-service lease.")
@click.option("--finalize", is_flag=True, help="After 100%: drop the x86 provider.")
@click.option(
    "--scale-in-x86", is_flag=True, help="With --finalize: set the x86 ASG's min and desired to 0."
)
@format_option
@aws_options
@click.pass_context
def shift(
    ctx: click.Context,
    cluster: str,
    services: tuple[str, ...],
    step: int,
    to: int,
    x86_provider: str | None,
    arm_provider: str | None,
    alarms: tuple[str, ...],
    bake: float,
    poll: float,
    deploy_timeout: float,
    once: bool,
    dry_run: bool,
    rollback_to: str,
    on_insufficient_data: str,
    strict_images: bool,
    lock_table: str | None,
    finalize: bool,
    scale_in_x86: bool,
    fmt: str,
    aws: AwsOptions,
) -> None:
    """Move ECS services from the x86 to the Graviton capacity provider in steps.

    Each step sends the new weights with forceNewDeployment, waits for the deployment to
    settle, reports the real split of tasks, and bakes while watching the alarms; an alarm
    rolls back to the last good step (exit 1). The state is kept in the service's tags, so a
    rerun with the same arguments resumes where a killed controller stopped.

    \b
    graviton shift --cluster prod --service orders --step 25 --alarm orders-5xx
    graviton shift --cluster prod --service orders --dry-run
    graviton shift --cluster prod --service orders --finalize --scale-in-x86
    """
    from graviton.rollout.runner import Runner, ShiftRequest

    if scale_in_x86 and not finalize:
        raise UsageError("--scale-in-x86 needs --finalize")
    if len(set(services)) != len(services):
        raise UsageError("a service is named twice")
    request = ShiftRequest(
        cluster=cluster,
        services=services,
        step=step,
        to=to,
        x86=x86_provider,
        arm=arm_provider,
        alarms=tuple(dict.fromkeys(alarms)),
        timing=Timing(bake=bake, poll=poll, deploy_timeout=deploy_timeout),
        once=once,
        dry_run=dry_run,
        rollback_to=rollback_to,
        on_insufficient_data=on_insufficient_data,
        strict_images=strict_images,
        lock_table=lock_table,
        finalize=finalize,
        scale_in_x86=scale_in_x86,
    )
    check_step_and_target(step, to)
    sink = _sink(fmt)
    try:
        with aws_errors("shift"):
            code = Runner(request, _clients(aws), sink).run()
    finally:
        sink.close()
    ctx.exit(code)


@click.command()
@cluster_option
@services_option
@format_option
@aws_options
def status(cluster: str, services: tuple[str, ...], fmt: str, aws: AwsOptions) -> None:
    """Show the rollout recorded on services: phase, step, weights, tasks per provider."""
    from graviton.rollout.runner import status as read_status

    clients = _clients(aws)
    with aws_errors("status"):
        results = [read_status(clients, cluster, s) for s in services]
    for result in results:
        if fmt == "json":
            click.echo(json.dumps(result, default=str))
            continue
        click.echo(_status_text(result))


def _status_text(r: dict[str, Any]) -> str:
    strategy = ", ".join(
        f"{i['capacityProvider']} weight {i['weight']}"
        + (f" base {i['base']}" if i["base"] else "")
        for i in r["strategy"]
    )
    dep = r["deployment"]
    running = ", ".join(f"{p} {n}" for p, n in r["running"].items()) or "none seen"
    lines = [
        f"{r['service']} (cluster {r['cluster']})",
        f"  strategy    {strategy or 'none (launch type)'}",
        f"  deployment  {dep['id']} {dep['state']} ({dep['running']}/{dep['desired']} running)",
        f"  tasks       {running}",
    ]
    s = r["state"]
    if s is None:
        lines.append("  rollout     none recorded")
    else:
        w, g = s["weights"], s["last_good"]
        lines += [
            f"  rollout     run {s['run']}: {s['phase']} at step {s['step']} "
            f"(steps {' '.join(str(x) for x in s['steps'])}, updated {s['updated']})",
            f"  weights     x86 {w['x86']} | ARM {w['arm']} (last good x86 {g['x86']} | ARM "
            f"{g['arm']})",
        ]
        if s["failed_step"] is not None or s["reason"]:
            lines.append(f"  failed      step {s['failed_step']}: {s['reason']}")
    return "\n".join(lines)


@click.command()
@cluster_option
@services_option
@click.option(
    "--to",
    "to",
    type=click.Choice(["last-good", "x86"]),
    default="last-good",
    show_default=True,
    help="The recorded last good step's weights, or all x86.",
)
@click.option("--x86-provider", help="Needed with --to x86 when no run is recorded.")
@click.option("--arm-provider", help="Needed with --to x86 when no run is recorded.")
@click.option("--poll", type=DURATION, default="15s", show_default=True)
@click.option("--deploy-timeout", type=DURATION, default="30m", show_default=True)
@format_option
@aws_options
@click.pass_context
def rollback(
    ctx: click.Context,
    cluster: str,
    services: tuple[str, ...],
    to: str,
    x86_provider: str | None,
    arm_provider: str | None,
    poll: float,
    deploy_timeout: float,
    fmt: str,
    aws: AwsOptions,
) -> None:
    """Roll services back now and mark their runs rolled back (a controller baking one
    stops). Does not wait for the lease: it is the emergency brake."""
    from graviton.rollout.runner import Runner, ShiftRequest

    request = ShiftRequest(
        cluster=cluster,
        services=services,
        x86=x86_provider,
        arm=arm_provider,
        timing=Timing(bake=0, poll=poll, deploy_timeout=deploy_timeout),
    )
    sink = _sink(fmt)
    code = 0
    try:
        runner = Runner(request, _clients(aws), sink)
        with aws_errors("rollback"):
            for service in services:
                code = max(code, runner.rollback(service, to, _who()))
    finally:
        sink.close()
    ctx.exit(code)


@click.command()
@cluster_option
@services_option
@click.option("--lock-table", required=True, help="The DynamoDB lease table.")
@aws_options
def unlock(cluster: str, services: tuple[str, ...], lock_table: str, aws: AwsOptions) -> None:
    """Break the lease on services (when a controller died holding it)."""
    from graviton.rollout.lock import Lease

    clients = _clients(aws)
    with aws_errors("unlock"):
        for service in services:
            lease = Lease(clients("dynamodb"), lock_table, Lease.key_for(cluster, service))
            held = lease.break_()
            if held is None:
                click.echo(f"{service}: not locked")
            else:
                click.echo(f"{service}: unlocked (was held by {held.owner} since {held.since})")
