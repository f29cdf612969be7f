"""GitHub-flavoured Markdown for pull-request comments and the Actions step summary.

What does not install from a wheel comes first, with reason and fix; every package follows in a
collapsed ``<details>`` block. A gate report adds its Dockerfile findings and images.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from graviton.findings import Check, CheckKind, Finding
from graviton.report._common import (
    Judged,
    Renderable,
    check_title,
    check_where,
    checks_text,
    counts_text,
    expired_text,
    fix_cell,
    ignored_text,
    image_status,
    pin_label,
    plural,
    severity_word,
    target_label,
    text_line,
    x86_note,
)

# Backslash-escape what Markdown or a table cell would read as syntax; ``&`` too, so that no
# entity or HTML tag can be formed from a package's text.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#~])")
COLUMNS = ("package", "python", "verdict", "reason", "fix", "location")


def escape(text: str) -> str:
    """Plain text safe in a table cell: one line, pipes and Markdown punctuation escaped."""
    return _SPECIAL.sub(r"\\\1", text_line(text))


def _verdict(judged: Judged, finding: Finding) -> str:
    word = finding.verdict.value
    if judged.fails(finding):
        return f"**{word}**"
    if finding.ignored is not None:
        return f"{word} ({escape(ignored_text(finding.ignored))})"
    return word


def _row(judged: Judged, finding: Finding) -> str:
    cells = (
        escape(pin_label(finding.pin)),
        finding.target.python_str,
        _verdict(judged, finding),
        escape(finding.reason),
        escape(fix_cell(finding)),
        escape(str(finding.pin.location)),
    )
    return "| " + " | ".join(cells) + " |"


def _table(judged: Judged, findings: Iterable[Finding]) -> list[str]:
    head = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    return head + [_row(judged, f) for f in findings]


CHECK_COLUMNS = ("rule", "severity", "finding", "fix", "location")


def _check_row(judged: Judged, check: Check) -> str:
    severity = severity_word(check)
    if judged.check_fails(check):
        severity = f"**{severity}**"
    elif check.ignored is not None:
        severity += f" ({escape(ignored_text(check.ignored))})"
    cells = (
        escape(check_title(check)),
        severity,
        escape(check.message),
        escape(check.fix or ""),
        escape(check_where(check)),
    )
    return "| " + " | ".join(cells) + " |"


def _gate_sections(judged: Judged) -> list[str]:
    head = ["| " + " | ".join(CHECK_COLUMNS) + " |", "|" + " --- |" * len(CHECK_COLUMNS)]
    lines: list[str] = []
    dockerfile_checks = judged.checks_of(CheckKind.DOCKERFILE)
    if dockerfile_checks:
        lines += ["### Dockerfile findings", "", *head]
        lines += [_check_row(judged, c) for c in dockerfile_checks] + [""]
    clean = judged.clean_dockerfiles()
    if clean:
        lines += ["No arm64 problem found in " + ", ".join(escape(d) for d in clean) + ".", ""]
    image_checks = judged.checks_of(CheckKind.IMAGE)
    if judged.images or image_checks:  # gate --validate's GVI001 comes without an --image
        lines += ["### Images", ""]
        if judged.images:
            lines += ["| image | result |", "| --- | --- |"]
            lines += [f"| {escape(i.ref)} | {escape(image_status(i))} |" for i in judged.images]
            lines.append("")
        if image_checks:
            lines += [*head, *[_check_row(judged, c) for c in image_checks], ""]
    for kind in judged.other_kinds():
        lines += [f"### {kind.value.capitalize()} findings", "", *head]
        lines += [_check_row(judged, c) for c in judged.checks_of(kind)] + [""]
    return lines


def render(report: Renderable) -> str:
    judged = Judged(report)
    audit = judged.report
    problems = [f for f in judged.findings if f.verdict.severity > 0]
    pins = len({f.pin for f in audit.findings})
    failing = len(judged.gate.failing_checks) if judged.gate else 0
    scope = f"{plural(pins, 'pin')}: {escape(counts_text(audit.counts()))}"
    if judged.gate is not None:
        scope += f"; {escape(checks_text(judged.gate))}"
    lines = [
        f"## {judged.command}: {judged.result.upper()}",
        "",
        "Target: " + "; ".join(escape(target_label(t)) for t in audit.targets),
        "",
        f"{scope}; fails on {audit.fail_on.value} and above: "
        f"{len(audit.failures) + failing} failing",
        "",
    ]
    if audit.expired_ignores:
        lines += ["### Expired ignore entries (each fails the audit)", ""]
        lines += [f"- {escape(expired_text(i))}" for i in audit.expired_ignores] + [""]
    if problems:
        lines += ["### Not installable from a wheel", "", *_table(judged, problems), ""]
    elif judged.findings:
        lines += ["Every package installs from a wheel on the target.", ""]
    note = x86_note(judged.findings)
    if note:
        lines += [escape(note), ""]
    lines += _gate_sections(judged)
    if judged.findings:
        lines += [
            "<details>",
            f"<summary>All {plural(len(judged.findings), 'result')}</summary>",
            "",
            *_table(judged, judged.findings),
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)
