"""``graviton build`` and ``graviton verify``: flags in, :mod:`graviton.image.run` does the work,
the result is rendered as text or JSON and sets the exit code.

Exit codes: 0 built and proven; 1 a check, build, verification, smoke or --validate failure;
2 usage; 3 the docker engine or a registry could not be reached or failed (a push refused, an
HTTP error, a push stalled past --push-timeout), or --validate could not prove its result.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from graviton.aws import AwsOptions, aws_options
from graviton.commands._validate_options import ValidateOptions, validate_options
from graviton.config import ImageConfig, read_config
from graviton.errors import InputError, UsageError
from graviton.findings import Check, Severity
from graviton.image.buildx import DEFAULT_PLATFORMS, BakeTarget, BuildRequest
from graviton.image.run import (
    DockerfileInput,
    Options,
    Outcome,
    Verification,
    build_all,
    build_one,
    parse_build_args,
    parse_platforms,
)
from graviton.image.run import verify as verify_image
from graviton.image.smoke import DEFAULT_COMMAND, SmokeResult
from graviton.oci.ecr import EcrClients
from graviton.oci.reference import ImageRef
from graviton.timeutil import parse_duration
from graviton.validate.model import Report as ValidateReport
from graviton.validate.request import PLATFORM as VALIDATE_PLATFORM
from graviton.validate.request import Request as ValidateRequest

TEXT_OR_JSON = click.Choice(["text", "json"])
smoke_timeout_option = click.option(
    "--smoke-timeout",
    default="120s",
    show_default=True,
    metavar="DURATION",
    help="Per platform, e.g. 90s, 2m; the container is removed when it fires.",
)


@click.command("build")
@click.argument("context", required=False, default=".", type=click.Path(file_okay=False))
@click.option("-t", "--tag", "tags", multiple=True, metavar="IMAGE:TAG", help="Name and tag.")
@click.option("-f", "--file", "dockerfile", type=click.Path(dir_okay=False), help="Dockerfile.")
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="PLATFORMS",
    help="Comma-separated platforms (default linux/amd64,linux/arm64).",
)
@click.option("--push", is_flag=True, help="Push, then read the index back and prove it.")
@click.option(
    "--push-timeout",
    default="30m",
    show_default=True,
    metavar="DURATION",
    help="A push that makes no progress this long (the registry does not answer) is cancelled: "
    "exit 3.",
)
@click.option("--builder", help="buildx builder instance.")
@click.option("--cache-from", multiple=True, metavar="REF", help="buildx --cache-from.")
@click.option("--cache-to", multiple=True, metavar="REF", help="buildx --cache-to.")
@click.option("--build-arg", "build_arg", multiple=True, metavar="K=V", help="Build argument.")
@click.option("--target", help="Build this stage.")
@click.option("--provenance/--no-provenance", default=None, help="Provenance attestation.")
@click.option(
    "--smoke",
    "smoke_command",
    default=DEFAULT_COMMAND,
    show_default=True,
    metavar="CMD",
    help="Run CMD in each platform's image (by digest) and check the architecture it prints.",
)
@click.option("--no-smoke", is_flag=True, help="Skip the smoke run.")
@smoke_timeout_option
@click.option("--metadata-file", type=click.Path(dir_okay=False), help="Keep buildx metadata.")
@click.option("--check-only", is_flag=True, help="Run the engine and Dockerfile checks only.")
@click.option(
    "--all",
    "build_every",
    is_flag=True,
    help="Build every image of [tool.graviton.images] in pyproject.toml with buildx bake.",
)
@click.option(
    "--project",
    type=click.Path(dir_okay=False),
    default="pyproject.toml",
    show_default=True,
    help="With --all: the pyproject.toml to read.",
)
@click.option(
    "--validate",
    "validate_flag",
    is_flag=True,
    help="With --push: then run each pushed image's arm64 variant (by digest) under QEMU as "
    "graviton validate does (--cpu, --validate-run, --validate-timeout).",
)
@validate_options("validate-")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@aws_options
def build(
    context: str,
    tags: tuple[str, ...],
    dockerfile: str | None,
    platforms: tuple[str, ...],
    push: bool,
    push_timeout: str,
    builder: str | None,
    cache_from: tuple[str, ...],
    cache_to: tuple[str, ...],
    build_arg: tuple[str, ...],
    target: str | None,
    provenance: bool | None,
    smoke_command: str,
    no_smoke: bool,
    smoke_timeout: str,
    metadata_file: str | None,
    check_only: bool,
    build_every: bool,
    project: str,
    validate_flag: bool,
    fmt: str,
    aws: AwsOptions,
    validation: ValidateOptions,
) -> None:
    """Build a multi-arch image with docker buildx, push it, prove it, smoke-run it.

    \b
    Before building: the engine, buildx, the builder's platforms and QEMU are checked, and the
    Dockerfile is read for arm64 traps (rules GVD001-GVD006, with file:line). With --push the
    image index is read back from the registry and every platform proven (attestation manifests
    never count); then each platform's image runs, by digest, under --smoke-timeout
    (docker run --init: a SIGILL under QEMU ends the run as "illegal instruction"). With
    --validate each pushed image's arm64 variant then runs as `graviton validate` runs it:
    every installed distribution imported on the Graviton CPU model (--cpu, default graviton2).

    \b
    Examples:
      graviton build --push -t 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1 .
      graviton build --check-only .
      graviton build --all --push --smoke "python -c 'import app'"
      graviton build --push --validate --cpu graviton2 -t localhost:5000/api:1 .

    \b
    Exit codes: 0 built and proven, 1 a check/build/verification/smoke/--validate failure,
    2 usage, 3 docker engine or registry unreachable or failing (the push got an HTTP error,
    or stalled past --push-timeout), or --validate not proven.
    """
    plats = parse_platforms(platforms, DEFAULT_PLATFORMS)
    opts = Options(
        platforms=plats,
        push=push,
        builder=builder,
        provenance=provenance,
        smoke_command=None if no_smoke else smoke_command,
        smoke_timeout=parse_duration(smoke_timeout),
        metadata_file=metadata_file,
        check_only=check_only,
        push_timeout=parse_duration(push_timeout),
    )
    if opts.smoke_command is not None:
        from graviton.image.smoke import parse_command

        parse_command(opts.smoke_command)
    template = _validate_template(validate_flag, push, check_only, validation, aws)
    on_line = _progress_sink(fmt)
    if build_every:
        if tags or dockerfile or target:
            raise UsageError("--all takes the images from pyproject.toml: drop -t/-f/--target")
        bake_targets = load_images(
            Path(project), plats if platforms else None, cache_from, cache_to
        )
        for bake_target in bake_targets if template is not None else ():
            _need_arm64(bake_target.platforms, f" of [tool.graviton.images.{bake_target.name}]")
        outcome = build_all(bake_targets, opts, on_line)
    else:
        if not tags and not check_only:
            raise UsageError("give the image a name: -t IMAGE:TAG (or --check-only)")
        if push and not tags:
            raise UsageError("--push needs -t IMAGE:TAG")
        ctx = Path(context)
        if not ctx.is_dir():
            raise InputError("build context is not a directory", path=context)
        dockerfile_path = Path(dockerfile) if dockerfile else ctx / "Dockerfile"
        args = parse_build_args(build_arg)
        req = BuildRequest(
            context=context,
            tags=tags,
            dockerfile=dockerfile,
            platforms=plats,
            push=push,
            builder=builder,
            cache_from=cache_from,
            cache_to=cache_to,
            build_args=args,
            provenance=provenance,
            target=target,
        )
        item = DockerfileInput(dockerfile_path, ctx, dict(args), target)
        if template is not None:
            _need_arm64(plats)
        outcome = build_one(req, item, opts, on_line)
    reports = _validate_pushed(outcome, template) if template is not None else []
    _emit_outcome(outcome, fmt, reports)
    sys.exit(build_exit_code(outcome, reports))


def _validate_template(
    validate_flag: bool,
    push: bool,
    check_only: bool,
    validation: ValidateOptions,
    aws: AwsOptions,
) -> ValidateRequest | None:
    """The validate request every pushed image gets (its image filled in later), or None;
    every usage problem is found here, before anything is built."""
    if not validate_flag:
        if validation.given:
            raise UsageError(
                f"--cpu/--cluster/--provider/{validation.run_option}/--validate-timeout/"
                "--validate-import-timeout need --validate"
            )
        return None
    if check_only or not push:
        raise UsageError(
            "--validate needs --push: the image must be in a registry to run its arm64 "
            "variant by digest"
        )
    return validation.request("", aws)


def _need_arm64(platforms: tuple[str, ...], where: str = "") -> None:
    """Every image built must have the variant validate runs (else exit 2, nothing built)."""
    if not any(p.startswith(VALIDATE_PLATFORM) for p in platforms):
        raise UsageError(
            f"--validate runs the {VALIDATE_PLATFORM} variant: add it to --platform{where}"
        )


def _validate_pushed(outcome: Outcome, template: ValidateRequest) -> list[ValidateReport]:
    """``graviton validate`` on each image just pushed and proven, by its index digest (never the
    tag, which another push may have moved). Nothing is validated when the build failed."""
    if not outcome.ok:
        return []
    from graviton.validate.run import validate as run_validate

    reports = []
    for v in outcome.verifications:
        ref = ImageRef.parse(v.ref)
        image = f"{ref.registry}/{ref.repository}@{v.check.digest}" if v.check.digest else v.ref
        reports.append(run_validate(replace(template, image=image)))
    return reports


def build_exit_code(outcome: Outcome, reports: list[ValidateReport]) -> int:
    """1 when the build (or a verification or smoke run) failed; then --validate's: 3 when one
    image's result could not be proven (fail closed), 1 a failing result, else 0."""
    if not outcome.ok:
        return 1
    return max((r.exit_code for r in reports), default=0)


