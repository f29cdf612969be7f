"""GitHub-flavoured Markdown for pull-request comments and the Actions step summary.

What does not install from a wheel comes first, with reason and fix; every package follows in a
collapsed ``<details>`` block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from graviton.audit.formats._common import (
    Judged,
    counts_text,
    expired_text,
    fix_cell,
    ignored_text,
    one_line,
    pin_label,
    plural,
    target_label,
    x86_note,
)
from graviton.audit.model import Finding, Report

# Backslash-escape what Markdown or a table cell would read as syntax; ``&`` too, so that no
# entity or HTML tag can be formed from a package's text.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#~])")
COLUMNS = ("package", "python", "verdict", "reason", "fix", "location")


def escape(text: str) -> str:
    """Plain text safe in a table cell: one line, pipes and Markdown punctuation escaped."""
    return _SPECIAL.sub(r"\\\1", one_line(text))


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


def render(report: Report) -> str:
    judged = Judged(report)
    problems = [f for f in judged.findings if f.verdict.severity > 0]
    pins = len({f.pin for f in report.findings})
    lines = [
        f"## graviton audit: {judged.result.upper()}",
        "",
        "Target: " + "; ".join(escape(target_label(t)) for t in report.targets),
        "",
        f"{plural(pins, 'pin')}: {escape(counts_text(report.counts()))}; "
        f"fails on {report.fail_on.value} and above: {len(report.failures)} failing",
        "",
    ]
    if report.expired_ignores:
        lines += ["### Expired ignore entries (each fails the audit)", ""]
        lines += [f"- {escape(expired_text(i))}" for i in report.expired_ignores] + [""]
    if problems:
        lines += ["### Not installable from a wheel", "", *_table(judged, problems), ""]
    elif judged.findings:
        lines += ["Every package installs from a wheel on the target.", ""]
    note = x86_note(judged.findings)
    if note:
        lines += [escape(note), ""]
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
