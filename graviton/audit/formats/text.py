"""Plain text: one line per finding, fields two spaces apart, then the summary; grep-able.

shioaji==1.2.5  py3.11  blocked  no linux/aarch64 wheel: ...  fix: >=1.2.6  requirements.txt:3
"""

from __future__ import annotations

from graviton.audit.formats._common import (
    Judged,
    expired_text,
    fix_cell,
    ignored_text,
    one_line,
    pin_label,
    summary_line,
    x86_note,
)
from graviton.audit.model import Finding, Report, Verdict


def line(finding: Finding) -> str:
    fields = [
        pin_label(finding.pin),
        f"py{finding.target.python_str}",
        finding.verdict.value,
        one_line(finding.reason),
    ]
    fix = fix_cell(finding)
    if fix:
        fields.append(f"fix: {fix}")
    if finding.verdict is Verdict.SKIPPED and finding.pin.marker:
        fields.append(f"marker: {one_line(finding.pin.marker)}")
    fields.append(str(finding.pin.location))
    if finding.ignored is not None:
        fields.append(ignored_text(finding.ignored))
    return "  ".join(fields)


def render(report: Report) -> str:
    judged = Judged(report)
    lines = [line(f) for f in judged.findings]
    notes = [x86_note(judged.findings)]
    notes += [f"error: {expired_text(i)}" for i in report.expired_ignores]
    tail = [n for n in notes if n] + [summary_line(report)]
    return "\n".join([*lines, *([""] if lines else []), *tail]) + "\n"
