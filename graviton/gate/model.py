"""The gate's combined report: audit verdicts, Dockerfile findings and image checks, judged
against one ``--fail-on`` and one ignore list. Plain frozen dataclasses and pure decisions.

Dockerfile and image findings share the audit's severity scale so that one ``--fail-on`` governs
all of them: an ``error`` (the arm64 image breaks: exec format error, a missing platform) ranks
with ``blocked``; a ``warning`` (works, but fragile) ranks with ``source``. So the default
``--fail-on blocked`` fails on errors only and ``--fail-on source`` on warnings too.

An ignore entry accepts a Dockerfile or image finding when its name is the rule id (``GVD005``),
optionally narrowed by its version field to one Dockerfile path or image reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from packaging.utils import canonicalize_name

from graviton.audit.model import Ignore, Location, Report, Verdict
from graviton.checks.image import ImageCheck
from graviton.image.model import Severity

IMAGE_PLATFORMS_RULE = "GVI001"  # the image index lacks a required platform, or an entry lies
IMAGE_MISSING_RULE = "GVI002"  # the image is not in the registry
IMAGE_RULES = {
    IMAGE_PLATFORMS_RULE: "image index lacks linux/arm64 (or another required platform)",
    IMAGE_MISSING_RULE: "image not found in the registry",
}

_RANK = {
    Severity.ERROR: Verdict.BLOCKED.severity,
    Severity.WARNING: Verdict.SOURCE.severity,
}


class CheckKind(StrEnum):
    DOCKERFILE = "dockerfile"
    IMAGE = "image"


@dataclass(frozen=True)
class Check:
    """One Dockerfile or image finding: a rule id, what it is about and where."""

    kind: CheckKind
    rule: str  # GVD001..., GVI001...
    severity: Severity
    message: str
    subject: str  # the Dockerfile path or the image reference
    location: Location | None  # file:line; for an image, the file that names it (if any)
    fix: str | None = None
    ignored: Ignore | None = None

    @property
    def rank(self) -> int:
        """Where it sits on the audit's scale (see the module docstring)."""
        return _RANK[self.severity]


@dataclass(frozen=True)
class ImageResult:
    """One ``--image`` checked: the registry's answer, or why there was none."""

    ref: str
    required: tuple[str, ...]
    check: ImageCheck | None  # None when the image is not in the registry
    location: Location | None = None  # where the reference was written (pyproject.toml)
    error: str | None = None  # why there is no check

    @property
    def ok(self) -> bool:
        return self.check is not None and self.check.ok

    @property
    def platforms(self) -> tuple[str, ...]:
        return () if self.check is None else tuple(p.platform for p in self.check.platforms)


def image_check(result: ImageResult) -> Check | None:
    """The finding for an image that fails, None for one that has every platform."""
    if result.ok:
        return None
    if result.check is None:
        return Check(
            CheckKind.IMAGE,
            IMAGE_MISSING_RULE,
            Severity.ERROR,
            result.error or f"{result.ref}: not found in the registry",
            result.ref,
            result.location,
            fix="push the image (graviton build --push) or fix the reference",
        )
    return Check(
        CheckKind.IMAGE,
        IMAGE_PLATFORMS_RULE,
        Severity.ERROR,
        result.check.summary(),
        result.ref,
        result.location,
        fix=f"rebuild for {', '.join(result.required)} (graviton build --push)",
    )


def ignore_matches(ignore: Ignore, check: Check) -> bool:
    """``GVD005`` accepts every GVD005 finding; ``GVD005==docker/Dockerfile`` only that file's."""
    return ignore.key == canonicalize_name(check.rule) and (
        ignore.version is None or ignore.version == check.subject
    )


def apply_check_ignores(
    checks: Iterable[Check], ignores: Sequence[Ignore], today: dt.date
) -> tuple[Check, ...]:
    """Mark the findings a live ignore entry accepts (expired entries fail through the audit)."""
    live = [i for i in ignores if not i.expired(today)]
    out = []
    for check in checks:
        match = next((i for i in live if ignore_matches(i, check)), None)
        out.append(replace(check, ignored=match) if match else check)
    return tuple(out)


def check_sort_key(check: Check) -> tuple[str, str, int, str, str]:
    loc = check.location
    return (
        check.kind.value,
        loc.path if loc else "",
        (loc.line or 0) if loc else 0,
        check.rule,
        check.subject,
    )


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


def rule_title(rule: str) -> str:
    """The short name of a Dockerfile or image rule (``GVD003`` -> ``hard-coded x86 download``)."""
    from graviton.image.dockerfile import RULES

    return {**RULES, **IMAGE_RULES}.get(rule, rule)
