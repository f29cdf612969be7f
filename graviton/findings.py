"""The shared findings model: what every capability decides and every output format renders.

Plain frozen dataclasses and enums; no I/O. Audit sources produce :class:`Manifest` (of
:class:`Pin`), the audit's verdicts produce :class:`Finding` (one pin on one :class:`Target`)
into a :class:`Report`; the Dockerfile, engine and image rules produce :class:`Check` (a rule id
from the one registry, :data:`RULES`, with a :class:`Severity`); the gate combines both into a
:class:`GateReport`. ``graviton.report`` renders these and nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

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
    hashes: frozenset[str] = frozenset()  # "sha256:<hex>" (any "algo:<hex>") the lock allows

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


def marker_environment(target: Target, machine: str | None = None) -> dict[str, str]:
    """PEP 508 environment of the target (linux, aarch64, CPython ``target.python``)."""
    py = target.python_str
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{py}.0",
        "os_name": "posix",
        "platform_machine": machine or target.arch,
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{py}.0",
        "platform_python_implementation": "CPython",
        "python_version": py,
        "sys_platform": "linux",
        "extra": "",
    }


@dataclass(frozen=True)
class Fix:
    """The upgrade that makes a pin install from a wheel."""

    min: str  # the smallest version > the pin with a compatible wheel (pure ones looked into)
    latest: str  # the newest such version proven (``min`` when none above it is)
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
    # why no fix is claimed although a newer release may be one ("not proven (<wheel>: HTTP
    # 404)"); None when the fix, or that there is none, is proven
    fix_note: str | None = None

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


# -- rule findings: the Dockerfile, engine and image checks ----------------------------------------


class Severity(StrEnum):
    ERROR = "error"  # the image would break or be single-arch: stop
    WARNING = "warning"  # works, but slowly or fragilely: say so and go on


class CheckKind(StrEnum):
    """What a rule looks at, read from its id's prefix."""

    AUDIT = "audit"  # GRV: a pinned package
    DOCKERFILE = "dockerfile"  # GVD
    ENGINE = "engine"  # GVE: the machine that builds
    IMAGE = "image"  # GVI: an image in its registry
    VALIDATE = "validate"  # GVV: a module imported on arm64


_KINDS = {
    "GRV": CheckKind.AUDIT,
    "GVD": CheckKind.DOCKERFILE,
    "GVE": CheckKind.ENGINE,
    "GVI": CheckKind.IMAGE,
    "GVV": CheckKind.VALIDATE,
}


@dataclass(frozen=True)
class Rule:
    """One rule: its id, short title, what it means and how to fix it (``full`` and ``help``
    are empty when the result's own message says it all); ``name`` is SARIF's CamelCase name."""

    id: str
    title: str
    full: str = ""
    help: str = ""
    name: str = ""

    @property
    def kind(self) -> CheckKind:
        return _KINDS[self.id[:3]]


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


