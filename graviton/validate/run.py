"""One ``graviton validate``: resolve the image's arm64 variant by digest, run the probe in it
under QEMU with the generation's CPU model, and turn what it printed into a :class:`Report`.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from importlib import resources

from graviton.errors import GravitonError, InputError, ServiceUnavailable, one_line
from graviton.image.emulated import RunResult, run_emulated
from graviton.image.inspect import check_image
from graviton.oci.engine import docker_binary
from graviton.oci.manifest import ManifestReader
from graviton.oci.reference import ImageRef
from graviton.validate.cpu import mismatch
from graviton.validate.model import Report, Status
from graviton.validate.request import Request
from graviton.validate.results import ProbeResults, interpret

PYTHONS = ("python3", "python")  # tried in this order: the image's own interpreter runs the probe
_DOCKER_ERROR = 125  # docker run's own failure (engine, registry, bad flags)
_NOT_FOUND = (126, 127)  # the entrypoint is missing or not executable


class ImageFailure(GravitonError):
    """The image has no variant for the platform: a failing result (exit 1)."""

    exit_code = 1


__all__ = ["ImageFailure", "Request", "probe_source", "resolve", "validate"]


def probe_source() -> str:
    """The in-container probe (package data), passed to the image's python with ``-c``."""
    package = resources.files("graviton.validate")
    return package.joinpath("probe_script.py").read_text(encoding="utf-8")


def resolve(image: str, platform: str, reader: ManifestReader | None = None) -> str:
    """``repository@sha256:...`` of ``image``'s variant for ``platform``, from its registry."""
    try:
        check = check_image(image, [platform], reader=reader, check_configs=True)
    except (InputError, ServiceUnavailable):
        raise
    except (GravitonError, LookupError) as exc:  # not found: nothing to validate
        raise ServiceUnavailable(f"cannot read {image}: {one_line(str(exc))}") from None
    if check.missing or check.mismatches:
        raise ImageFailure(check.summary())
    ref = ImageRef.parse(image)
    wanted = check.required[0]
    digest = check.digest_for(wanted) or check.digest_for(f"{wanted}/v8")
    if not digest:
        raise ImageFailure(f"{image}: no {platform} variant")
    return f"{ref.registry}/{ref.repository}@{digest}"


def engine_architecture() -> str:
    """The engine's architecture (``amd64``: QEMU emulates arm64; ``arm64``: native)."""
    docker = docker_binary()
    try:
        proc = subprocess.run(
            [docker, "version", "--format", "{{.Server.Arch}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServiceUnavailable(f"docker engine unreachable: {one_line(str(exc))}") from None
    if proc.returncode != 0 or not proc.stdout.strip():
        raise ServiceUnavailable(
            f"docker engine unreachable: {one_line(proc.stderr or proc.stdout or 'no answer')}"
        )
    return proc.stdout.strip()


def _probe(request: Request, ref: str) -> RunResult:
    config = {
        "import_timeout": request.import_timeout,
        "budget": max(request.timeout - 30.0, request.timeout * 0.9),  # leave time to report
        "run": list(request.run) if request.run else None,
    }
    source = probe_source()
    env = {"QEMU_CPU": request.cpu.qemu_cpu, "PYTHONDONTWRITEBYTECODE": "1"}
    for python in PYTHONS:
        argv = [python, "-c", source, json.dumps(config)]
        outcome = run_emulated(
            ref, request.platform, argv, request.timeout, env, name_prefix="graviton-validate"
        )
        if not _missing(python, outcome):
            return outcome
    raise InputError(f"{request.image} has no python3 or python on its PATH: nothing to validate")


def _missing(python: str, outcome: RunResult) -> bool:
    """``python`` is not in the image: docker's own message, or (``--init``) tini's."""
    if outcome.exit_code not in _NOT_FOUND:
        return False
    text = (outcome.stderr + outcome.stdout).lower()
    return "executable file not found" in text or (
        f"exec {python} failed: no such file or directory" in text
    )


_NO_EMULATOR = (
    "the engine could not run an arm64 program (exec format error): QEMU user emulation is not "
    "registered for aarch64 in binfmt_misc on the engine's host (register it, e.g. docker run "
    "--privileged --rm tonistiigi/binfmt --install arm64, or use an arm64 engine)"
)


def _error(request: Request, outcome: RunResult, found: ProbeResults) -> str | None:
    """What could not be proven, as one line, or None."""
    if outcome.exit_code is None:
        return (
            f"--timeout {request.timeout:g}s reached: the container was removed before every "
            "distribution was checked"
        )
    if outcome.exit_code == _DOCKER_ERROR and found.seen is None:
        stderr = outcome.stderr.strip().splitlines()
        raise ServiceUnavailable(f"docker run failed: {one_line(stderr[-1] if stderr else '')}")
    if found.seen is None and "exec format error" in outcome.stderr.lower():
        return _NO_EMULATOR
    if found.seen is None or not found.complete:
        last = (outcome.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the probe stopped (exit {outcome.exit_code}): {one_line(last)}"
    if found.problems:
        return found.problems[0]
    if found.out_of_time:
        if found.run is not None and found.run.status is Status.TIMEOUT:
            return f"--timeout {request.timeout:g}s reached while --run was still running"
        return f"--timeout {request.timeout:g}s reached before every module was imported"
    if found.seen.machine not in ("aarch64", "arm64"):
        return f"the container runs on {found.seen.machine or 'an unknown CPU'}, not arm64"
    return mismatch(request.cpu, found.seen)


def validate(request: Request, reader: ManifestReader | None = None) -> Report:
    started = time.monotonic()
    generated = dt.datetime.now(dt.UTC)
    engine_architecture()
    ref = resolve(request.image, request.platform, reader)
    outcome = _probe(request, ref)
    found = interpret(
        outcome.stdout.splitlines(),
        request.cpu.generation,
        request.run_text if request.run else None,
    )
    return Report(
        image=request.image,
        ref=ref,
        platform=request.platform,
        cpu=request.cpu,
        cpu_source=request.cpu_source,
        distributions=found.distributions,
        run=found.run,
        seen=found.seen,
        error=_error(request, outcome, found),
        seconds=time.monotonic() - started,
        generated=generated,
    )
