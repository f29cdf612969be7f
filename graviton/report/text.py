"""Plain text: one line per finding, fields two spaces apart, then the summary; grep-able.

shioaji==1.2.5  py3.11  blocked  no linux/aarch64 wheel: ...  fix: >=1.2.6  requirements.txt:3

A gate adds one line per Dockerfile finding, clean Dockerfile and image:

GVD003 hard-coded x86 download  error  download URL hard-codes amd64: ...  Dockerfile:7
Dockerfile  ok  no arm64 problem found
image registry.example.com/api:1  fails: ... lacks linux/arm64 (has linux/amd64)
"""

from __future__ import annotations

from graviton.findings import Check, Finding, Verdict
from graviton.report._common import (
    Judged,
    Renderable,
    check_message,
    check_title,
    check_where,
    expired_text,
    fix_cell,
    ignored_text,
    image_status,
    pin_label,
    severity_word,
    summary_line,
    text_line,
    x86_note,
)


def line(finding: Finding) -> str:
    fields = [
        pin_label(finding.pin),
        f"py{finding.target.python_str}",
        finding.verdict.value,
        text_line(finding.reason),
    ]
    fix = fix_cell(finding)
    if fix:
        fields.append(f"fix: {fix}")
    if finding.verdict is Verdict.SKIPPED and finding.pin.marker:
        fields.append(f"marker: {text_line(finding.pin.marker)}")
    fields.append(str(finding.pin.location))
    if finding.ignored is not None:
        fields.append(ignored_text(finding.ignored))
    return "  ".join(fields)


def check_line(judged: Judged, check: Check) -> str:
    level = judged.check_level(check)
    word = severity_word(check) if level == "error" else f"{severity_word(check)} (not failing)"
    fields = [check_title(check), word, check_message(check), check_where(check)]
    if check.ignored is not None:
        fields.append(ignored_text(check.ignored))
    return "  ".join(fields)


def render(report: Renderable) -> str:
    judged = Judged(report)
    lines = [line(f) for f in judged.findings]
    lines += [check_line(judged, c) for c in judged.checks]
    lines += [f"{d}  ok  no arm64 problem found" for d in judged.clean_dockerfiles()]
    lines += [f"image {i.ref}  {image_status(i)}" for i in judged.images if i.ok]
    notes = [x86_note(judged.findings)]
    notes += [f"error: {expired_text(i)}" for i in report.expired_ignores]
    tail = [n for n in notes if n] + [summary_line(report)]
    return "\n".join([*lines, *([""] if lines else []), *tail]) + "\n"