@click.command("verify")
@click.argument("images", nargs=-1, required=True, metavar="IMAGE...")
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="PLATFORMS",
    help="Platforms that must be present, comma-separated (default linux/amd64,linux/arm64).",
)
@click.option(
    "--smoke",
    "smoke_command",
    is_flag=False,
    flag_value=DEFAULT_COMMAND,
    default=None,
    metavar="[CMD]",
    help=f"Also run CMD (default: {DEFAULT_COMMAND}) in each platform's image, by digest.",
)
@smoke_timeout_option
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@aws_options
def verify_command(
    images: tuple[str, ...],
    platforms: tuple[str, ...],
    smoke_command: str | None,
    smoke_timeout: str,
    fmt: str,
    aws: AwsOptions,
) -> None:
    """Prove that images in a registry hold every platform.

    \b
    Reads each image's index over the OCI distribution API (ECR, Docker Hub, any registry; docker
    login credentials), ignores attestation manifests, checks each child's config architecture,
    and prints the index digest and one digest per platform. With --smoke each platform's
    image runs (uname -m, or the image's python3 when it has no uname).

    \b
    Examples:
      graviton verify 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.4.2
      graviton verify localhost:5000/api:1 --smoke --smoke-timeout 3m
      graviton verify ghcr.io/acme/worker:2 --platform linux/arm64 --format json

    \b
    Exit codes: 0 every platform present (and smoke passed), 1 a platform is missing or wrong,
    2 usage, 3 registry (or, with --smoke, docker engine) unreachable.
    """
    plats = parse_platforms(platforms, DEFAULT_PLATFORMS)
    timeout = parse_duration(smoke_timeout)
    if smoke_command is not None:
        from graviton.image.smoke import parse_command

        parse_command(smoke_command)
        from graviton.oci.engine import engine_info

        engine_info()  # exit 3 now rather than a failed smoke run per platform
    results = [
        verify_image(
            image,
            plats,
            smoke_command=smoke_command,
            smoke_timeout=timeout,
            ecr=EcrClients(aws.profile, aws.endpoint_url),
        )
        for image in images
    ]
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "ok": all(v.ok for v in results),
                    "images": [verification_json(v) for v in results],
                },
                indent=2,
            )
        )
    else:
        for v in results:
            click.echo(verification_text(v))
    sys.exit(0 if all(v.ok for v in results) else 1)


