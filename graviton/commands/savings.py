"""``graviton savings``: what moving a cluster's x86 capacity providers to Graviton saves."""

from __future__ import annotations

import json
import sys

import click

from graviton.aws import AwsOptions, aws_errors, aws_options


@click.command("savings")
@click.option("--cluster", required=True, help="ECS cluster name or ARN.")
@click.option(
    "--service",
    help="Only the capacity providers this service's capacity provider strategy uses.",
)
@click.option(
    "--pricing",
    type=click.Choice(["table", "live"]),
    default="table",
    show_default=True,
    help="table: the dated price table shipped with graviton, for the cluster's region (no "
    "credentials needed); live: the AWS Price List API for the cluster's region.",
)
@click.option(
    "--rates",
    "rates_file",
    type=click.Path(dir_okay=False),
    help='JSON file of effective USD/h rates by instance type or family, e.g. {"m6i.xlarge": '
    '0.121, "m6g": 0.097} (Reserved Instance or negotiated rates).',
)
@click.option(
    "--discount",
    help="Percent off the list price per architecture, e.g. x86=37%,arm=37% (1-year RI tier).",
)
@click.option(
    "--plan", "show_plan", is_flag=True, help="Also show the saving at 25/50/75/100% ARM weight."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "text", "json"]),
    help="Output format (default: table on a terminal, text otherwise).",
)
@aws_options
def savings(
    aws: AwsOptions,
    cluster: str,
    service: str | None,
    pricing: str,
    rates_file: str | None,
    discount: str | None,
    show_plan: bool,
    fmt: str | None,
) -> None:
    """Hourly and monthly on-demand cost of a cluster's x86 capacity, before and after Graviton.

    Reads the instance types and counts behind the cluster's capacity providers (ECS ->
    capacity provider -> auto scaling group), maps each x86 type to its Graviton counterpart of
    the same size (m6i.xlarge -> m6g.xlarge, c7i -> c7g, t3 -> t4g, ...) and prices both.
    Prices are the cluster region's; each line says which rate it used (list price, regional
    estimate, rates file, discount). Active Reserved Instances of the x86 types being moved are
    listed with their expiry (standard ones do not cover Graviton). Nothing in AWS is changed.

    \b
    Example:
      graviton savings --cluster prod --region ap-southeast-1 --plan
      graviton savings --cluster prod --discount x86=37%,arm=37%

    \b
    Exit codes: 0 report printed, 2 bad flags or unknown cluster/service,
    3 AWS could not be reached.
    """
    import dataclasses

    from graviton.savings.inventory import read_inventory
    from graviton.savings.render import to_json, to_rich, to_text
    from graviton.savings.run import PricingRequest, savings_report

    request = PricingRequest(pricing=pricing, rates_file=rates_file, discount=discount)
    request.rates()  # bad --rates / --discount: exit 2 before anything is read
    inventory = read_inventory(aws, cluster, service)
    with aws_errors("AWS"):
        ec2 = dataclasses.replace(aws, max_attempts=2).client("ec2")
    report = savings_report(aws, inventory, request, ec2)

    for warning in report.warnings:
        click.echo(f"graviton: warning: {warning}", err=True)
    fmt = fmt or ("table" if sys.stdout.isatty() else "text")
    if fmt == "json":
        click.echo(json.dumps(to_json(report), indent=2))
    elif fmt == "text":
        click.echo(to_text(report, show_plan=show_plan), nl=False)
    else:
        from rich.console import Console

        # asked for a table off a terminal (a pager, a file): do not squeeze it into 80 columns
        console = Console(width=None if sys.stdout.isatty() else 160)
        for part in to_rich(report, show_plan=show_plan):
            console.print(part)
