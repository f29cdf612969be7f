"""A validate report as rule findings of the shared model (pure): what ``graviton gate
--validate`` adds to its report, so that every gate format shows them as it shows any other
:class:`~graviton.findings.Check`.

One finding per failing distribution (rule GVV001-GVV004 by its status) and one for a failing
``--run`` command (GVV005 when it exited non-zero; GVV001/GVV004 when it crashed or timed out),
each an error whose ``ref`` is the image as given. A report that proved nothing
(``report.error``) has no findings to give: the caller must fail closed on it (exit 3).
"""

from __future__ import annotations

from graviton.errors import one_line
from graviton.findings import RULES, Check, Location, Severity
from graviton.validate.model import RULE_IDS, DistributionResult, Report, Status


def _label(dist: DistributionResult) -> str:
    return f"{dist.name} {dist.version}".strip()


def report_checks(report: Report, location: Location | None = None) -> tuple[Check, ...]:
    """The failing results of ``report`` as :class:`Check` entries (``location``: where the
    image is named, e.g. the one Dockerfile, for formats that need a file)."""
    path, line = (location.path, location.line) if location is not None else (None, None)
    where = f"{report.ref} on {report.cpu.generation.value} (QEMU_CPU={report.cpu.qemu_cpu})"
    found: list[tuple[str, str]] = []
    for dist in report.failing:
        modules = [m.module for m in dist.modules if m.status is not Status.OK]
        named = f" [{', '.join(modules)}]" if modules else ""
        detail = one_line(dist.detail)
        found.append((RULE_IDS[dist.status], f"{_label(dist)}{named}: {detail} ({where})"))
    if report.run is not None and report.run_failed:
        run = report.run
        detail = one_line(run.detail)
        found.append((RULE_IDS[run.status], f"--run {run.command!r}: {detail} ({where})"))
    return tuple(
        Check(
            rule,
            Severity.ERROR,
            message,
            path,
            line,
            fix=RULES[rule].help or None,
            ref=report.image,
        )
        for rule, message in found
    )