verify = verify_command  # graviton.cli maps "verify" to this attribute


# -- pyproject [tool.graviton.images] --------------------------------------------------------------
def load_images(
    path: Path,
    platforms: tuple[str, ...] | None,
    cache_from: tuple[str, ...] = (),
    cache_to: tuple[str, ...] = (),
) -> list[BakeTarget]:
    """``[tool.graviton.images.NAME]`` tables -> bake targets; paths relative to the file."""
    images = read_config(path).images
    if not images:
        raise InputError("no [tool.graviton.images.NAME] tables", path=str(path))
    return [_bake_target(image, path, platforms, cache_from, cache_to) for image in images]


def _bake_target(
    image: ImageConfig,
    path: Path,
    platforms: tuple[str, ...] | None,
    cache_from: tuple[str, ...],
    cache_to: tuple[str, ...],
) -> BakeTarget:
    where = f"[tool.graviton.images.{image.name}]"
    context = (path.parent / image.context).resolve()
    if not context.is_dir():
        raise InputError(f"{where}: context {context} is not a directory", path=str(path))
    return BakeTarget(
        name=image.name,
        context=str(context),
        tags=image.tags,
        dockerfile=image.dockerfile,
        platforms=platforms or parse_platforms(list(image.platforms), DEFAULT_PLATFORMS),
        args=image.args,
        target=image.target,
        cache_from=cache_from,
        cache_to=cache_to,
    )