# The one registry of rule ids; each capability emits only ids listed here.
RULES = _rules(
    Rule(
        "GRV001",
        "No installable file for linux/aarch64",
        "The pinned release has neither a wheel for the target (architecture, Python, glibc or "
        "musl) nor an sdist: pip install fails on Graviton.",
        "Upgrade to the smallest version that ships a compatible wheel (the result names it), "
        "or ignore the finding with a reason and an expiry date while the package is replaced.",
        "NoArm64Install",
    ),
    Rule(
        "GRV002",
        "Builds from the sdist on linux/aarch64",
        "The pinned release has no compatible wheel, only an sdist: pip builds it on the target, "
        "which needs a compiler and headers when the project ships compiled code, and slows "
        "every image build.",
        "Upgrade to a version with a compatible wheel when one exists, or make sure the image "
        "has the build toolchain and the build succeeds on arm64.",
        "BuildsFromSource",
    ),
    Rule(
        "GRV003",
        "Not on any index, or not pinned",
        "The package or the pinned version was not found on the configured indexes, or the "
        "requirement is not pinned to one version, so graviton cannot tell whether it installs.",
        "Pin an exact version, check the name and the --index-url / --extra-index-url settings.",
        "CannotJudge",
    ),
    Rule(
        "GRV004",
        "Ignore entry has expired",
        "An entry of the ignore list is past its expiry date; expired entries fail the audit so "
        "that accepted risks are looked at again.",
        "Fix the package, or renew the entry with a new date and a reason.",
        "ExpiredIgnore",
    ),
    Rule(
        "GVD001",
        "base image has no linux/arm64",
        "A stage whose output ends up in the image starts from a base image whose registry "
        "index has no linux/arm64 variant: the arm64 build fails or pulls an x86 image.",
        "Pick a multi-arch base image or tag (docker buildx imagetools inspect IMAGE).",
    ),
    Rule(
        "GVD002",
        "constant FROM --platform",
        "FROM --platform with a constant value pins a stage to one platform while its output "
        "is copied into every variant of the image.",
        "Drop --platform, or use --platform=$BUILDPLATFORM for a cross-compiling stage.",
    ),
    Rule(
        "GVD003",
        "hard-coded x86 download",
        "A RUN or ADD step downloads an artefact whose URL names an x86 architecture; the arm64 "
        "image gets an x86 binary and fails with exec format error.",
        "Declare ARG TARGETARCH in the stage and use it (or $(uname -m)) in the URL.",
    ),
    Rule(
        "GVD004",
        "platform ARG used but not declared in the stage",
        "A platform ARG (TARGETARCH, TARGETPLATFORM...) is used in a stage that does not "
        "declare it, so it expands to an empty string.",
        "Add ARG TARGETARCH (or the ARG used) after the stage's FROM line.",
    ),
    Rule(
        "GVD005",
        "curl without --fail",
        "curl without --fail saves an HTTP error page (a 404 for a missing arm64 artefact) as "
        "if it were the file, and the build goes on.",
        "Use curl -fsSL (or --fail).",
    ),
    Rule(
        "GVD006",
        "requirements that do not install on linux/aarch64",
        "A pip install -r FILE step installs packages that do not install on linux/aarch64.",
        "Upgrade the packages the result names (graviton audit FILE).",
    ),
    Rule("GVE001", "buildx is not installed"),
    Rule("GVE002", "the builder does not exist or does not answer"),
    Rule("GVE003", "docker driver without the containerd image store cannot build multi-platform"),
    Rule("GVE004", "the builder cannot build a requested platform"),
    Rule("GVE005", "linux/arm64 is emulated with QEMU (slow)"),
    Rule("GVE006", "no QEMU binfmt handler to run arm64 images on this host"),
    Rule(
        "GVI001",
        "image index lacks linux/arm64 (or another required platform)",
        "The image's index lacks a required platform (linux/arm64 for Graviton), or an index "
        "entry's config says another architecture: ECS tasks on Graviton fail with exec "
        "format error.",
        "Rebuild and push the image for every platform (graviton build --push).",
    ),
    Rule(
        "GVI002",
        "image not found in the registry",
        "The image reference was not found in its registry, so its platforms cannot be proven.",
        "Push the image or fix the reference.",
    ),
    Rule(
        "GVV001",
        "crashed",
        "Importing the module killed the interpreter with a signal under the target CPU model; "
        "SIGILL means native code uses instructions the Graviton generation lacks (SVE on "
        "Graviton2, SVE2 on Graviton3).",
        "Install a build for the oldest Graviton generation you run on (e.g. -march=armv8.2-a "
        "for Graviton2), or move the service to newer instances only.",
        "CrashedOnTargetCpu",
    ),
    Rule(
        "GVV002",
        "foreign-binary",
        "The distribution installed an ELF object for another architecture (x86-64) into the "
        "arm64 image: it fails with 'exec format error' when used.",
        "Use a release that ships an aarch64 binary, or install the binary for aarch64 yourself.",
        "ForeignBinary",
    ),
    Rule(
        "GVV003",
        "import-error",
        "A top-level module of the distribution raised while being imported on arm64.",
        "Read the message: a missing shared library, a wheel for another platform, a bug.",
        "ImportError",
    ),
    Rule(
        "GVV004",
        "timeout",
        "The import (or the --run command) did not finish in time under emulation.",
        "Raise --import-timeout/--timeout, or look for an import that hangs on arm64.",
        "Timeout",
    ),
    Rule(
        "GVV005",
        "failed",
        "The --run command exited non-zero on arm64.",
        "Read the output tail in the result.",
        "RunFailed",
    ),
)

# The audit's verdicts that are results (everything else installs), and its own rules.
VERDICT_RULES = {
    Verdict.BLOCKED: RULES["GRV001"],
    Verdict.SOURCE: RULES["GRV002"],
    Verdict.UNKNOWN: RULES["GRV003"],
}
EXPIRED_RULE = RULES["GRV004"]
IMAGE_PLATFORMS_RULE = "GVI001"  # the image index lacks a required platform, or an entry lies
IMAGE_MISSING_RULE = "GVI002"  # the image is not in the registry


