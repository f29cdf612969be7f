from __future__ import annotations

import dataclasses
import datetime as dt

from graviton.findings import Fix, Report, Verdict
from graviton.report import _common
from graviton.timeutil import utc_timestamp
from tests.report.conftest import (
    LEGACY,
    MKL,
    MYLIB,
    PSYCOPG,
    PY311,
    PY312,
    PYWIN32,
    SHIOAJI,
    build_report,
)


def test_order_is_file_line_name_python_whatever_the_input_order(report: Report) -> None:
    keys = [
        (f.pin.location.path, f.pin.location.line or 0, f.pin.key, f.target.python)
        for f in _common.ordered(report)
    ]
    assert keys == sorted(keys)
    assert [f.pin.location.path for f in _common.ordered(report)][:2] == ["requirements.txt"] * 2
    lock = [f for f in _common.ordered(report) if f.pin.location.path.endswith("poetry.lock")]
    assert [f.pin.location.line for f in lock] == [None, None, 40, 40]  # no line sorts first
    assert [f.target for f in _common.ordered(report)][:2] == [PY311, PY312]


def test_levels_follow_fail_on_and_ignores(report: Report) -> None:
    judged = _common.Judged(report)
    level = {(f.pin.name, f.target.python): judged.level(f) for f in report.findings}
    assert level["shioaji", (3, 11)] == "error"
    assert level["cryptography", (3, 12)] == "error"
    assert level["cryptography", (3, 11)] == "note"
    assert level["psycopg2", (3, 11)] == "warning"  # source is below fail_on=blocked
    assert level["internal-lib", (3, 12)] == "warning"
    assert level["legacy-sdk", (3, 12)] == "warning"  # blocked but ignored
    assert level["numpy", (3, 12)] == "note"
    assert level["pywin32", (3, 12)] == "note"


def test_fail_on_source_makes_every_non_wheel_verdict_fail() -> None:
    judged = _common.Judged(build_report(fail_on=Verdict.SOURCE))
    failing = {f.pin.name for f in judged.findings if judged.fails(f)}
    assert failing == {"shioaji", "cryptography", "psycopg2", "mylib", "internal-lib"}


def test_result_fails_on_an_expired_ignore_alone() -> None:
    report = build_report(expired=False)
    no_failures = dataclasses.replace(
        report, findings=tuple(f for f in report.findings if f.verdict.severity < 3)
    )
    assert _common.Judged(no_failures).result == "pass"
    expired = dataclasses.replace(no_failures, expired_ignores=build_report().expired_ignores)
    assert _common.Judged(expired).result == "fail"


def test_pin_labels_and_credentials() -> None:
    assert _common.pin_label(SHIOAJI) == "shioaji==1.2.5"
    assert _common.pin_label(MYLIB) == "mylib @ git+https://git.example.com/acme/mylib.git@v1"
    unpinned = dataclasses.replace(LEGACY, version=None, specifier=">=2,<3")
    assert _common.pin_label(unpinned) == "legacy-sdk>=2,<3"


def test_fix_text() -> None:
    assert _common.fix_text(Fix("1.2.6", "1.7.9", False)) == ">=1.2.6 (latest 1.7.9)"
    assert _common.fix_text(Fix("1.2.6", "1.2.6", False)) == ">=1.2.6"
    assert _common.fix_text(Fix("2.0", "2.3", True)) == ">=2.0 (latest 2.3, major upgrade)"


def test_x86_only_markers(report: Report) -> None:
    by_pin = {(f.pin, f.target): f for f in report.findings}
    assert _common.x86_only(by_pin[MKL, PY312])
    assert not _common.x86_only(by_pin[PYWIN32, PY312])
    assert not _common.x86_only(by_pin[PSYCOPG, PY312])
    note = _common.x86_note(report.findings)
    assert note is not None and "mkl (requirements.txt:7)" in note and "pywin32" not in note


def test_summary_line(report: Report, passing: Report) -> None:
    assert _common.summary_line(report) == (
        "FAIL  11 pins on 2 targets: 5 blocked, 2 unknown, 4 source, 5 native, 2 pure, "
        "4 skipped  (fail-on blocked: 3 failing, 2 ignored, 1 expired ignore entry)"
    )
    assert _common.summary_line(passing) == (
        "PASS  5 pins on 1 target: 2 native, 1 pure, 2 skipped  (fail-on blocked: 0 failing)"
    )


def test_one_line_removes_newlines_and_control_characters() -> None:
    assert _common.text_line("a\n  b\tc\x1b[31m") == "a b c\ufffd[31m"


def test_utc_timestamp() -> None:
    assert utc_timestamp(dt.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
    cest = dt.timezone(dt.timedelta(hours=2))
    assert utc_timestamp(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=cest)) == "2026-01-02T01:04:05Z"
