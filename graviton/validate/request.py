"""One place turns validate's options into a :class:`Request`: ``graviton validate``,
``graviton build --validate`` and ``graviton gate --validate`` all call :func:`make_request`.

Every usage problem (a CPU choice that contradicts --cluster/--provider, an unparsable --run, a
bad duration) is a :class:`~graviton.errors.UsageError` (exit 2) raised here, before anything
is built, pushed or run. ``--cpu auto`` reads the ARM capacity provider's instance types (AWS).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from graviton.aws import AwsOptions
from graviton.errors import UsageError
from graviton.instances import Generation
from graviton.timeutil import parse_duration
from graviton.validate.cpu import CPU_MODELS
from graviton.validate.model import CpuModel

CPUS = ("graviton1", "graviton2", "graviton3", "graviton4", "auto")
DEFAULT_CPU = Generation.GRAVITON2
PLATFORM = "linux/arm64"  # validate runs the arm64 variant only
DEFAULT_TIMEOUT = "10m"
DEFAULT_IMPORT_TIMEOUT = "2m"


@dataclass(frozen=True)
class Request:
    image: str
    platform: str
    cpu: CpuModel
    cpu_source: str
    run: tuple[str, ...] | None  # the --run command, split
    run_text: str | None
    timeout: float  # the whole container
    import_timeout: float  # each module


def choose_cpu(
    cpu: str | None,
    cluster: str | None,
    provider: str | None,
    aws: AwsOptions | None,
) -> tuple[CpuModel, str]:
    """The CPU model and where the choice came from (``--cpu graviton3``, the provider's types)."""
    if cpu is not None and cpu not in CPUS:
        raise UsageError(f"--cpu {cpu}: choose one of {', '.join(CPUS)}")
    if (cluster or provider) and cpu not in (None, "auto"):
        raise UsageError("--cluster/--provider choose the CPU: use them with --cpu auto")
    if cpu == "auto" or (cpu is None and (cluster or provider)):
        if not (cluster or provider):
            raise UsageError("--cpu auto needs --cluster and/or --provider")
        from graviton.validate.cluster import auto_generation, provider_types

        generation, source = auto_generation(
            provider_types(aws or AwsOptions(), cluster, provider), explicit=provider is not None
        )
        return CPU_MODELS[generation], source
    generation = Generation(cpu) if cpu else DEFAULT_CPU
    source = f"--cpu {generation.value}" if cpu else f"default --cpu {generation.value}"
    return CPU_MODELS[generation], source


def parse_run(run_command: str | None, option: str = "--run") -> tuple[str, ...] | None:
    """``--run "pytest -m smoke"`` -> ("pytest", "-m", "smoke"); None when not given."""
    if run_command is None:
        return None
    try:
        argv = tuple(shlex.split(run_command))
    except ValueError as exc:
        raise UsageError(f"{option}: cannot parse {run_command!r}: {exc}") from None
    if not argv:
        raise UsageError(f"{option}: empty command")
    return argv


def make_request(
    image: str,
    cpu: str | None = None,
    cluster: str | None = None,
    provider: str | None = None,
    run_command: str | None = None,
    timeout: str = DEFAULT_TIMEOUT,
    import_timeout: str = DEFAULT_IMPORT_TIMEOUT,
    aws: AwsOptions | None = None,
    *,
    run_option: str = "--run",
) -> Request:
    """The :class:`Request` for ``image`` from validate's options as the user wrote them
    (``run_option`` names the flag in messages: ``--validate-run`` on build and gate)."""
    run = parse_run(run_command, run_option)
    whole, each = parse_duration(timeout), parse_duration(import_timeout)
    model, source = choose_cpu(cpu, cluster, provider, aws)  # last: --cpu auto asks AWS
    return Request(
        image=image,
        platform=PLATFORM,
        cpu=model,
        cpu_source=source,
        run=run,
        run_text=run_command,
        timeout=whole,
        import_timeout=each,
    )
