"""The verdict on one pin for one target: pure logic over the index's file list.

Inputs are plain data (a :class:`Pin`, a :class:`Target`, the project's files), the output is a
:class:`Finding`. pip's rules are followed: a file counts only if its ``requires-python`` admits
the target Python, a yanked file only for an exact pin, and a wheel only if one of its tags is
among the target's compatible tags (every manylinux level up to the target glibc, abi3, none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from graviton.audit.platforms import TagSet, libc_requirement
from graviton.checks.binaries import NativeCheck
from graviton.findings import Finding, Fix, Pin, Target, Verdict, marker_environment
from graviton.index import DistFile, Project
from graviton.index.model import file_version, normal_version


def marker_skip_reason(marker: str, target: Target) -> str | None:
    """Why a marker excludes the target, or None when the pin applies there."""
    try:
        parsed = Marker(marker)
    except InvalidMarker:
        return None  # sources reject bad markers; be permissive here
    if parsed.evaluate(marker_environment(target)):
        return None
    if parsed.evaluate(marker_environment(target, "x86_64")):
        return (
            f"x86-only marker ({marker}): not installed on linux/{target.arch}; "
            "check that nothing imports it unconditionally"
        )
    return f"marker is false on {target} ({marker})"


@lru_cache(maxsize=8192)
def _requires_python_admits(requires_python: str, python: str) -> bool:
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True  # pip ignores an invalid Requires-Python
    return spec.contains(Version(python), prereleases=True)


def python_allows(file: DistFile, target: Target) -> bool:
    """pip's check with ``--python-version X.Y``: the file's Requires-Python admits X.Y."""
    rp = file.requires_python
    return not rp or _requires_python_admits(rp, target.python_str)


@lru_cache(maxsize=65536)
def wheel_tags(filename: str) -> frozenset[Tag]:
    try:
        return parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return frozenset()


@dataclass(frozen=True)
class _Choice:
    file: DistFile
    rank: int
    native: bool


def _best_wheel(files: Iterable[DistFile], tagset: TagSet) -> _Choice | None:
    best: _Choice | None = None
    for f in files:
        if not f.is_wheel or not tagset.may_take(f.filename):
            continue
        tags = wheel_tags(f.filename)
        rank = tagset.best(tags)
        if rank is not None and (best is None or rank < best.rank):
            chosen = min((t for t in tags if t in tagset.priority), key=tagset.priority.__getitem__)
            best = _Choice(file=f, rank=rank, native=chosen.platform != "any")
    return best


def _usable(files: Iterable[DistFile], target: Target, allow_yanked: bool) -> list[DistFile]:
    return [f for f in files if (allow_yanked or not f.yanked) and python_allows(f, target)]


@dataclass(frozen=True)
class FixCandidate:
    """A release above the pin that installs from a wheel: the wheel pip would choose."""

    version: Version
    file: DistFile
    native: bool  # a wheel for the target's platform (else ``py3-none-any``-like: pure)


def fix_candidates(
    pin_version: str, project: Project, target: Target, tagset: TagSet, ends: int | None = None
) -> tuple[FixCandidate, ...]:
    """Every release above the pin (no pre-release above a final pin, no yanked file) with a
    wheel the target installs, oldest first.

    With ``ends``, only those a :func:`search_fix` with ``limit=ends - 1`` can reach: from
    each end, up to the first native one or ``ends`` pure ones (the releases between them are
    not read: a pure pin's search costs a few releases, not a project's thousands)."""
    try:
        pinned = Version(pin_version)
    except InvalidVersion:
        return ()
    versions = [
        v
        for v in project.versions()
        if v > pinned and not (v.is_prerelease and not pinned.is_prerelease)
    ]

    def choose(version: Version) -> FixCandidate | None:
        files = _usable(project.files(str(version)), target, allow_yanked=False)
        choice = _best_wheel(files, tagset)
        return None if choice is None else FixCandidate(version, choice.file, choice.native)

    if ends is None:
        return tuple(c for v in versions if (c := choose(v)) is not None)
    found: dict[Version, FixCandidate] = {}
    for order in (versions, reversed(versions)):
        pure = 0
        for version in order:
            c = found.get(version) or choose(version)
            if c is None:
                continue
            found[version] = c
            pure += not c.native
            if c.native or pure >= ends:
                break
    return tuple(found[v] for v in sorted(found))


def _fix(pin_version: str, low: Version, high: Version) -> Fix:
    major = low.major != Version(pin_version).major
    return Fix(min=str(low), latest=str(high), crosses_major=major)


def find_fix(pin_version: str, project: Project, target: Target, tagset: TagSet) -> Fix | None:
    """The smallest and the newest version above the pin that install from a wheel (by tags
    alone: :func:`search_fix` also looks inside the pure ones)."""
    good = fix_candidates(pin_version, project, target, tagset)
    return _fix(pin_version, good[0].version, good[-1].version) if good else None


# -- a fix proven by looking inside its wheel ------------------------------------------------------

FIX_INSPECTIONS = 3  # pure wheels looked into per direction before the search gives up
Look = NativeCheck | str  # what a candidate's wheel holds, or why it could not be read


@dataclass(frozen=True)
class FixSearch:
    """Where a fix search stands: ``inspect`` lists the wheels to look into before it can
    decide; empty, ``fix`` is the proven fix (None: none) and ``note`` why none is claimed when
    one may exist."""

    fix: Fix | None = None
    note: str | None = None
    inspect: tuple[DistFile, ...] = ()


@dataclass(frozen=True)
class _Walk:
    found: FixCandidate | None = None
    need: tuple[DistFile, ...] = ()  # look inside these wheels, then walk again
    unread: str | None = None  # a wheel that could not be read: nothing proven past it
    passed: tuple[FixCandidate, ...] = ()  # looked into: each carries x86-only code
    stopped: bool = False  # ``limit`` wheels passed, the rest not looked into


def _walk(
    candidates: Iterable[FixCandidate],
    looked: Mapping[DistFile, Look],
    limit: int,
    eager: bool = False,
) -> _Walk:
    """The first candidate in order that is proven to run: native, or pure and looked into
    with nothing x86-only inside; a wheel that carries x86-only code is passed over.

    Wheels not looked into yet are asked for: the first pure one alone (most are clean), then
    the rest up to ``limit`` together; ``eager``, all of them at once (one round of reads: a
    search that starts when the pin's own wheel turned out to carry x86 code, late in a run,
    where a project's newer pure wheels often carry the same)."""
    passed: list[FixCandidate] = []
    need: list[DistFile] = []
    for c in candidates:
        look = None if c.native else looked.get(c.file)
        if need and (
            c.native or (look is not None and (isinstance(look, str) or not look.blocked))
        ):
            break  # what the wheels asked for say decides whether this one matters
        if c.native:
            return _Walk(found=c, passed=tuple(passed))
        if look is None:
            if len(passed) + len(need) >= limit:
                if need:
                    break
                return _Walk(passed=tuple(passed), stopped=True)
            need.append(c.file)
            if not passed and not eager:
                break
            continue
        if isinstance(look, str):
            return _Walk(unread=f"{c.file.filename}: {look}", passed=tuple(passed))
        if not look.blocked:
            return _Walk(found=c, passed=tuple(passed))
        passed.append(c)
    return _Walk(need=tuple(need), passed=tuple(passed))


def search_fix(
    pin_version: str,
    candidates: Sequence[FixCandidate],
    looked: Mapping[DistFile, Look],
    limit: int = FIX_INSPECTIONS,
    *,
    eager: bool = False,
) -> FixSearch:
    """The fix among ``candidates`` (from :func:`fix_candidates`) that is proven: the smallest
    whose wheel is native for the target, or pure and looked into (``looked``) with no x86-only
    code inside; the newest likewise, walking down from the top (the smallest when the walk
    down proves nothing above it). At most ``limit`` pure wheels are looked into each way
    (``eager``: asked for all at once, see :func:`_walk`).

    A smallest fix is claimed only when every candidate below it is proven not to run: a wheel
    that could not be read, or a walk that stopped at ``limit``, gives no fix and a ``note``."""
    low = _walk(candidates, looked, limit, eager)
    above = [c for c in reversed(candidates) if low.found is None or c.version > low.found.version]
    high = _walk(above, looked, limit, eager)
    need = tuple(dict.fromkeys((*low.need, *high.need)))
    if need:
        return FixSearch(inspect=need)
    if low.found is not None:
        top = high.found if high.found is not None else low.found
        return FixSearch(fix=_fix(pin_version, low.found.version, top.version))
    if low.unread is not None:
        why = low.unread
    elif low.stopped and (high.stopped or high.unread is not None or high.found is not None):
        seen = ", ".join(str(v) for v in sorted({c.version for c in (*low.passed, *high.passed)}))
        why = (
            f"looked inside the newer wheels of {seen}: each carries x86-only code; "
            "the releases between were not looked into"
        )
    else:
        return FixSearch()  # every newer wheel was looked into: none runs
    runs = f"; {high.found.version} runs" if high.found is not None else ""
    return FixSearch(note=f"not proven ({why}{runs})")


# -- explaining a miss -----------------------------------------------------------------------------

_OS_NAMES = {"linux": "Linux", "macosx": "macOS", "win": "Windows"}


def _platform_family(platform: str) -> tuple[str, str] | None:
    """("Linux", "x86_64"), ("macOS", "arm64"), ("Windows", "amd64"); None for "any"."""
    if platform == "any":
        return None
    req = libc_requirement(platform)
    if req is not None:
        return "Linux", req[2]
    if platform.startswith("macosx_"):
        return "macOS", platform.split("_", 3)[-1]
    if platform.startswith("win"):
        return "Windows", platform.partition("_")[2] or "x86"
    return platform, ""


def _span(interpreters: Iterable[str]) -> str:
    """{"cp38", "cp311", "cp39"} -> "cp38-cp311" (ordered by version, not as text)."""

    def key(tag: str) -> tuple[str, int, str]:
        prefix = tag.rstrip("0123456789tm")
        digits = tag[len(prefix) :].rstrip("tm")
        minor = int(digits[1:]) if len(digits) > 1 else 0
        return prefix, minor, tag

    ordered = sorted(set(interpreters), key=key)
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]}-{ordered[-1]}"