# -- rendering -------------------------------------------------------------------------------------
def _progress_sink(fmt: str) -> Any:
    """On a terminal buildx draws its own progress (None); otherwise stream its plain lines to
    stderr, so stdout carries only the result (and stays JSON with --format json)."""
    if sys.stderr.isatty() and fmt == "text":
        return None

    def sink(line: str) -> None:
        click.echo(f"  | {line}", err=True)

    return sink


def verification_text(v: Verification) -> str:
    c = v.check
    lines = [f"{'ok' if v.ok else 'FAIL'} {v.ref} {c.digest or ''}".rstrip()]
    for p in c.platforms:
        mark = "" if p.platform in c.required else "  (not required)"
        lines.append(f"  {p.platform:<14} {p.digest}{mark}")
    if c.attestations:
        plural = "s" if c.attestations > 1 else ""
        lines.append(f"  ({c.attestations} attestation manifest{plural}, not counted as platforms)")
    for s in v.smoke:
        lines.append(f"  smoke {s.platform}: {'ok' if s.ok else 'FAIL'}, {s.message}")
    for problem in v.problems:
        lines.append(f"  error: {problem}")
    return "\n".join(lines)


def verification_json(v: Verification) -> dict[str, Any]:
    c = v.check
    return {
        "image": v.ref,
        "ok": v.ok,
        "digest": c.digest,
        "is_index": c.is_index,
        "required": list(c.required),
        "missing": list(c.missing),
        "platforms": {p.platform: p.digest for p in c.platforms},
        "attestations": c.attestations,
        "config_mismatches": list(c.mismatches),
        "smoke": [s.to_json() for s in v.smoke],
        "problems": list(v.problems),
    }


def _smoke_text(s: SmokeResult) -> str:
    return f"smoke {s.platform} {s.image}: {'ok' if s.ok else 'FAIL'}, {s.message}"


def _emit_outcome(outcome: Outcome, fmt: str, reports: list[ValidateReport]) -> None:
    from graviton.report import validate as validate_formats

    for report in reports:
        if report.error is not None:
            click.echo(f"graviton: error: {report.image}: {report.error}", err=True)
    if fmt == "json":
        data = {
            "ok": build_exit_code(outcome, reports) == 0,
            "stage": outcome.stage,
            "platforms": list(outcome.platforms),
            "engine": (
                {
                    "version": outcome.engine.engine_version,
                    "builder": outcome.engine.builder.name if outcome.engine.builder else None,
                    "driver": outcome.engine.builder.driver if outcome.engine.builder else None,
                }
                if outcome.engine
                else None
            ),
            "findings": [f.to_json() for f in outcome.findings],
            "error": outcome.error,
            "built": {n: r.digest for n, r in outcome.built.items()},
            "images": [verification_json(v) for v in outcome.verifications],
            "smoke": [s.to_json() for s in outcome.local_smoke],
            "validate": [validate_formats.document(r) for r in reports],
        }
        click.echo(json.dumps(data, indent=2))
        return
    if outcome.engine and outcome.engine.builder:
        e, b = outcome.engine, outcome.engine.builder
        click.echo(f"engine {e.engine_version}, builder {b.name} ({b.driver} driver)")
    for f in outcome.findings:
        click.echo(_finding_text(f))
    errors = sum(1 for f in outcome.findings if f.severity is Severity.ERROR)
    if errors:
        click.echo(f"{errors} check(s) failed: not building")
        return
    if outcome.error:
        click.echo(f"graviton: error: {outcome.error}", err=True)
        return
    if outcome.stage == "checks":
        click.echo("checks passed")
        return
    for name, result in outcome.built.items():
        click.echo(f"built {name} {result.digest or '(no digest reported)'}")
    for v in outcome.verifications:
        click.echo(verification_text(v))
    for s in outcome.local_smoke:
        click.echo(_smoke_text(s))
    for report in reports:
        click.echo(validate_formats.text(report), nl=False)


def _finding_text(f: Check) -> str:
    return f.render()
