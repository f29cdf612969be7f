"""A rich table for terminals: package, version, python, verdict, reason, fix, location; a gate
adds a table of Dockerfile and image findings (rule, severity, finding, fix, location)."""

from __future__ import annotations

from io import StringIO

from graviton.findings import Finding, Verdict
from graviton.report._common import (
    Judged,
    Renderable,
    check_title,
    check_where,
    expired_text,
    fix_cell,
    ignored_text,
    image_status,
    pin_url,
    severity_word,
    summary_line,
    text_line,
    x86_note,
)

STYLES = {
    Verdict.NATIVE: "green",
    Verdict.PURE: "green",
    Verdict.SOURCE: "yellow",
    Verdict.BLOCKED: "bold red",
    Verdict.UNKNOWN: "magenta",
    Verdict.SKIPPED: "dim",
}


def _version(finding: Finding) -> str:
    pin = finding.pin
    if pin.arbitrary:
        return pin.pinned  # ===X: matched as a string, so shown with its operator
    return pin.version or (f"@ {pin_url(pin)}" if pin.url else pin.specifier or "(unpinned)")


def _reason(finding: Finding) -> str:
    parts = [text_line(finding.reason)]
    if finding.verdict is Verdict.SKIPPED and finding.pin.marker:
        parts.append(f"marker: {text_line(finding.pin.marker)}")
    if finding.ignored is not None:
        parts.append(ignored_text(finding.ignored))
    return "\n".join(parts)


def render(report: Renderable, *, color: bool = False, width: int | None = None) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    judged = Judged(report)
    out = StringIO()
    console = Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        width=width,
        highlight=False,
        emoji=False,
        markup=False,
    )
    table = Table(box=box.SIMPLE_HEAVY, show_lines=False, pad_edge=False)
    for name in ("package", "version", "python", "verdict", "reason", "fix", "location"):
        table.add_column(name, overflow="fold")
    for f in judged.findings:
        style = STYLES[f.verdict] if f.ignored is None else "dim"
        verdict = f.verdict.value + (" (ignored)" if f.ignored is not None else "")
        table.add_row(
            Text(f.pin.name),
            Text(_version(f)),
            Text(f.target.python_str),
            Text(verdict, style=style),
            Text(_reason(f)),
            Text(fix_cell(f)),
            Text(str(f.pin.location)),
        )
    if judged.findings:
        console.print(table)
    if judged.checks:
        checks = Table(box=box.SIMPLE_HEAVY, show_lines=False, pad_edge=False)
        for name in ("rule", "severity", "finding", "fix", "location"):
            checks.add_column(name, overflow="fold")
        for c in judged.checks:
            fails = judged.check_fails(c)
            severity = severity_word(c) + (" (ignored)" if c.ignored is not None else "")
            finding = text_line(c.message)
            if c.ignored is not None:
                finding += "\n" + ignored_text(c.ignored)
            checks.add_row(
                Text(check_title(c)),
                Text(severity, style="bold red" if fails else "yellow" if not c.ignored else "dim"),
                Text(finding),
                Text(text_line(c.fix or "")),
                Text(check_where(c)),
            )
        console.print(checks)
    for path in judged.clean_dockerfiles():
        console.print(Text(f"{path}: no arm64 problem found", style="green"))
    for image in judged.images:
        console.print(
            Text(
                f"image {image.ref}: {image_status(image)}",
                style="green" if image.ok else "bold red",
            )
        )
    note = x86_note(judged.findings)
    if note:
        console.print(Text(note, style="yellow"))
    for ignore in judged.report.expired_ignores:
        console.print(Text(f"error: {expired_text(ignore)}", style="bold red"))
    summary = summary_line(report)
    console.print(Text(summary, style="bold red" if judged.failed else "bold green"))
    return out.getvalue()