def _python_label(tag: Tag) -> str:
    """cp311 for cp311-cp311 / cp311-abi3; cp313t for a free-threaded-only wheel."""
    if tag.abi in (tag.interpreter, f"{tag.interpreter}m", "abi3", "none"):
        return tag.interpreter
    return tag.abi


def _elsewhere(wheels: Sequence[DistFile]) -> str:
    """ "x86_64 Linux, macOS arm64/x86_64 and Windows amd64"."""
    by_os: dict[str, set[str]] = {}
    for f in wheels:
        for tag in wheel_tags(f.filename):
            fam = _platform_family(tag.platform)
            if fam is not None:
                by_os.setdefault(fam[0], set()).add(fam[1])
    parts = []
    for os_name in sorted(by_os, key=lambda o: (o != "Linux", o != "macOS", o)):
        archs = "/".join(sorted(a for a in by_os[os_name] if a))
        parts.append(f"{archs} Linux" if os_name == "Linux" else f"{os_name} {archs}".strip())
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def explain_miss(files: Sequence[DistFile], target: Target, tagset: TagSet) -> str:
    """The closest miss among the files of one release, in one sentence."""
    wheels = [f for f in files if f.is_wheel]
    if not wheels:
        return "no wheels at all"
    arch = target.arch
    py_ok_arm: list[tuple[DistFile, str, tuple[int, int]]] = []  # (file, libc, version)
    arm_interpreters: set[str] = set()
    arm_py_blocked: list[DistFile] = []
    pure_interpreters: set[str] = set()
    for f in wheels:
        for tag in wheel_tags(f.filename):
            if tag.platform == "any":
                pure_interpreters.add(tag.interpreter)
                continue
            req = libc_requirement(tag.platform)
            if req is None or req[2] != arch:
                continue
            if (tag.interpreter, tag.abi) in tagset.interpreter_abis:
                if python_allows(f, target):
                    py_ok_arm.append((f, req[0], req[1]))
                else:
                    arm_py_blocked.append(f)
            else:
                arm_interpreters.add(_python_label(tag))
    want = target.libc
    have = f"{target.libc_version[0]}.{target.libc_version[1]}"
    same_libc = [(lv, f) for f, libc, lv in py_ok_arm if libc == want]
    if same_libc:
        need = min(lv for lv, _ in same_libc)
        return f"{arch} wheel needs {want} {need[0]}.{need[1]}, target has {have}"
    other_libc = {libc for _, libc, _ in py_ok_arm if libc != "any"}
    if other_libc:
        kind = "musllinux" if "musl" in other_libc else "manylinux (glibc)"
        return f"only {kind} {arch} wheels; target is {target.libc_str}"
    if arm_py_blocked:
        rp = sorted({f.requires_python or "" for f in arm_py_blocked})
        return f"{arch} wheels require Python {' / '.join(rp)}, target is {target.python_str}"
    if arm_interpreters:
        py = f"cp{target.python[0]}{target.python[1]}"
        return f"{arch} wheels for {_span(arm_interpreters)} only, target is {py}"
    if pure_interpreters and not any(python_allows(f, target) for f in wheels):
        rp = sorted({f.requires_python or "" for f in wheels})
        return f"every wheel requires Python {' / '.join(rp)}, target is {target.python_str}"
    if pure_interpreters and not _elsewhere(wheels):
        return f"pure wheels for {_span(pure_interpreters)} only"
    where = _elsewhere(wheels)
    return f"no linux/{arch} wheel: only {where} wheels" if where else "no compatible wheel"


