"""The public entry points: ``render`` dispatch, the same facts in every format, step summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graviton import report as formats
from graviton.errors import UsageError
from graviton.findings import Report


def test_formats_tuple() -> None:
    assert formats.FORMATS == ("table", "text", "json", "sarif", "junit", "markdown", "github")


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_every_format_names_every_failing_package_and_the_fix(report: Report, fmt: str) -> None:
    out = formats.render(report, fmt, width=400)
    for finding in report.failures:
        assert finding.pin.name in out
        assert finding.fix is None or finding.fix.min in out
    assert "shioaji" in out and "2026-01-31" in out  # the expired ignore entry
    assert "s3cret" not in out
    assert out == formats.render(report, fmt, width=400)  # deterministic


@pytest.mark.parametrize("fmt", ["text", "table", "json", "junit", "markdown"])
def test_full_formats_list_every_package(report: Report, fmt: str) -> None:
    out = formats.render(report, fmt, width=400)
    for finding in report.findings:
        assert finding.pin.name in out


def test_render_dispatches_to_the_format_module(report: Report) -> None:
    assert json.loads(formats.render(report, "json"))["schema"] == "graviton.audit/v1"
    assert json.loads(formats.render(report, "sarif"))["version"] == "2.1.0"
    assert formats.render(report, "junit").startswith("<?xml")
    assert formats.render(report, "markdown").startswith("## graviton audit")
    assert formats.render(report, "github").startswith("::error ")
    assert "\x1b[" in formats.render(report, "table", color=True, width=120)
    assert "\x1b[" not in formats.render(report, "table")


def test_unknown_format_is_a_usage_error(report: Report) -> None:
    with pytest.raises(UsageError, match="unknown format 'yaml': choose one of table, text"):
        formats.render(report, "yaml")


def test_step_summary_appends_markdown(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    formats.append_step_summary(report)
    formats.append_step_summary(report)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n## graviton audit: FAIL\n")
    assert text.count("## graviton audit: FAIL") == 2
    assert formats.render(report, "markdown") in text


def test_step_summary_is_a_no_op_outside_actions(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    formats.append_step_summary(report)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "")
    formats.append_step_summary(report)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_step_summary_is_one_line_error(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing" / "summary.md"))
    with pytest.raises(UsageError, match="cannot append to GITHUB_STEP_SUMMARY"):
        formats.append_step_summary(report)
