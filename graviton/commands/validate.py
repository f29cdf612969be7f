"""``graviton validate``: flags in, :mod:`graviton.validate.run` does the work, the report is
rendered and sets the exit code (0 pass, 1 a failing result, 2 usage, 3 engine/registry error or
something that could not be proven)."""

from __future__ import annotations

import click

from graviton.aws import AwsOptions, aws_options
from graviton.commands._validate_options import ValidateOptions, validate_options
from graviton.errors import UsageError
from graviton.report.validate import FORMATS as VALIDATE_FORMATS

ARM64 = ("linux/arm64", "linux/arm64/v8")


@click.command("validate")
@click.argument("image")
@click.option(
    "--platform",
    default="linux/arm64",
    show_default=True,
    metavar="PLATFORMS",
    help="The variant to run (arm64 only).",
)
@validate_options()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(VALIDATE_FORMATS),
    default="text",
    show_default=True,
)
@aws_options
def validate(
    image: str,
    platform: str,
    fmt: str,
    aws: AwsOptions,
    validation: ValidateOptions,
) -> None:
    """Run IMAGE's arm64 variant (by digest) under QEMU with a Graviton generation's CPU model:
    import every installed distribution's top-level modules, each in a fresh interpreter, and
    read every installed file's ELF header.

    \b
    Per distribution: ok, import-error, crashed (SIGILL: built for a newer CPU than the
    generation), foreign-binary (an x86-64 ELF in the arm64 image) or timeout.

    \b
    Examples:
      graviton validate registry.example.com/app:1.4 --cpu graviton2
      graviton validate app:1.4 --cpu auto --cluster prod --provider arm --run "pytest -m smoke"

    \b
    Exit codes: 0 pass, 1 a failing result, 2 usage, 3 engine/registry error or something
    that could not be proven (timeout, wrong CPU).
    """
    from graviton.report.validate import render
    from graviton.validate.run import validate as run_validate

    if platform.lower() not in ARM64:
        raise UsageError(f"--platform {platform}: graviton validate runs linux/arm64 only")
    report = run_validate(validation.request(image, aws))
    click.echo(render(report, fmt), nl=False)
    if report.error is not None:
        click.echo(f"graviton: error: {report.error}", err=True)
    raise SystemExit(report.exit_code)