# -- the verdict -----------------------------------------------------------------------------------


def pinned_files(pin: Pin, project: Project) -> tuple[DistFile, ...]:
    """The files of every release the pin admits, as pip matches them: ``==1.2.5.0`` is the
    release 1.2.5, ``==2.0`` is 2.0.0 (and 2.0.0+local); ``===`` is a string comparison."""
    wanted = None if pin.arbitrary or pin.version is None else normal_version(pin.version)
    if wanted is None:
        releases = [r for r in project.releases if pin.admits(r)]
    else:  # string tests first (versions that == matches share a key, and its first release
        # number, epoch included, begins them all), then PEP 440 on the few left
        key = _release_key(wanted)
        first = _FIRST.match(key)
        lead = first[0] if first else ""
        releases = [
            r
            for r in project.releases
            if r.startswith(lead) and _release_key(r) == key and pin.admits(r)
        ]
    return tuple(f for release in releases for f in project.files(release))


_FIRST = re.compile(r"(?:\d+!)?\d+")
_ZEROS = re.compile(r"^((?:\d+!)?\d+(?:\.\d+)*?)(?:\.0)*(?=$|[a-z+]|\.(?:post|dev))")


def _release_key(normal: str) -> str:
    """A normalised version without its local label and trailing zero release components:
    ``2.0.0+cpu`` -> ``2``, ``1.26.4.post1`` -> ``1.26.4.post1``. Versions that ``==`` matches
    have the same key (the converse is checked by :meth:`Pin.admits`)."""
    public = normal.partition("+")[0]
    m = _ZEROS.match(public)
    return public if m is None else m[1] + public[m.end() :]


