"""``graviton shift``, ``status``, ``rollback`` and ``unlock``: flags in, exit code out.

Exit codes: 0 reached the target (or nothing to do), 1 rolled back, 2 preflight or usage error
(nothing changed), 3 AWS unreachable or an API error after retries, 4 locked, 130 Ctrl-C,
143 SIGTERM (the lease is released; a rerun resumes).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from graviton.aws import AwsOptions, aws_errors, aws_options
from graviton.errors import GravitonError, UsageError
from graviton.interrupts import Terminated
from graviton.oci.ecr import EcrClients
from graviton.rollout.plan import Timing, check_step_and_target
from graviton.timeutil import parse_duration


@contextmanager
def _on_sigterm(note: str) -> Iterator[None]:
    """SIGTERM (graviton.interrupts) unwinds the run, releasing the lease; say what was kept."""
    try:
        yield
    except Terminated:
        raise Terminated(note) from None


LEASE_KEPT = "lease released, state kept; rerun to resume"


class Duration(click.ParamType[float]):
    """10m, 15s, 1m30s, 500ms, or seconds (greater than 0)."""

    name = "DURATION"

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
@click.option(
    "--bake", type=DURATION, metavar="DURATION", default="10m", show_default=True,
    help="Bake per step.",
)  # fmt: skip
@click.option(
    "--poll", type=DURATION, metavar="DURATION", default="15s", show_default=True,
    help="Alarm poll.",
)  # fmt: skip
@click.option(
    "--deploy-timeout",
    type=DURATION,
    metavar="DURATION",
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
    settle, checks that tasks really run on arm64 instances, and bakes while watching the
    alarms; an alarm rolls back to the last good step (exit 1). The state is kept in the
    service's tags, so a rerun with the same arguments resumes where a killed controller
    stopped. The service's own deployment configuration is restored when the run ends.

    \b
    Examples:
    graviton shift --cluster prod --service orders --step 25 --alarm orders-5xx --bake 10m
    graviton shift --cluster prod --service orders --dry-run
    graviton shift --cluster prod --service orders --finalize --scale-in-x86
    """
    from graviton.rollout.bake import NoData
    from graviton.rollout.request import RollbackTo
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
        rollback_to=RollbackTo(rollback_to),
        on_insufficient_data=NoData(on_insufficient_data),
        strict_images=strict_images,
        lock_table=lock_table,
        finalize=finalize,
        scale_in_x86=scale_in_x86,
    )
    check_step_and_target(step, to)
    sink = _sink(fmt)
    with _on_sigterm(LEASE_KEPT):
        try:
            with aws_errors("shift"):
                code = Runner(request, _clients(aws), sink).run()
        finally:
            sink.close()
    ctx.exit(code)


@click.command()
@cluster_option
@services_option
@click.option(
    "--lock-table",
    help="The DynamoDB lease table (default: the one the run recorded), to say whether a "
    "controller is driving the run.",
)
@click.option("--watch", is_flag=True, help="Follow the run: print each change until it rests.")
@click.option(
    "--interval",
    type=DURATION,
    metavar="DURATION",
    default="5s",
    show_default=True,
    help="With --watch: how often to read.",
)
@format_option
@aws_options
@click.pass_context
def status(
    ctx: click.Context,
    cluster: str,
    services: tuple[str, ...],
    lock_table: str | None,
    watch: bool,
    interval: float,
    fmt: str,
    aws: AwsOptions,
) -> None:
    """Show the rollout recorded on services: phase, step, weights, tasks per provider and
    architecture, and whether a controller is running it (its lease).

    \b
    Examples:
    graviton status --cluster prod --service orders
    graviton status --cluster prod --service orders --watch --interval 10s --format json
    """
    from graviton.rollout.status import read_status
    from graviton.rollout.status import watch as follow

    clients = _clients(aws)

    def show(result: dict[str, Any]) -> None:
        click.echo(json.dumps(result, default=str) if fmt == "json" else _status_text(result))

    with aws_errors("status"):
        if not watch:
            for result in [read_status(clients, cluster, s, lock_table) for s in services]:
                show(result)
            return
        for service in services:
            reader = functools.partial(read_status, clients, cluster, service, lock_table)
            for result in follow(reader, interval):
                show(result)


def _status_text(r: dict[str, Any]) -> str:
    strategy = r["strategy_text"] if r["strategy"] else "none (launch type)"
    dep = r["deployment"]
    running = ", ".join(f"{p} {n}" for p, n in r["running"].items()) or "none seen"
    arch = ", ".join(f"{a} {n}" for a, n in r["running_arch"].items())
    lines = [
        f"{r['service']} (cluster {r['cluster']})",
        f"  strategy    {strategy}",
        f"  deployment  {dep['id']} {dep['state']} ({dep['running']}/{dep['desired']} running)",
        f"  tasks       {running}" + (f" (by architecture: {arch})" if arch else ""),
    ]
    ctl = r["controller"]
    if ctl is not None and ctl["lease"] == "none":  # no lease table: by the expected update
        if ctl["running"]:
            lines.append(f"  controller  presumably running (writes again by {ctl['expected_by']})")
        else:
            lines.append(
                f"  controller  none running: no update since it was expected by "
                f"{ctl['expected_by']}"
            )
    elif ctl is not None:
        if ctl["running"]:
            lines.append(f"  controller  {ctl['owner']} (lease until {ctl['until']})")
        elif ctl["lease"] == "expired":
            lines.append(
                f"  controller  none running: the lease of {ctl['owner']} expired at "
                f"{ctl['expired']}"
            )
        else:
            lines.append(f"  controller  none running (no lease in {ctl['table']})")
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
        if s["active"] and ctl is not None and not ctl["running"]:
            lines.append(
                f"  note        {s['phase']} but no controller is running: rerun the same "
                "`graviton shift` to resume, or `graviton rollback`"
            )
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
@click.option("--poll", type=DURATION, metavar="DURATION", default="15s", show_default=True)
@click.option(
    "--deploy-timeout", type=DURATION, metavar="DURATION", default="30m", show_default=True
)
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
    stops). Does not wait for the lease: it is the emergency brake. The weights go out first,
    the recorded state after.

    \b
    Examples:
    graviton rollback --cluster prod --service orders
    graviton rollback --cluster prod --service orders --to x86
    """
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
    with _on_sigterm(LEASE_KEPT):
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
    """Break the lease on services (when a controller died holding it).

    \b
    Example:
    graviton unlock --cluster prod --service orders --lock-table graviton-locks
    """
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
