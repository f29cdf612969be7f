"""Render an audit :class:`~graviton.findings.Report` or a gate
:class:`~graviton.findings.GateReport` in each output format.

Every format carries the same facts in the same order (file, line, package, Python; then the
gate's Dockerfile and image findings); each lives in its own module.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from graviton.errors import UsageError
from graviton.report import github, jsondoc, junit, markdown, sarif, table, text
from graviton.report._common import FORMATS, Renderable

__all__ = ["FORMATS", "append_step_summary", "render"]

_PLAIN: dict[str, Callable[[Renderable], str]] = {
    "text": text.render,
    "json": jsondoc.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "github": github.render,
}


def render(report: Renderable, fmt: str, *, color: bool = False, width: int | None = None) -> str:
    """``report`` as ``fmt``; ``color`` and ``width`` apply to the terminal table only."""
    if fmt == "table":
        return table.render(report, color=color, width=width)
    try:
        renderer = _PLAIN[fmt]
    except KeyError:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}") from None
    return renderer(report)


def append_step_summary(report: Renderable) -> None:
    """Append the Markdown rendering to ``$GITHUB_STEP_SUMMARY`` when GitHub Actions sets it."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown.render(report) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot append to GITHUB_STEP_SUMMARY {path}: {exc.strerror}") from None
