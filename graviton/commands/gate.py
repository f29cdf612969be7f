"""``graviton gate``: the audit, the Dockerfile checks and the image checks as one CI step."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from graviton import config as cfg
from graviton.aws import AwsOptions, aws_options
from graviton.commands._validate_options import ValidateOptions, validate_options
from graviton.commands.audit import (
    Progress,
    audit_request,
    choose_format,
    render_report,
    shared_options,
)
from graviton.errors import UsageError
from graviton.findings import GateReport, Location
from graviton.paths import display_path, relative_path
from graviton.report import FORMATS
from graviton.validate.request import Request as ValidateRequest


def _line_of(path: Path, text: str) -> int | None:
    """The first line of ``path`` that quotes ``text`` (an image named in pyproject.toml)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for number, line in enumerate(lines, start=1):
        if f'"{text}"' in line or f"'{text}'" in line:
            return number
    return None


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--dockerfile",
    "dockerfiles",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A Dockerfile to check (repeat). [default: every Dockerfile under PATHS]",
)
@click.option("--no-dockerfiles", is_flag=True, help="Check no Dockerfile.")
@click.option(
    "--image",
    "images",
    multiple=True,
    metavar="REF",
    help="An image whose registry index must hold every --platform (repeat).",
)
@click.option("--no-images", is_flag=True, help="Check no image, not even the config's.")
@click.option(
    "--validate",
    "validate_images",
    multiple=True,
    metavar="IMAGE",
    help="Also run IMAGE's arm64 variant under QEMU as graviton validate does (repeat); each "
    "failing distribution is a GVV001-GVV005 finding; a run that proves nothing is exit 3.",
)
@validate_options("validate-")
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="PLATFORMS",
    help="Platforms images and base images must hold, comma-separated. "
    "[default: linux/amd64,linux/arm64]",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Skip paths matching this glob (relative to each PATH; repeat), e.g. 'tests/*'.",
)
@click.option(
    "--no-base-images",
    is_flag=True,
    help="Do not read base images' indexes from their registries (rule GVD001 is skipped).",
)
@click.option(
    "--write",
    "writes",
    multiple=True,
    metavar="FORMAT:FILE",
    help="Also write the report as FORMAT to FILE (repeat), e.g. sarif:gate.sarif: one run "
    "gives the log, the code-scanning upload and the JUnit artefact.",
)
@shared_options
@aws_options
def gate(
    paths: tuple[Path, ...],
    dockerfiles: tuple[Path, ...],
    no_dockerfiles: bool,
    images: tuple[str, ...],
    no_images: bool,
    platforms: tuple[str, ...],
    exclude: tuple[str, ...],
    no_base_images: bool,
    writes: tuple[str, ...],
    validate_images: tuple[str, ...],
    fmt: str | None,
    output: Path | None,
    aws: AwsOptions,
    validation: ValidateOptions,
    **options: Any,
) -> None:
    """Everything a pull request must pass before the Graviton move, as one CI step.

    Audits every lock and requirements file under PATHS (default: the current directory,
    recursively; .git, virtualenvs, node_modules and build output are skipped) -- a file a
    Dockerfile installs (pip install -r FILE) for that image's Python and libc --, checks every
    Dockerfile (rules GVD001-GVD005: base images without linux/arm64, constant FROM --platform,
    x86 download URLs, undeclared TARGETARCH, curl without --fail) and, for each --image, that
    its registry index holds linux/amd64 and linux/arm64 (GVI001). With --validate IMAGE, the
    image's arm64 variant runs under QEMU as `graviton validate` runs it (--cpu,
    --validate-run, --validate-timeout): each failing distribution is a finding (GVV001
    crashed, GVV002 foreign-binary, GVV003 import-error, GVV004 timeout, GVV005 --validate-run
    failed). One report, one --fail-on: a Dockerfile, image or validate error ranks with
    blocked, a warning with source.

    \b
    Settings come from [tool.graviton.gate] and [tool.graviton.audit] in pyproject.toml
    (paths, dockerfiles, images, exclude, platforms, base-images, python, target, fail-on,
    ignore, format...), so the CI line is just `graviton gate`. Flags win.

    \b
    Examples:
      graviton gate
      graviton gate services/ --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1
      graviton gate --format github --write sarif:gate.sarif --write junit:junit.xml
      graviton gate --validate 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1 --cpu graviton2

    \b
    Exit codes: 0 pass, 1 a finding at or above --fail-on (or an expired ignore entry),
    2 usage or unreadable input, 3 the package index or a registry could not be read, or
    --validate could not prove its result (engine error, timeout, wrong CPU).
    """
    from graviton.checks.image import DEFAULT_REQUIRED
    from graviton.collector import settle
    from graviton.gate.run import GateRequest, ImageSpec, RegistryLookup
    from graviton.gate.run import gate as run_gate
    from graviton.image.run import parse_platforms
    from graviton.oci.ecr import EcrClients

    settle()
    extra_outputs = [_write_spec(text) for text in writes]
    config = cfg.load_config(paths[0] if paths else None)
    pyproject, settings = config.path, config.gate
    request = audit_request(settings.audit, paths=(), dockerfile=None, **options)
    if no_dockerfiles and dockerfiles:
        raise UsageError("--no-dockerfiles and --dockerfile cannot be combined")
    chosen_dockerfiles: tuple[Path, ...] | None = dockerfiles or None
    if no_dockerfiles or settings.dockerfiles == ():
        chosen_dockerfiles = ()
    elif chosen_dockerfiles is None and settings.dockerfiles is not None:
        chosen_dockerfiles = tuple(_config_path(pyproject, p) for p in settings.dockerfiles)
    if no_images and images:
        raise UsageError("--no-images and --image cannot be combined")
    if validation.given and not validate_images:
        raise UsageError(
            f"--cpu/--cluster/--provider/{validation.run_option}/--validate-timeout/"
            "--validate-import-timeout need --validate IMAGE"
        )
    validate_requests = _validate_requests(validate_images, validation, aws)
    specs = [ImageSpec(ref) for ref in images]
    if not images and not no_images and pyproject is not None:
        specs = [
            ImageSpec(ref, Location(display_path(pyproject), _line_of(pyproject, ref)))
            for ref in settings.images
        ]
    gate_paths = paths or tuple(_config_path(pyproject, p) for p in settings.paths)
    gate_request = GateRequest(
        audit=request,
        paths=gate_paths,
        dockerfiles=chosen_dockerfiles,
        images=tuple(specs),
        exclude=exclude or settings.exclude,
        platforms=parse_platforms(platforms or settings.platforms, DEFAULT_REQUIRED),
        base_images=settings.base_images and not no_base_images,
        validate=validate_requests,
    )
    if not gate_request.base_images:
        click.echo("graviton: base images not checked (GVD001 skipped)", err=True)
    lookup = RegistryLookup(EcrClients(aws.profile, aws.endpoint_url))
    with Progress() as progress:
        report = run_gate(gate_request, lookup=lookup, progress=progress)
    render_report(report, choose_format(fmt, settings.audit), output)
    for write_fmt, path in extra_outputs:
        write_report(report, write_fmt, path)
    click.get_current_context().exit(report.exit_code)


def _validate_requests(
    images: tuple[str, ...], validation: ValidateOptions, aws: AwsOptions
) -> tuple[ValidateRequest, ...]:
    """One validate request per --validate IMAGE (the options read, and --cpu auto asked, once)."""
    if not images:
        return ()
    first = validation.request(images[0], aws)
    return tuple(replace(first, image=image) for image in dict.fromkeys(images))


def _write_spec(text: str) -> tuple[str, Path]:
    fmt, sep, path = text.partition(":")
    if not sep or not path or fmt not in FORMATS or fmt == "table":
        choices = ", ".join(f for f in FORMATS if f != "table")
        raise UsageError(f"--write wants FORMAT:FILE with FORMAT one of {choices}; got {text!r}")
    return fmt, Path(path)


def write_report(report: GateReport, fmt: str, path: Path) -> None:
    from graviton import report as formats

    text = formats.render(report, fmt)
    try:
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --write {path}: {exc.strerror}") from None


def _config_path(pyproject: Path | None, text: str) -> Path:
    """A path written in pyproject.toml is relative to the file's folder."""
    path = Path(text)
    if pyproject is None or path.is_absolute():
        return path
    return relative_path(pyproject.parent / path)
