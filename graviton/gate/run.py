"""One gate run: find the inputs, audit the locks, check the Dockerfiles and the images, and
return a :class:`~graviton.gate.model.GateReport`. Only wiring; every decision lives in the
audit, :mod:`graviton.image.dockerfile`, :mod:`graviton.checks.image` and the gate's model.

The Dockerfile rules are GVD001-GVD005. GVD006 (``pip install -r FILE`` whose pins do not
install) is left to the gate's own audit, which reads every requirements file in the repository
with the gate's index, cache, targets and ignore list, at the line of each pin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from graviton.audit.model import Location, Report
from graviton.audit.run import AuditRequest, Progress, apply_ignores, audit, input_files
from graviton.checks.image import DEFAULT_REQUIRED, ImageCheck, ImageRef, check_image
from graviton.errors import InputError
from graviton.gate import discover
from graviton.gate.model import (
    Check,
    CheckKind,
    GateReport,
    ImageResult,
    apply_check_ignores,
    check_sort_key,
    image_check,
)
from graviton.image import dockerfile as df
from graviton.image.model import Finding
from graviton.image.registry import NotFound

ImageLookup = Callable[[str, Sequence[str], bool], ImageCheck]


@dataclass(frozen=True)
class ImageSpec:
    """An image to check and, when it comes from a file, where it was written."""

    ref: str
    location: Location | None = None


@dataclass(frozen=True)
class GateRequest:
    """What to check. ``audit`` carries the audit's settings (targets, index, fail-on, ignores);
    its ``paths`` are ignored: the gate's own inputs are ``paths`` and ``dockerfiles``."""

    audit: AuditRequest
    paths: tuple[Path, ...] = ()  # files or directories (searched recursively); () = cwd
    dockerfiles: tuple[Path, ...] | None = None  # None: every Dockerfile under the directories
    images: tuple[ImageSpec, ...] = ()
    exclude: tuple[str, ...] = ()  # globs relative to each directory given
    platforms: tuple[str, ...] = DEFAULT_REQUIRED  # what base images and images must hold
    base_images: bool = True  # GVD001 reads each base image's index from its registry
    audit_enabled: bool = True
    config_file: Path | None = None  # the pyproject.toml the settings came from


@dataclass(frozen=True)
class Inputs:
    lock_files: tuple[Path, ...]
    dockerfiles: tuple[Path, ...]


def find_inputs(request: GateRequest, cwd: Path | None = None) -> Inputs:
    """Lock files and Dockerfiles: the files given, and what the directories given hold."""
    locks: dict[Path, None] = {}
    dockerfiles: dict[Path, None] = {}
    for path in request.paths or (cwd or Path.cwd(),):
        if path.is_dir():
            if request.audit_enabled:
                locks.update(dict.fromkeys(discover.lock_files(path, request.exclude)))
            if request.dockerfiles is None:
                dockerfiles.update(dict.fromkeys(discover.dockerfiles(path, request.exclude)))
        elif not path.exists():
            raise InputError("no such file or directory", path=str(path))
        elif discover.is_dockerfile(path.name):
            dockerfiles[path] = None
        elif request.audit_enabled:
            locks[path] = None
    for path in request.dockerfiles or ():
        if not path.is_file():
            raise InputError("no such Dockerfile", path=str(path))
        dockerfiles[path] = None
    return Inputs(tuple(locks), tuple(dockerfiles))


def gate(
    request: GateRequest,
    *,
    lookup: ImageLookup | None = None,
    progress: Progress | None = None,
    cwd: Path | None = None,
) -> GateReport:
    """``lookup(ref, platforms, check_configs)`` reads an image's index (default: the registry);
    an unreachable registry or index raises (exit 3), never a pass."""
    inputs = find_inputs(request, cwd)
    if not inputs.lock_files and not inputs.dockerfiles and not request.images:
        where = ", ".join(str(p) for p in request.paths) or "the current directory"
        raise InputError(
            "nothing to check: no lock or requirements file, no Dockerfile and no --image "
            f"(looked in {where})"
        )
    read = _cached(lookup or _registry_lookup)
    report = _audit(request, inputs.lock_files, progress)
    dockerfiles = [_display(p) for p in inputs.dockerfiles]
    checks: list[Check] = []
    for path, display in zip(inputs.dockerfiles, dockerfiles, strict=True):
        found = dockerfile_findings(path, display, request, read)
        checks += [_from_finding(f, display) for f in found]
    images = tuple(_check_image(spec, request, read, dockerfiles) for spec in request.images)
    checks += [c for c in map(image_check, images) if c is not None]
    ignored = apply_check_ignores(checks, request.audit.ignores, request.audit.today)
    return GateReport(
        audit=report,
        dockerfiles=tuple(dockerfiles),
        images=images,
        checks=tuple(sorted(ignored, key=check_sort_key)),
    )


