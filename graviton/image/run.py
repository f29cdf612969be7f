"""One ``graviton build`` / ``graviton verify``, end to end: preflight checks -> buildx ->
read the pushed index back -> smoke-run each platform by digest.

This module wires the pieces together and returns plain data; rendering is the command's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from graviton.checks import dockerfile as df
from graviton.checks.image import ImageCheck
from graviton.errors import InputError, UsageError
from graviton.findings import Check, Severity, has_errors
from graviton.image.buildx import (
    DEFAULT_PUSH_TIMEOUT,
    BakeTarget,
    BuildRequest,
    BuildResult,
    LineSink,
)
from graviton.image.context import pip_requirements
from graviton.image.inspect import check_image
from graviton.image.smoke import SmokeResult
from graviton.oci.ecr import EcrClients
from graviton.oci.engine import EngineFacts
from graviton.oci.manifest import ManifestReader
from graviton.oci.reference import ImageRef
from graviton.paths import display_path as _display

_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")


def parse_platforms(values: Sequence[str], default: Sequence[str]) -> tuple[str, ...]:
    """``--platform a,b --platform c`` -> ("a", "b", "c"), validated and deduplicated."""
    out: dict[str, None] = {}
    for value in values:
        for item in value.split(","):
            item = item.strip().lower()
            if not item:
                continue
            if not _PLATFORM.match(item):
                raise UsageError(f"--platform: {item!r} is not os/arch[/variant]")
            out[item] = None
    return tuple(out) or tuple(default)


def parse_build_args(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for value in values:
        key, eq, val = value.partition("=")
        if not eq or not key:
            raise UsageError(f"--build-arg: expected KEY=VALUE, got {value!r}")
        out.append((key, val))
    return tuple(out)


# -- preflight -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DockerfileInput:
    dockerfile: Path
    context: Path
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None


def dockerfile_findings(
    item: DockerfileInput, platforms: Sequence[str], lookup: df.ImageLookup | None = None
) -> list[Check]:
    """Every Dockerfile rule for one Dockerfile. ``lookup`` reads base images' indexes."""
    try:
        text = item.dockerfile.read_text()
    except OSError as exc:
        raise InputError(
            f"cannot read the Dockerfile: {exc.strerror}", path=str(item.dockerfile)
        ) from None
    display = _display(item.dockerfile)
    parsed = df.parse(text, display, item.build_args)
    stages = df.reachable(parsed, item.target)
    lookup = lookup or (lambda image: check_image(image, platforms, check_configs=False))
    findings = [
        *df.check_all(parsed, stages, lookup),
        *_requirements_findings(parsed, item.context, stages),
    ]
    return sorted(findings, key=lambda f: (f.path or "", f.line or 0, f.rule))


def _requirements_findings(
    parsed: df.Dockerfile, context: Path, stages: Sequence[df.Stage]
) -> list[Check]:
    """GVD006: ``pip install -r FILE`` files in the context, audited for linux/aarch64 with the
    base image's Python and libc when graviton knows them."""
    uses = pip_requirements(parsed, context, stages)
    if not uses:
        return []
    from graviton.audit.images import target_for_image
    from graviton.audit.run import AuditRequest, audit, env_index_urls
    from graviton.findings import Target

    index_url, extra_index_urls = env_index_urls()  # as pip would read them
    out = []
    for use in uses:
        target = target_for_image(use.base, Target().python) or Target()
        request = AuditRequest(
            paths=(use.requirements,),
            targets=(target,),
            index_url=index_url,
            extra_index_urls=extra_index_urls,
        )
        report = audit(request)
        for finding in report.failures:
            out.append(
                Check(
                    "GVD006",
                    Severity.ERROR,
                    f"{use.requirements.name}: {finding.pin.name}=={finding.pin.version} is "
                    f"{finding.verdict} on {target}: {finding.reason}",
                    use.path,
                    use.line,
                    fix=(f"upgrade to {finding.fix.min}; " if finding.fix else "")
                    + f"graviton audit {_display(use.requirements)}",
                )
            )
    return out


def engine_findings(
    platforms: Sequence[str], builder: str | None, run_platforms: Sequence[str]
) -> tuple[EngineFacts, list[Check]]:
    from graviton.checks.engine import judge_engine
    from graviton.oci.engine import gather

    facts = gather(builder)
    return facts, judge_engine(facts, platforms, run_platforms=run_platforms)


# -- verify + smoke --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verification:
    """An image read back from its registry (and smoke-run), for one reference."""

    ref: str
    check: ImageCheck
    expected_digest: str | None = None
    smoke: tuple[SmokeResult, ...] = ()

    @property
    def problems(self) -> tuple[str, ...]:
        out = []
        if not self.check.ok:
            out.append(self.check.summary())
        if self.expected_digest and self.check.digest and self.check.digest != self.expected_digest:
            out.append(
                f"{self.ref} points to {self.check.digest}, not the digest just built "
                f"({self.expected_digest}): another push raced this one"
            )
        out.extend(f"smoke {s.platform}: {s.message}" for s in self.smoke if not s.ok)
        return tuple(out)

    @property
    def ok(self) -> bool:
        return not self.problems


SmokeRunner = Callable[[str, str, str, float], SmokeResult]


