"""The audit's data model: what was pinned, for which target, and what was decided.

Plain frozen dataclasses; no I/O. Sources produce :class:`Manifest`, the index produces
:class:`Project`, verdicts produce :class:`Finding`, formats render a :class:`Report`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, Specifier
from packaging.utils import NormalizedName, canonicalize_name

from graviton.config import FAIL_ON, IgnoreEntry

SCHEMA_VERSION = "graviton.audit/v1"


class Verdict(StrEnum):
    NATIVE = "native"  # a compatible linux/aarch64 wheel
    PURE = "pure"  # a compatible platform-independent wheel (py3-none-any)
    SOURCE = "source"  # only an sdist: pip will build it on the target
    BLOCKED = "blocked"  # nothing installable for the target
    UNKNOWN = "unknown"  # not on any index, or a direct reference that cannot be judged
    SKIPPED = "skipped"  # its environment marker is false on the target

    @property
    def severity(self) -> int:
        """Order for ``--fail-on``: blocked > unknown > source > everything that installs."""
        return _SEVERITY[self]


_SEVERITY = {
    Verdict.NATIVE: 0,
    Verdict.PURE: 0,
    Verdict.SKIPPED: 0,
    Verdict.SOURCE: 1,
    Verdict.UNKNOWN: 2,
    Verdict.BLOCKED: 3,
}

FAIL_ON_CHOICES = tuple(Verdict(name) for name in FAIL_ON)


@dataclass(frozen=True, order=True)
class Location:
    """Where a pin was written: the file as given on the command line and a 1-based line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Pin:
    """One requirement read from a lock or requirements file."""

    name: str
    version: str | None  # the exact version pinned (== or ===), None when not pinned
    location: Location
    specifier: str = ""  # the version specifier as written, e.g. "==1.2.5" or ">=2,<3"
    marker: str | None = None  # PEP 508 environment marker, as written
    extras: tuple[str, ...] = ()
    url: str | None = None  # a direct reference (name @ URL, VCS, local path)
    index_urls: tuple[str, ...] = ()  # indexes the lock says this pin comes from, if it says
    editable: bool = False
    arbitrary: bool = False  # pinned with ``===`` (PEP 440 arbitrary equality: as a string)

    @property
    def key(self) -> NormalizedName:
        return canonicalize_name(self.name)

    @property
    def exact(self) -> bool:
        """True for ``==X`` / ``===X`` pins, where pip accepts a yanked file."""
        return self.version is not None

    @property
    def pinned(self) -> str:
        """``==X`` or ``===X`` as pip reads the pin ('' when not pinned)."""
        if self.version is None:
            return ""
        return f"{'===' if self.arbitrary else '=='}{self.version}"

    def admits(self, version: str) -> bool:
        """Whether ``version`` is the pinned one, by PEP 440 (``==1.2.5.0`` is 1.2.5, ``==2.0``
        is 2.0.0 and 2.0+local); ``===`` compares the strings. False when not pinned."""
        return self.version is not None and same_version(self.pinned, version)


def same_version(pinned: str, version: str) -> bool:
    """``version`` satisfies the exact pin ``pinned`` (``==X`` / ``===X``) as pip decides."""
    spec = _specifier(pinned)
    if spec is None:  # not PEP 440 (a lock's legacy version): the strings must agree
        return pinned.lstrip("=") == version
    return spec.contains(version, prereleases=True)


@lru_cache(maxsize=4096)
def _specifier(text: str) -> Specifier | None:
    try:
        return Specifier(text)
    except InvalidSpecifier:
        return None


@dataclass(frozen=True)
class Manifest:
    """What one input file declares."""

    path: str
    format: str  # "requirements", "poetry.lock", "uv.lock", "Pipfile.lock", "pylock", "pyproject"
    pins: tuple[Pin, ...]
    index_url: str | None = None  # --index-url / the lock's primary source, if the file names one
    extra_index_urls: tuple[str, ...] = ()

    @property
    def unpinned(self) -> tuple[Pin, ...]:
        return tuple(p for p in self.pins if p.version is None and p.url is None)


@dataclass(frozen=True)
class Target:
    """The platform a pin must install on: linux/aarch64 with a Python and a libc."""

    python: tuple[int, int] = (3, 12)
    libc: str = "glibc"  # "glibc" or "musl"
    libc_version: tuple[int, int] = (2, 34)
    arch: str = "aarch64"
    name: str | None = None  # a preset or image it came from, e.g. "al2023"

    @property
    def python_str(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def libc_str(self) -> str:
        return f"{self.libc} {self.libc_version[0]}.{self.libc_version[1]}"

    def __str__(self) -> str:
        return f"linux/{self.arch} Python {self.python_str} {self.libc_str}"


@dataclass(frozen=True)
class Fix:
    """The upgrade that makes a pin install from a wheel."""

    min: str  # the smallest version >= the pin with a compatible wheel
    latest: str  # the newest such version
    crosses_major: bool  # min's major version differs from the pin's


@dataclass(frozen=True)
class Ignore(IgnoreEntry):
    """An accepted finding: a package (optionally one version) with a reason and an expiry
    (an ignore entry of the config or a flag, matched against pins)."""

    @classmethod
    def of(cls, entry: IgnoreEntry) -> Ignore:
        return cls(entry.name, entry.reason, entry.expires, entry.version)

    @property
    def key(self) -> NormalizedName:
        return canonicalize_name(self.name)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def matches(self, pin: Pin) -> bool:
        if self.key != pin.key:
            return False
        return self.version is None or (
            pin.version is not None and same_version(f"=={self.version}", pin.version)
        )


@dataclass(frozen=True)
class Finding:
    """The verdict on one pin for one target."""

    pin: Pin
    target: Target
    verdict: Verdict
    reason: str
    fix: Fix | None = None
    wheel: str | None = None  # the file pip would take, for native/pure
    index_url: str | None = None  # the index that answered (credentials removed)
    ignored: Ignore | None = None

    @property
    def failing(self) -> bool:
        return self.ignored is None


@dataclass(frozen=True)
class Report:
    """Everything one audit run decided."""

    targets: tuple[Target, ...]
    manifests: tuple[Manifest, ...]
    findings: tuple[Finding, ...]
    fail_on: Verdict = Verdict.BLOCKED
    expired_ignores: tuple[Ignore, ...] = ()
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def counts(self) -> dict[str, int]:
        out = {v.value: 0 for v in Verdict}
        for f in self.findings:
            out[f.verdict.value] += 1
        return out

    @property
    def failures(self) -> tuple[Finding, ...]:
        """Findings at or above ``fail_on`` that are not ignored."""
        return tuple(
            f
            for f in self.findings
            if f.failing and f.verdict.severity >= self.fail_on.severity > 0
        )

    @property
    def exit_code(self) -> int:
        return 1 if self.failures or self.expired_ignores else 0