def _audit(request: GateRequest, files: Sequence[Path], progress: Progress | None) -> Report:
    settings = request.audit
    if files:
        return audit(replace(settings, paths=tuple(files)), progress=progress)
    # nothing to audit: the ignore list still applies (an expired entry fails the gate)
    _, expired = apply_ignores((), settings.ignores, settings.today)
    return Report(
        targets=settings.targets,
        manifests=(),
        findings=(),
        fail_on=settings.fail_on,
        expired_ignores=expired,
    )


def dockerfile_findings(
    path: Path, display: str, request: GateRequest, read: ImageLookup
) -> list[Finding]:
    """GVD001-GVD005 for one Dockerfile (GVD001 only when ``request.base_images``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read the Dockerfile: {reason}", path=display) from None
    parsed = df.parse(text, display)
    stages = df.reachable(parsed)
    lookup = (lambda image: read(image, request.platforms, False)) if request.base_images else None
    return df.check_all(parsed, stages, lookup)


def _from_finding(finding: Finding, display: str) -> Check:
    return Check(
        kind=CheckKind.DOCKERFILE,
        rule=finding.rule,
        severity=finding.severity,
        message=finding.message,
        subject=display,
        location=Location(finding.path or display, finding.line),
        fix=finding.fix,
    )


def _check_image(
    spec: ImageSpec, request: GateRequest, read: ImageLookup, dockerfiles: Sequence[str]
) -> ImageResult:
    # an image named on the command line is anchored at the one Dockerfile, when there is one,
    # so that code-scanning UIs (which need a file for every result) can show it
    location = spec.location
    if location is None and len(dockerfiles) == 1:
        location = Location(dockerfiles[0])
    try:
        check = read(spec.ref, request.platforms, True)
    except (NotFound, LookupError) as exc:
        return ImageResult(spec.ref, request.platforms, None, location, error=str(exc))
    return ImageResult(spec.ref, check.required, check, location)


def _cached(read: ImageLookup) -> ImageLookup:
    """Each image is read once per run (several Dockerfiles often share a base image)."""
    seen: dict[tuple[str, tuple[str, ...], bool], ImageCheck] = {}

    def lookup(ref: str, platforms: Sequence[str], configs: bool) -> ImageCheck:
        key = (ref, tuple(platforms), configs)
        if key not in seen:
            seen[key] = read(ref, platforms, configs)
        return seen[key]

    return lookup


@dataclass
class RegistryLookup:
    """Images through the OCI distribution API; Amazon ECR through the ECR API with the AWS
    options of the command (so ``--endpoint-url`` reaches a moto server)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    _clients: dict[str, object] = field(default_factory=dict)

    def __call__(self, ref: str, platforms: Sequence[str], configs: bool) -> ImageCheck:
        parsed = ImageRef.parse(ref)
        client = None
        if parsed.ecr is not None and (self.endpoint_url or self.profile or self.region):
            client = self._ecr(self.region or parsed.ecr[1])
        if client is None:
            return check_image(ref, platforms, check_configs=configs)
        from graviton.aws import aws_errors

        with aws_errors(f"ecr batch-get-image {ref}"):
            return check_image(ref, platforms, ecr_client=client, check_configs=configs)

    def _ecr(self, region: str) -> object:
        if region not in self._clients:
            from graviton.aws import AwsOptions

            options = AwsOptions(
                region=region, profile=self.profile, endpoint_url=self.endpoint_url
            )
            self._clients[region] = options.client("ecr")
        return self._clients[region]


_registry_lookup = RegistryLookup()


def _display(path: Path) -> str:
    return input_files([path])[0][1]