def judge_direct(pin: Pin, target: Target, tagset: TagSet) -> Finding:
    """A direct reference (``name @ URL``, VCS, path): judged from the URL alone, never guessed."""
    url = pin.url or ""
    path = unquote(urlsplit(url).path)
    filename = path.rpartition("/")[2]
    if filename.endswith(".whl"):
        choice = _best_wheel([DistFile(filename)], tagset)
        if choice is not None:
            verdict = Verdict.NATIVE if choice.native else Verdict.PURE
            return Finding(
                pin, target, verdict, "direct reference to a compatible wheel", None, wheel=filename
            )
        reason = "direct reference: " + explain_miss([DistFile(filename)], target, tagset)
        return Finding(pin, target, Verdict.BLOCKED, reason)
    kind = "VCS checkout" if "+" in url.split(":", 1)[0] else "direct URL or path"
    return Finding(
        pin,
        target,
        Verdict.SOURCE,
        f"{kind}, not on an index: pip builds it from source on the target "
        "(cannot tell from the reference whether it needs a compiler)",
    )


def judge(
    pin: Pin, target: Target, project: Project | None, tagset: TagSet, index_label: str = ""
) -> Finding:
    """Decide ``pin`` for ``target`` from ``project``'s file list (None: no index has it)."""
    if pin.marker:
        skip = marker_skip_reason(pin.marker, target)
        if skip:
            return Finding(pin, target, Verdict.SKIPPED, skip)
    if pin.url:
        return judge_direct(pin, target, tagset)
    where = index_label or (project.index_url if project else "the index")
    if pin.version is None:
        return Finding(pin, target, Verdict.UNKNOWN, f"not pinned ({pin.specifier or 'any'})")
    if project is None:
        return Finding(pin, target, Verdict.UNKNOWN, f"not found on {where}")
    files = pinned_files(pin, project)
    if not files:
        versions = project.versions()
        newest = f" (newest: {versions[-1]})" if versions else ""
        return Finding(
            pin,
            target,
            Verdict.UNKNOWN,
            f"version {pin.version} is not on {where}{newest}",
            index_url=project.index_url,
        )
    usable = _usable(files, target, allow_yanked=pin.exact)
    hash_locked = False
    if pin.hashes:
        allowed = _hash_allowed(pin, files, usable, tagset)
        if isinstance(allowed, Finding):
            return allowed
        hash_locked = allowed is not usable
        usable = allowed
    choice = _best_wheel(usable, tagset)
    if choice is not None:
        verdict = Verdict.NATIVE if choice.native else Verdict.PURE
        platform = choice.file.filename.rsplit("-", 1)[-1].removesuffix(".whl")
        kind = f"{platform} wheel" if choice.native else "platform-independent wheel"
        yanked = " (yanked, accepted for an exact pin)" if choice.file.yanked else ""
        return Finding(
            pin,
            target,
            verdict,
            kind + yanked,
            None,
            wheel=choice.file.filename,
            index_url=project.index_url,
        )
    fix = find_fix(pin.version, project, target, tagset)
    miss = explain_miss(usable or files, target, tagset)
    if not usable and files:
        if all(f.yanked for f in files) and not pin.exact:
            miss = "every file of this release is yanked"
        elif not any(python_allows(f, target) for f in files):
            rp = sorted({f.requires_python or "" for f in files})
            miss = f"requires Python {' / '.join(rp)}, target is {target.python_str}"
    sdists = [f for f in usable if not f.is_wheel]
    if sdists and hash_locked:
        miss = "the lock's hashes allow only the sdist, not the compatible wheel"
    if sdists:
        reason = _sdist_reason(miss, [f for f in files if f.is_wheel])
        return Finding(pin, target, Verdict.SOURCE, reason, fix, index_url=project.index_url)
    if not any(not f.is_wheel for f in files):
        miss += " and no sdist"
    return Finding(pin, target, Verdict.BLOCKED, miss, fix, index_url=project.index_url)


