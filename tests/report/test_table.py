from __future__ import annotations

import dataclasses
import re

from graviton.findings import Report
from graviton.report import table

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_plain_table_has_every_package_and_column(report: Report) -> None:
    out = table.render(report, color=False, width=400)  # wide enough that no cell wraps
    assert not ANSI.search(out)
    header = out.splitlines()[1].split()
    assert header == ["package", "version", "python", "verdict", "reason", "fix", "location"]
    for finding in report.findings:
        assert finding.pin.name in out
    assert "blocked (ignored)" in out
    assert "ignored until 2027-03-31: replaced by v2 in Q1, see <wiki> | OPS-12" in out
    assert ">=41.0.0 (latest 44.0.1, major upgrade)" in out
    assert 'marker: sys_platform == "win32"' in out  # skipped pins are listed, not dropped
    assert "services/api/poetry.lock:40" in out


def test_rich_markup_in_data_is_printed_not_interpreted(report: Report) -> None:
    out = table.render(report, color=True, width=250)
    plain = ANSI.sub("", out)
    assert "[bold]headers[/bold]" in plain
    assert "\x1b[31m" not in plain


def test_color_only_when_asked(report: Report) -> None:
    coloured = table.render(report, color=True, width=200)
    assert ANSI.search(coloured)
    assert (
        ANSI.sub("", coloured).splitlines()[-1]
        == table.render(report, color=False, width=200).splitlines()[-1]
    )


def test_width_is_respected(report: Report) -> None:
    out = table.render(report, color=False, width=100)
    assert max(len(line) for line in out.splitlines()) <= 100


def test_summary_notes_and_expired(report: Report, passing: Report) -> None:
    lines = table.render(report, width=400).splitlines()
    assert lines[-1].startswith("FAIL  11 pins on 2 targets")
    assert lines[-2].startswith("error: ignore entry for shioaji==1.2.5 expired on 2026-01-31")
    assert lines[-3].startswith("note: 1 x86-only marker line")
    assert table.render(passing, width=200).splitlines()[-1].startswith("PASS  ")


def test_empty_report_prints_only_the_summary(passing: Report) -> None:
    empty = dataclasses.replace(passing, findings=())
    assert table.render(empty).strip() == (
        "PASS  0 pins on 1 target: no packages  (fail-on blocked: 0 failing)"
    )