def verify(
    ref_text: str,
    platforms: Sequence[str],
    *,
    expected_digest: str | None = None,
    smoke_command: str | None = None,
    smoke_timeout: float = 120.0,
    ecr: EcrClients | None = None,
    reader: ManifestReader | None = None,
    runner: SmokeRunner | None = None,
) -> Verification:
    """Prove ``ref_text`` holds every platform (configs included); smoke each one by digest."""
    check = check_image(ref_text, platforms, ecr=ecr, reader=reader)
    results: list[SmokeResult] = []
    if smoke_command is not None and check.ok:
        from graviton.image.smoke import smoke

        run = runner or smoke
        ref = ImageRef.parse(ref_text)
        repo = f"{ref.registry}/{ref.repository}"
        for platform in check.required:
            digest = check.digest_for(platform)
            if digest is None:
                continue
            results.append(run(f"{repo}@{digest}", platform, smoke_command, smoke_timeout))
    return Verification(ref_text, check, expected_digest, tuple(results))


# -- the whole build -------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one ``graviton build`` did, in order; ``stage`` says how far it got."""

    platforms: tuple[str, ...]
    findings: list[Check] = field(default_factory=list)
    engine: EngineFacts | None = None
    built: dict[str, BuildResult] = field(default_factory=dict)  # name (or first tag) -> result
    verifications: list[Verification] = field(default_factory=list)
    local_smoke: list[SmokeResult] = field(default_factory=list)
    stage: str = "checks"  # checks -> build (failed) -> built -> verified
    error: str | None = None  # the build failed: buildx's reason

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and not has_errors(self.findings)
            and all(v.ok for v in self.verifications)
            and all(s.ok for s in self.local_smoke)
        )


@dataclass(frozen=True)
class Options:
    platforms: tuple[str, ...]
    push: bool = False
    builder: str | None = None
    provenance: bool | None = None
    smoke_command: str | None = "uname -m"
    smoke_timeout: float = 120.0
    metadata_file: str | None = None
    check_only: bool = False
    push_timeout: float | None = DEFAULT_PUSH_TIMEOUT  # a push silent this long has stalled


def build_one(
    req: BuildRequest, item: DockerfileInput, opts: Options, on_line: LineSink | None
) -> Outcome:
    return _pipeline([(req.tags[0] if req.tags else "image", req, item)], opts, on_line)


def build_all(targets: Sequence[BakeTarget], opts: Options, on_line: LineSink | None) -> Outcome:
    items = []
    for t in targets:
        context = Path(t.context)
        dockerfile = context / (t.dockerfile or "Dockerfile")
        items.append((t.name, t, DockerfileInput(dockerfile, context, dict(t.args), t.target)))
    return _pipeline(items, opts, on_line)


def _pipeline(
    items: Sequence[tuple[str, BuildRequest | BakeTarget, DockerfileInput]],
    opts: Options,
    on_line: LineSink | None,
) -> Outcome:
    from graviton.image import buildx

    all_platforms = tuple(dict.fromkeys(p for _, spec, _ in items for p in spec.platforms))
    outcome = Outcome(platforms=all_platforms)
    run_platforms = all_platforms if opts.smoke_command is not None else ()
    outcome.engine, engine_problems = engine_findings(all_platforms, opts.builder, run_platforms)
    outcome.findings.extend(engine_problems)
    for _, spec, item in items:
        outcome.findings.extend(dockerfile_findings(item, spec.platforms))
    if has_errors(outcome.findings) or opts.check_only:
        return outcome

    outcome.stage = "build"
    try:
        if len(items) == 1 and isinstance(items[0][1], BuildRequest):
            name, req, _ = items[0]
            assert isinstance(req, BuildRequest)
            outcome.built[name] = buildx.build(
                req,
                metadata_file=opts.metadata_file,
                on_line=on_line,
                push_timeout=opts.push_timeout,
            )
        else:
            bake_targets = [spec for _, spec, _ in items if isinstance(spec, BakeTarget)]
            outcome.built = buildx.bake(
                bake_targets,
                push=opts.push,
                builder=opts.builder,
                provenance=opts.provenance,
                metadata_file=opts.metadata_file,
                on_line=on_line,
                push_timeout=opts.push_timeout,
            )
    except buildx.BuildFailed as exc:
        outcome.error = str(exc)
        return outcome
    outcome.stage = "built"

    for name, spec, _ in items:
        result = outcome.built[name]
        if opts.push and spec.tags:
            outcome.verifications.append(
                verify(
                    spec.tags[0],
                    spec.platforms,
                    expected_digest=result.digest,
                    smoke_command=opts.smoke_command,
                    smoke_timeout=opts.smoke_timeout,
                )
            )
        elif opts.smoke_command is not None and spec.tags and result.digest:
            from graviton.image.smoke import smoke

            ref = ImageRef.parse(spec.tags[0])
            image = f"{ref.registry}/{ref.repository}@{result.digest}"
            if ref.registry == "docker.io":
                image = f"{ref.repository.removeprefix('library/')}@{result.digest}"
            for platform in spec.platforms:
                outcome.local_smoke.append(
                    smoke(image, platform, opts.smoke_command, opts.smoke_timeout)
                )
    if opts.push:
        outcome.stage = "verified"
    return outcome