# -- hash-locked pins ------------------------------------------------------------------------------

REGENERATE = "regenerate the hashes on any platform with pip-compile --generate-hashes / uv lock"
_X86 = frozenset({"x86_64", "amd64", "i686", "i386", "x86", "win32"})


def _hash_allowed(
    pin: Pin, files: Sequence[DistFile], usable: list[DistFile], tagset: TagSet
) -> list[DistFile] | Finding:
    """The files ``pip install --require-hashes`` may install for the target (as pip filters
    candidates by the allowed hashes), or the finding when the hashes decide the pin.

    ``usable`` itself comes back when no candidate needs to be dropped."""
    target = tagset.target
    candidates = [
        f for f in usable if not f.is_wheel or tagset.best(wheel_tags(f.filename)) is not None
    ]
    if not candidates:
        return usable  # nothing installs whatever the hashes say: the usual verdict explains
    if not any(h.startswith("sha256:") for h in pin.hashes):
        algos = ", ".join(sorted({h.partition(":")[0] for h in pin.hashes}))
        return Finding(
            pin,
            target,
            Verdict.UNKNOWN,
            f"hash-locked with {algos} hashes only, the index lists sha256: cannot check them",
        )
    if all(f.sha256 is None for f in candidates):
        return Finding(
            pin,
            target,
            Verdict.UNKNOWN,
            "hash-locked, but the index lists no sha256 for the files the target would install",
        )
    matched = [f for f in candidates if f.sha256 and f"sha256:{f.sha256}" in pin.hashes]
    if matched:
        return usable if len(matched) == len(usable) else matched
    return Finding(pin, target, Verdict.BLOCKED, f"{_hash_miss(pin, files)}: {REGENERATE}")


