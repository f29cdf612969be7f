"""One audit, end to end: inputs -> manifests -> (resolve) -> index -> verdicts -> :class:`Report`.

This module only wires the pieces together; each decision lives in its own module.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.version import Version

from graviton.audit import sources
from graviton.audit.inspect import Inspector
from graviton.audit.platforms import TagSet
from graviton.audit.verdicts import (
    FIX_INSPECTIONS,
    FixCandidate,
    apply_natives,
    fix_candidates,
    judge,
    marker_skip_reason,
    release_of,
)
from graviton.errors import InputError, UsageError
from graviton.findings import Finding, Ignore, Manifest, Pin, Report, Target, Verdict
from graviton.index import (
    DEFAULT_JOBS,
    PYPI,
    IndexClient,
    IndexUnavailable,
    PageCache,
    Project,
    ProjectReader,
    redact,
)
from graviton.index.client import DEFAULT_RUN_TIMEOUT
from graviton.index.model import normal_version
from graviton.index.urls import index_url_problem
from graviton.paths import display_path

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AuditRequest:
    """Everything an audit needs to know, as plain data."""

    paths: tuple[Path, ...] = ()  # files or directories; empty means the current directory
    targets: tuple[Target, ...] = (Target(),)
    index_url: str | None = None  # --index-url / PIP_INDEX_URL: overrides the files' own
    extra_index_urls: tuple[str, ...] = ()
    cache_dir: Path | None = None  # None: no on-disk cache
    offline: bool = False
    fail_on: Verdict = Verdict.BLOCKED
    ignores: tuple[Ignore, ...] = ()
    resolve: bool = True  # resolve unpinned inputs with pip-tools
    today: dt.date = field(default_factory=dt.date.today)
    workers: int = DEFAULT_JOBS
    # worker processes reading pages (forked, Linux): the CLI turns them on (None: as many as
    # the batch is worth, see auto_processes); a library caller opts in (its process is forked,
    # so it should not hold locks other threads may take)
    processes: int | None = 0
    timeout: float = DEFAULT_RUN_TIMEOUT  # seconds for all index reads (a page gets <= 60 s)
    max_page_bytes: int | None = None  # None: GRAVITON_MAX_PAGE_SIZE, else 64 MiB
    inspect: bool = True  # look inside every wheel judged ``pure`` (--no-inspect: don't)
    inspect_budget: int | None = None  # bytes read per wheel; None: remote_zip's 4 MiB


def input_files(paths: Sequence[Path], cwd: Path | None = None) -> list[tuple[Path, str]]:
    """(file, display name) for every input; a directory contributes what ``discover`` finds."""
    out: list[tuple[Path, str]] = []
    for path in paths or [cwd or Path.cwd()]:
        if path.is_dir():
            found = sources.discover(path)
            if not found:
                raise InputError(
                    "no lock or requirements file found (looked for uv.lock, poetry.lock, "
                    "Pipfile.lock, pylock.toml, requirements*.txt, pyproject.toml)",
                    path=str(path),
                )
            out.extend((f, display_path(f)) for f in found)
        elif path.exists():
            out.append((path, display_path(path)))
        else:
            raise InputError("no such file or directory", path=str(path))
    return out


def load_manifests(request: AuditRequest) -> list[Manifest]:
    manifests = []
    for path, display in input_files(request.paths):
        manifest = sources.load(path, display)
        if manifest.unpinned and request.resolve:
            manifest = _resolve(manifest, request)
        manifests.append(manifest)
    return manifests


def _resolve(manifest: Manifest, request: AuditRequest) -> Manifest:
    """Pin what is unpinned with pip-tools, except lines whose marker excludes every target:
    those are reported ``skipped`` as written (``pywin32 ; sys_platform == "win32"``)."""
    from graviton.audit.resolve import resolve

    excluded = tuple(
        p
        for p in manifest.unpinned
        if p.marker and all(marker_skip_reason(p.marker, t) for t in request.targets)
    )
    if len(excluded) == len(manifest.unpinned):
        return manifest
    kept = replace(manifest, pins=tuple(p for p in manifest.pins if p not in excluded))
    resolved = resolve(
        kept,
        python=request.targets[0].python_str,
        index_url=request.index_url or manifest.index_url,
        extra_index_urls=request.extra_index_urls + manifest.extra_index_urls,
    )
    return replace(resolved, pins=resolved.pins + excluded)


def indexes_for(
    request: AuditRequest, manifest: Manifest, pin: Pin, default: Sequence[str] = (PYPI,)
) -> tuple[str, ...]:
    """Which indexes pip would read for ``pin``: the lock's own, else flags, file, and else
    ``default`` (the index client's own: PyPI unless told otherwise)."""
    if pin.index_urls:
        return pin.index_urls
    primary = request.index_url or manifest.index_url
    base = (primary,) if primary else tuple(default)
    extras = tuple(dict.fromkeys(request.extra_index_urls + manifest.extra_index_urls))
    return (*base, *[u for u in extras if u not in base])


def check_indexes(manifest: Manifest, urls: Iterable[str]) -> None:
    """An index URL a file names that cannot be an index is bad input (exit 2), not a crash."""
    for url in urls:
        problem = index_url_problem(url)
        if problem:
            raise InputError(f"index URL {redact(url)!r}: {problem}", path=manifest.path)


def index_client(request: AuditRequest) -> IndexClient:
    """The index client a request describes (the CLI's; a caller may pass its own to audit())."""
    return IndexClient(
        (request.index_url or PYPI,),
        cache=PageCache(request.cache_dir) if request.cache_dir else None,
        offline=request.offline,
        workers=request.workers,
        run_timeout=request.timeout,
        processes=request.processes,
        max_page_bytes=request.max_page_bytes,
    )


def apply_ignores(
    findings: Iterable[Finding], ignores: Sequence[Ignore], today: dt.date
) -> tuple[list[Finding], tuple[Ignore, ...]]:
    """Mark findings covered by a live ignore entry; expired entries are returned to fail."""
    live = [i for i in ignores if not i.expired(today)]
    expired = tuple(i for i in ignores if i.expired(today))
    out = []
    for f in findings:
        match = next((i for i in live if i.matches(f.pin)), None)
        out.append(replace(f, ignored=match) if match and f.verdict.severity > 0 else f)
    return out, expired


def audit(
    request: AuditRequest,
    progress: Progress | None = None,
    index: ProjectReader | None = None,
) -> Report:
    """Audit what ``request`` names; project pages come from ``index`` (default: the
    :class:`IndexClient` the request describes)."""
    if not request.targets:
        raise UsageError("no target")
    manifests = load_manifests(request)
    client = index if index is not None else index_client(request)
    work: list[tuple[Manifest, Pin, tuple[str, ...]]] = []
    for manifest in manifests:
        for pin in manifest.pins:
            urls = indexes_for(request, manifest, pin, client.index_urls)
            check_indexes(manifest, urls)
            work.append((manifest, pin, urls))

    # pins that need the index, grouped by the page that answers them; the others (direct
    # references, unpinned lines, markers false on every target) are judged without it
    pending: dict[tuple[str, tuple[str, ...]], list[Pin]] = {}
    findings: list[Finding] = []
    tagsets = {t: TagSet(t) for t in request.targets}

    inspector = Inspector(client, request.inspect_budget) if request.inspect else None

    def decide(pin: Pin, urls: tuple[str, ...], project: Project | None) -> None:
        label = ", ".join(redact(u) for u in urls or client.index_urls)
        for target in request.targets:
            finding = judge(pin, target, project, tagsets[target], label)
            if inspector is not None:
                look(inspector, len(findings), finding, project, tagsets[target])
            findings.append(finding)

    for _, pin, urls in work:
        if pin.url is None and pin.version:
            pending.setdefault((pin.key, urls), []).append(pin)
        else:
            decide(pin, urls, None)
    # each project is judged as it arrives and then dropped: memory holds a few pages, not 500
    found = 0
    try:
        since = lowest_pins(pending)
        for done, (name, urls, project) in enumerate(client.projects(pending, since), start=1):
            found += project is not None
            for pin in pending[(name, urls)]:
                decide(pin, urls, project)
            if progress:
                progress(done, len(pending))
    except BaseException:
        if inspector is not None:
            inspector.abandon()
        raise
    if pending and not found:
        raise IndexUnavailable(nothing_found(pending, client.index_urls))
    if inspector is not None:
        for i, check in inspector.results():
            findings[i] = apply_natives(findings[i], check)
        for i, search in inspector.fixes().items():
            if findings[i].verdict in (Verdict.BLOCKED, Verdict.SOURCE):
                findings[i] = replace(findings[i], fix=search.fix, fix_note=search.note)
    findings, expired = apply_ignores(findings, request.ignores, request.today)
    findings.sort(
        key=lambda f: (
            f.pin.location.path,
            f.pin.location.line or 0,
            f.pin.key,
            f.target.python,
        )
    )
    return Report(
        targets=request.targets,
        manifests=tuple(manifests),
        findings=tuple(findings),
        fail_on=request.fail_on,
        expired_ignores=expired,
    )


def lowest_pins(pending: dict[tuple[str, tuple[str, ...]], list[Pin]]) -> dict[str, str | None]:
    """Per project, the lowest release a pin names: older ones can neither match a pin nor
    fix one, so the index reader skips them. None (read them all) when a pin is not a PEP 440
    version (``===`` compares strings)."""
    lowest: dict[str, Version | None] = {}
    for (name, _), pins in pending.items():
        for pin in pins:
            normal = None if pin.arbitrary or pin.version is None else normal_version(pin.version)
            version = Version(normal) if normal is not None else None
            if name not in lowest:
                lowest[name] = version
            else:
                have = lowest[name]
                lowest[name] = None if version is None or have is None else min(have, version)
    return {name: None if v is None else str(v) for name, v in lowest.items()}


def look(
    inspector: Inspector, index: int, finding: Finding, project: Project | None, tagset: TagSet
) -> None:
    """Hand ``finding`` to the inspector: the wheel of a pure one (with the releases that could
    be its fix, should the wheel carry x86-only code: the page is dropped before that is known),
    the pure wheels a fix by tags would take."""
    pin = finding.pin
    found: tuple[FixCandidate, ...] = ()
    needs_fix = finding.verdict is Verdict.PURE or finding.fix is not None
    if project is not None and pin.version and needs_fix:
        found = fix_candidates(pin.version, project, finding.target, tagset, FIX_INSPECTIONS + 1)
    if finding.verdict is Verdict.PURE and project is not None:
        inspector.submit(index, finding, project.files(release_of(finding)), found)
    elif finding.verdict is Verdict.PURE and pin.url is not None:
        inspector.submit_direct(index, finding)
    elif any(not c.native for c in found):
        inspector.prove(index, finding, found)


def nothing_found(pending: Iterable[tuple[str, tuple[str, ...]]], default: Sequence[str]) -> str:
    """When no pinned project is on the index, the index is wrong (a typo, a path that answers
    404 for everything), not every pin: that is exit 3, never a pass with ``unknown``s."""
    keys = list(pending)
    indexes = sorted({redact(u) for _, urls in keys for u in urls or default})
    some = ", ".join(name for name, _ in keys[:3]) + (", ..." if len(keys) > 3 else "")
    return (
        f"{', '.join(indexes)}: none of the {len(keys)} pinned projects ({some}) is on this "
        "index (every page answered 404): is the index URL right?"
    )


def env_index_urls() -> tuple[str | None, tuple[str, ...]]:
    """pip's own environment variables: PIP_INDEX_URL and PIP_EXTRA_INDEX_URL (space-separated)."""
    index = os.environ.get("PIP_INDEX_URL") or None
    extras = tuple(os.environ.get("PIP_EXTRA_INDEX_URL", "").split())
    return index, extras