def rules_of(kind: CheckKind) -> list[Rule]:
    return [rule for rule in RULES.values() if rule.kind is kind]


def rule_title(rule: str) -> str:
    """The short name of a rule (``GVD003`` -> ``hard-coded x86 download``)."""
    found = RULES.get(rule)
    return found.title if found is not None else rule


# Where a rule finding sits on the audit's scale, so that one --fail-on governs both: an
# ``error`` ranks with ``blocked``, a ``warning`` with ``source``.
_RANK = {
    Severity.ERROR: Verdict.BLOCKED.severity,
    Severity.WARNING: Verdict.SOURCE.severity,
}


@dataclass(frozen=True)
class Check:
    """One rule finding: a rule id, what it is about, where (file:line when it is in a file)
    and the fix. ``ref`` is the image reference for an image finding (whose ``path`` is the
    file that names the image, if any); ``ignored`` the ignore entry that accepts it."""

    rule: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    fix: str | None = None
    ref: str | None = None
    ignored: Ignore | None = None

    @property
    def kind(self) -> CheckKind:
        return RULES[self.rule].kind

    @property
    def subject(self) -> str:
        """The Dockerfile path or the image reference."""
        return self.ref if self.ref is not None else (self.path or "")

    @property
    def location(self) -> Location | None:
        return None if self.path is None else Location(self.path, self.line)

    @property
    def rank(self) -> int:
        """Where it sits on the audit's scale (see ``_RANK``)."""
        return _RANK[self.severity]

    @property
    def where(self) -> str:
        return "" if self.location is None else str(self.location)

    def render(self) -> str:
        head = f"{self.where}: " if self.where else ""
        tail = f" (fix: {self.fix})" if self.fix else ""
        return f"{head}{self.severity} {self.rule}: {self.message}{tail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "fix": self.fix,
        }


def has_errors(checks: Sequence[Check]) -> bool:
    return any(c.severity is Severity.ERROR for c in checks)


class _Platformed(Protocol):
    @property
    def platform(self) -> str: ...


class ImageAnswer(Protocol):
    """What a registry said about one image (``graviton.checks.image.ImageCheck``)."""

    @property
    def digest(self) -> str | None: ...

    @property
    def platforms(self) -> Sequence[_Platformed]: ...

    @property
    def ok(self) -> bool: ...

    def summary(self) -> str: ...


@dataclass(frozen=True)
class ImageResult:
    """One ``--image`` checked: the registry's answer, or why there was none."""

    ref: str
    required: tuple[str, ...]
    check: ImageAnswer | None  # None when the image is not in the registry
    location: Location | None = None  # where the reference was written (pyproject.toml)
    error: str | None = None  # why there is no check

    @property
    def ok(self) -> bool:
        return self.check is not None and self.check.ok

    @property
    def platforms(self) -> tuple[str, ...]:
        return () if self.check is None else tuple(p.platform for p in self.check.platforms)


@dataclass(frozen=True)
class GateReport:
    """Everything one gate run decided: the audit's report and the other checks' findings."""

    audit: Report
    dockerfiles: tuple[str, ...] = ()  # every Dockerfile checked (display paths), in order
    images: tuple[ImageResult, ...] = ()
    checks: tuple[Check, ...] = ()  # Dockerfile and image findings, ignores applied

    @property
    def fail_on(self) -> Verdict:
        return self.audit.fail_on

    @property
    def expired_ignores(self) -> tuple[Ignore, ...]:
        return self.audit.expired_ignores

    @property
    def generated(self) -> dt.datetime:
        return self.audit.generated

    def fails(self, check: Check) -> bool:
        return check.ignored is None and check.rank >= self.fail_on.severity

    @property
    def failing_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if self.fails(c))

    @property
    def exit_code(self) -> int:
        return 1 if self.audit.exit_code or self.failing_checks else 0

    def counts(self) -> dict[str, int]:
        """The audit's verdict counts, then the other checks': Dockerfile errors and warnings,
        images checked and images failing, and everything that fails the gate."""
        dockerfile = [c for c in self.checks if c.kind is CheckKind.DOCKERFILE]
        out = self.audit.counts()
        out.update(
            {
                "dockerfile_errors": sum(1 for c in dockerfile if c.severity is Severity.ERROR),
                "dockerfile_warnings": sum(1 for c in dockerfile if c.severity is Severity.WARNING),
                "images": len(self.images),
                "images_failing": sum(1 for i in self.images if not i.ok),
                "failing": len(self.audit.failures)
                + len(self.failing_checks)
                + len(self.expired_ignores),
            }
        )
        return out