def _hash_miss(pin: Pin, files: Sequence[DistFile]) -> str:
    """What a lock's hashes match when they match nothing the target installs."""
    matched = [f for f in files if f.sha256 and f"sha256:{f.sha256}" in pin.hashes]
    if not matched:
        return (
            f"hash-locked to files that are not in this release (none of its {len(files)} "
            "files has one of the lock's hashes)"
        )
    names = ", ".join(f.filename for f in matched[:2]) + (", ..." if len(matched) > 2 else "")
    archs = {
        fam[1]
        for f in matched
        for tag in wheel_tags(f.filename)
        if (fam := _platform_family(tag.platform)) is not None
    }
    if archs and archs <= _X86 and all(f.is_wheel for f in matched):
        return f"hash-locked to x86 files only ({names})"
    where = _elsewhere([f for f in matched if f.is_wheel])
    kind = f"{where} files" if where else "files the target does not install"
    return f"hash-locked to {kind} only ({names})"


def release_of(finding: Finding) -> str:
    """The release (normalised version) of the wheel a finding chose."""
    return file_version(finding.wheel or "") or ""


def apply_natives(finding: Finding, check: NativeCheck) -> Finding:
    """A ``pure`` verdict after looking inside the wheel: a Linux native member with no
    aarch64 build makes it ``blocked`` (the member and its architecture in the reason)."""
    if finding.verdict is not Verdict.PURE or not check.blocked:
        return finding
    reason = (
        f"platform-independent wheel {check.reason}: "
        f"'exec format error' on linux/{finding.target.arch}"
    )
    return replace(finding, verdict=Verdict.BLOCKED, reason=reason)


def _sdist_reason(miss: str, wheels: Sequence[DistFile]) -> str:
    """What is known about building the sdist: the release's wheels say whether it is compiled
    elsewhere; with no wheel at all nothing says whether it needs a compiler (TA-Lib wraps C)."""
    if not wheels:
        return (
            "only an sdist, no wheel for any platform: pip builds it on the target "
            "(whether it needs a compiler and headers is unknown)"
        )
    compiled = _elsewhere(wheels)
    needs = (
        f"ships compiled wheels for {compiled}: a compiler and headers will be needed"
        if compiled
        else "its wheels are platform-independent but none fits the target"
    )
    return f"{miss}; builds from the sdist ({needs})"
