"""``graviton validate``: flags in, :mod:`graviton.validate.run` does the work, the report is
rendered and sets the exit code (0 pass, 1 a failing result, 2 usage, 3 engine/registry error or
something that could not be proven)."""

from __future__ import annotations

import shlex

import click

from graviton.aws import AwsOptions, aws_options
from graviton.errors import UsageError
from graviton.instances import Generation
from graviton.report.validate import FORMATS as VALIDATE_FORMATS
from graviton.timeutil import parse_duration

CPUS = ("graviton1", "graviton2", "graviton3", "graviton4", "auto")
DEFAULT_CPU = Generation.GRAVITON2
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
@click.option(
    "--cpu",
    type=click.Choice(CPUS),
    default=None,
    help="Graviton generation to emulate [default: graviton2, or auto with --cluster/--provider]; "
    "auto reads the ARM capacity provider's instance types (mixed: the oldest).",
)
@click.option("--cluster", help="With --cpu auto: the ECS cluster whose ARM providers count.")
@click.option("--provider", help="With --cpu auto: the ARM capacity provider.")
@click.option("--run", "run_command", metavar="CMD", help="Run CMD after the imports (same CPU).")
@click.option(
    "--timeout",
    default="10m",
    show_default=True,
    metavar="DURATION",
    help="The whole run; the container is removed then.",
)
@click.option(
    "--import-timeout",
    default="2m",
    show_default=True,
    metavar="DURATION",
    help="Each module's import.",
)
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
    cpu: str | None,
    cluster: str | None,
    provider: str | None,
    run_command: str | None,
    timeout: str,
    import_timeout: str,
    fmt: str,
    aws: AwsOptions,
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
    from graviton.validate.cpu import CPU_MODELS
    from graviton.validate.run import Request
    from graviton.validate.run import validate as run_validate

    if platform.lower() not in ARM64:
        raise UsageError(f"--platform {platform}: graviton validate runs linux/arm64 only")
    if (cluster or provider) and cpu not in (None, "auto"):
        raise UsageError("--cluster/--provider choose the CPU: use them with --cpu auto")
    if cpu == "auto" or (cpu is None and (cluster or provider)):
        if not (cluster or provider):
            raise UsageError("--cpu auto needs --cluster and/or --provider")
        from graviton.validate.cluster import auto_generation, provider_types

        generation, source = auto_generation(
            provider_types(aws, cluster, provider), explicit=provider is not None
        )
    else:
        generation = Generation(cpu) if cpu else DEFAULT_CPU
        source = f"--cpu {generation.value}" if cpu else f"default --cpu {generation.value}"
    run_argv: tuple[str, ...] | None = None
    if run_command is not None:
        try:
            run_argv = tuple(shlex.split(run_command))
        except ValueError as exc:
            raise UsageError(f"--run: cannot parse {run_command!r}: {exc}") from None
        if not run_argv:
            raise UsageError("--run: empty command")
    request = Request(
        image=image,
        platform="linux/arm64",
        cpu=CPU_MODELS[generation],
        cpu_source=source,
        run=run_argv,
        run_text=run_command,
        timeout=parse_duration(timeout),
        import_timeout=parse_duration(import_timeout),
    )
    report = run_validate(request)
    click.echo(render(report, fmt), nl=False)
    if report.error is not None:
        click.echo(f"graviton: error: {report.error}", err=True)
    raise SystemExit(report.exit_code)
