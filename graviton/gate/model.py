"""The gate's pure decisions over the shared model (:mod:`graviton.findings`): the finding for an
image, which ignore entries accept a Dockerfile or image finding, and their order.

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
from dataclasses import replace

from packaging.utils import canonicalize_name

from graviton.findings import (
    IMAGE_MISSING_RULE,
    IMAGE_PLATFORMS_RULE,
    Check,
    Ignore,
    ImageResult,
    Severity,
)
from graviton.findings import GateReport as GateReport  # commands/audit.py imports it from here


def image_check(result: ImageResult) -> Check | None:
    """The finding for an image that fails, None for one that has every platform."""
    if result.ok:
        return None
    loc = result.location
    path, line = (loc.path, loc.line) if loc is not None else (None, None)
    if result.check is None:
        return Check(
            IMAGE_MISSING_RULE,
            Severity.ERROR,
            result.error or f"{result.ref}: not found in the registry",
            path,
            line,
            fix="push the image (graviton build --push) or fix the reference",
            ref=result.ref,
        )
    return Check(
        IMAGE_PLATFORMS_RULE,
        Severity.ERROR,
        result.check.summary(),
        path,
        line,
        fix=f"rebuild for {', '.join(result.required)} (graviton build --push)",
        ref=result.ref,
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
