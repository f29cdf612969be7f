"""One gate run: find the inputs, audit the locks, check the Dockerfiles and the images, and
return a :class:`~graviton.gate.model.GateReport`. Only wiring; every decision lives in the
audit, :mod:`graviton.checks.dockerfile`, :mod:`graviton.checks.image` and the gate's model.

The Dockerfile rules are GVD001-GVD005. GVD006 (``pip install -r FILE`` whose pins do not
install) is left to the gate's own audit, which reads every requirements file in the repository
with the gate's index, cache and ignore list, at the line of each pin. A file a Dockerfile
installs (``pip install -r FILE``) is judged for that Dockerfile's image -- its Python and libc,
as ``graviton audit --dockerfile`` reads them -- not for the configured targets: that is what
pip will meet. A base image graviton does not know leaves the file on the configured targets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from graviton.audit.images import target_for_image
from graviton.audit.run import AuditRequest, Progress, apply_ignores, audit
from graviton.checks import dockerfile as df
from graviton.checks.image import DEFAULT_REQUIRED, ImageCheck
from graviton.errors import InputError, ServiceUnavailable
from graviton.findings import (
    IMAGE_PLATFORMS_RULE,
    Check,
    GateReport,
    ImageResult,
    Location,
    Report,
    Severity,
    Target,
)
from graviton.gate import discover
from graviton.gate.model import apply_check_ignores, check_sort_key, image_check
from graviton.image.context import pip_requirements
from graviton.image.inspect import check_image
from graviton.oci.ecr import EcrClients
from graviton.oci.reference import ImageRef
from graviton.oci.registry import NotFound
from graviton.paths import display_path as _display
from graviton.validate.request import Request as ValidateRequest

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
    validate: tuple[ValidateRequest, ...] = ()  # images to run on arm64 (graviton validate)


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
    if (
        not inputs.lock_files
        and not inputs.dockerfiles
        and not request.images
        and not request.validate
    ):
        where = ", ".join(str(p) for p in request.paths) or "the current directory"
        raise InputError(
            "nothing to check: no lock or requirements file, no Dockerfile and no --image "
            f"(looked in {where})"
        )
    read = _cached(lookup or _registry_lookup)
    dockerfiles = [_display(p) for p in inputs.dockerfiles]
    # every Dockerfile is parsed before anything is read: one buildx would reject is exit 2
    parsed = [(p, _parse(p, d)) for p, d in zip(inputs.dockerfiles, dockerfiles, strict=True)]
    roots = tuple(p for p in request.paths if p.is_dir()) or ((cwd or Path.cwd()),)
    installed = (
        installed_targets(parsed, request.audit.targets, roots) if request.audit_enabled else {}
    )
    locks = _with_installed(inputs.lock_files, installed, request.exclude)
    report = _audit(request, locks, installed, progress)
    checks: list[Check] = []
    for _, dockerfile in parsed:
        checks += _dockerfile_checks(dockerfile, request, read)
    images = tuple(_check_image(spec, request, read, dockerfiles) for spec in request.images)
    checks += [c for c in map(image_check, images) if c is not None]
    anchor = Location(dockerfiles[0]) if len(dockerfiles) == 1 else None
    for validate_request in request.validate:
        checks += validate_checks(validate_request, anchor)
    ignored = apply_check_ignores(checks, request.audit.ignores, request.audit.today)
    return GateReport(
        audit=report,
        dockerfiles=tuple(dockerfiles),
        images=images,
        checks=tuple(sorted(ignored, key=check_sort_key)),
    )


def validate_checks(request: ValidateRequest, anchor: Location | None) -> tuple[Check, ...]:
    """``graviton validate`` on one image, its failing results as findings (GVV001-GVV005).
    What validate could not prove (a timeout, the wrong CPU, the engine) fails the gate closed:
    exit 3, never a pass; an image without an arm64 variant is a GVI001 finding."""
    from graviton.validate.findings import report_checks
    from graviton.validate.run import ImageFailure, validate

    try:
        report = validate(request)
    except ImageFailure as exc:
        message = f"--validate {request.image}: {exc}"
        return (Check(IMAGE_PLATFORMS_RULE, Severity.ERROR, message, ref=request.image),)
    if report.error is not None:
        raise ServiceUnavailable(f"--validate {request.image}: not proven: {report.error}")
    return report_checks(report, anchor)


def installed_targets(
    parsed: Sequence[tuple[Path, df.Dockerfile]],
    default: Sequence[Target],
    roots: Sequence[Path] = (),
) -> dict[Path, tuple[Target, ...]]:
    """Requirements files the Dockerfiles install (``pip install -r FILE``) -> the targets they
    are installed on: the Python and libc of the stage's base image when graviton knows them
    (the audit's own image table), else ``default``. FILE is looked for in the build context:
    the Dockerfile's folder, else a checked root (``docker/api.Dockerfile`` built from the
    repository root). A file installed by several Dockerfiles is judged for each image."""
    python = default[0].python if default else Target().python
    out: dict[Path, dict[Target, None]] = {}
    for path, dockerfile in parsed:
        stages = df.reachable(dockerfile)
        for context in (path.parent, *roots):
            uses = pip_requirements(dockerfile, context, stages)
            for use in uses:
                target = target_for_image(use.base, python)
                found = out.setdefault(use.requirements.resolve(), {})
                found.update(dict.fromkeys((target,) if target else default))
            if uses:
                break  # the first context that holds the files is the build's
    return {path: tuple(targets) for path, targets in out.items()}


def _with_installed(
    locks: Sequence[Path], installed: dict[Path, tuple[Target, ...]], exclude: Sequence[str]
) -> tuple[Path, ...]:
    """The lock files found, and each installed file not among them (``pip install -r
    deps/prod.txt`` in a Dockerfile names a lock the folder walk would not count)."""
    seen = {p.resolve() for p in locks}
    root = Path.cwd().resolve()
    extra = []
    for path in installed:
        if path in seen:
            continue
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        if not discover.excluded(relative, exclude):
            extra.append(path)
    return (*locks, *extra)


def _audit(
    request: GateRequest,
    files: Sequence[Path],
    installed: dict[Path, tuple[Target, ...]],
    progress: Progress | None,
) -> Report:
    settings = request.audit
    if files:
        # one audit per set of targets: files installed by a Dockerfile get its image's
        groups: dict[tuple[Target, ...], list[Path]] = {}
        for path in files:
            groups.setdefault(installed.get(path.resolve(), settings.targets), []).append(path)
        reports = [
            audit(replace(settings, paths=tuple(paths), targets=targets), progress=progress)
            for targets, paths in groups.items()
        ]
        return _merge(reports)
    # nothing to audit: the ignore list still applies (an expired entry fails the gate)
    _, expired = apply_ignores((), settings.ignores, settings.today)
    return Report(
        targets=settings.targets,
        manifests=(),
        findings=(),
        fail_on=settings.fail_on,
        expired_ignores=expired,
    )


def _merge(reports: Sequence[Report]) -> Report:
    """One report from audits of the same run over different targets."""
    first = reports[0]
    if len(reports) == 1:
        return first
    findings = [f for r in reports for f in r.findings]
    findings.sort(
        key=lambda f: (f.pin.location.path, f.pin.location.line or 0, f.pin.key, f.target.python)
    )
    return replace(
        first,
        targets=tuple(dict.fromkeys(t for r in reports for t in r.targets)),
        manifests=tuple(m for r in reports for m in r.manifests),
        findings=tuple(findings),
    )


def _parse(path: Path, display: str) -> df.Dockerfile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read the Dockerfile: {reason}", path=display) from None
    return df.parse(text, display)


def _dockerfile_checks(
    parsed: df.Dockerfile, request: GateRequest, read: ImageLookup
) -> list[Check]:
    """GVD001-GVD005 for one Dockerfile (GVD001 only when ``request.base_images``)."""
    stages = df.reachable(parsed)
    lookup = (lambda image: read(image, request.platforms, False)) if request.base_images else None
    return df.check_all(parsed, stages, lookup)


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
    """Images through the OCI distribution API; Amazon ECR with the AWS options of the command
    (``--endpoint-url`` reaches a moto server through the ECR API), each image in the region its
    registry host names: ``--region`` is the service's, not the image's."""

    ecr: EcrClients = field(default_factory=EcrClients)

    def __call__(self, ref: str, platforms: Sequence[str], configs: bool) -> ImageCheck:
        if ImageRef.parse(ref).ecr is None:
            return check_image(ref, platforms, check_configs=configs)
        from graviton.aws import aws_errors

        with aws_errors(f"ecr {ref}"):
            return check_image(ref, platforms, ecr=self.ecr, check_configs=configs)


_registry_lookup = RegistryLookup()
