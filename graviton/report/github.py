"""GitHub Actions workflow commands: an annotation on the pin's line for each finding that matters.

``::error`` for findings that fail the audit, ``::warning`` for non-wheel verdicts below
``--fail-on`` or ignored, ``::notice`` for x86-only marker lines; a gate adds one for each
Dockerfile and image finding (``::error`` when it fails the gate, ``::warning`` otherwise); then
the summary as a log line.
Escaping follows the Actions toolkit (``@actions/core`` ``command.ts``).
"""

from __future__ import annotations

from graviton.findings import Check, Finding, Location, Verdict
from graviton.report._common import (
    Judged,
    Renderable,
    check_message,
    check_title,
    expired_text,
    fix_text,
    ignore_pins,
    ignored_text,
    pin_label,
    printable,
    summary_line,
    target_label,
    x86_only,
)

LEVELS = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, location: Location | None, title: str) -> str:
    props = []
    if location is not None:
        props.append(f"file={escape_property(location.path)}")
        if location.line is not None:
            props.append(f"line={location.line}")
    props.append(f"title={escape_property(title)}")
    return f"::{kind} {','.join(props)}::{escape_data(message)}"


def _message(finding: Finding) -> str:
    lines = [
        f"{pin_label(finding.pin)} is {finding.verdict.value} on {target_label(finding.target)}",
        finding.reason,
    ]
    if finding.fix is not None:
        lines.append(f"fix: upgrade {finding.pin.name} to {fix_text(finding.fix)}")
    elif finding.fix_note:
        lines.append(f"fix: {finding.fix_note}")
    if finding.ignored is not None:
        lines.append(ignored_text(finding.ignored))
    return printable("\n".join(lines))


def annotation(judged: Judged, finding: Finding) -> str | None:
    if finding.verdict.severity == 0 and not x86_only(finding):
        return None
    kind = LEVELS[judged.level(finding)]
    title = f"graviton: {finding.pin.name} {finding.verdict.value}"
    if finding.verdict is Verdict.SKIPPED:
        title += " (x86-only marker)"
    return command(kind, _message(finding), finding.pin.location, title)


def check_annotation(judged: Judged, check: Check) -> str:
    message = check_message(check)
    if check.ignored is not None:
        message += "\n" + ignored_text(check.ignored)
    title = f"graviton: {check_title(check)}"
    return command(judged.check_level(check), printable(message), check.location, title)


def render(report: Renderable) -> str:
    judged = Judged(report)
    report = judged.report
    lines = [a for a in (annotation(judged, f) for f in judged.findings) if a]
    lines += [check_annotation(judged, c) for c in judged.checks]
    for ignore in report.expired_ignores:
        pins = ignore_pins(report, ignore)
        where = pins[0].location if pins else None
        lines.append(command("error", expired_text(ignore), where, "graviton: expired ignore"))
    lines.append(f"{judged.command}: " + summary_line(judged.source))
    return "\n".join(lines) + "\n"
