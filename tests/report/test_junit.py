from __future__ import annotations

import xml.etree.ElementTree as ET

from graviton.findings import Report, Verdict
from graviton.report import junit
from tests.report.conftest import build_report


def parse(report: Report) -> ET.Element:
    out = junit.render(report)
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(out.encode("utf-8"))


def cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in suite.findall("testcase")}


def test_one_suite_per_target_and_one_for_expired_ignores(report: Report) -> None:
    root = parse(report)
    assert root.tag == "testsuites"
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == [
        "graviton audit: linux/aarch64 Python 3.11 glibc 2.28",
        "graviton audit: linux/aarch64 Python 3.12 glibc 2.28 (al2023-ish)",
        "graviton audit: ignore list",
    ]
    per_target = [len(s.findall("testcase")) for s in root.findall("testsuite")]
    assert per_target == [11, 11, 1]
    assert sum(per_target[:2]) == len(report.findings)


def test_counts_agree_with_the_elements(report: Report) -> None:
    root = parse(report)
    for suite in [*root.findall("testsuite"), root]:
        testcases = suite.iter("testcase")
        tests = failures = skipped = 0
        for case in testcases:
            tests += 1
            failures += case.find("failure") is not None
            skipped += case.find("skipped") is not None
        assert suite.get("tests") == str(tests)
        assert suite.get("failures") == str(failures)
        assert suite.get("skipped") == str(skipped)
        assert suite.get("errors") == "0"
    # 3 failing findings + 1 expired ignore entry
    assert root.get("failures") == str(len(report.failures) + len(report.expired_ignores))


def test_failures_skips_and_passes(report: Report) -> None:
    py312 = cases(parse(report).findall("testsuite")[1])
    failure = py312["cryptography==3.3.2"].find("failure")
    assert failure is not None
    assert failure.get("type") == "blocked"
    assert failure.get("message") == "blocked: aarch64 wheels for cp36-abi3 need glibc 2.33"
    assert "fix: >=41.0.0 (latest 44.0.1, major upgrade)" in (failure.text or "")
    assert "location: requirements.txt:11" in (failure.text or "")
    ignored = py312["legacy-sdk==0.9.0"].find("skipped")
    assert ignored is not None
    assert ignored.get("message") == (
        "ignored until 2027-03-31: replaced by v2 in Q1, see <wiki> | OPS-12"
    )
    win = py312["pywin32==306"].find("skipped")
    assert win is not None and "marker is false" in (win.get("message") or "")
    source = py312["psycopg2==2.9.9"]  # below fail_on: passes, but says why in system-out
    assert source.find("failure") is None and source.find("skipped") is None
    assert "verdict: source" in (source.findtext("system-out") or "")
    assert py312["numpy==1.26.4"].find("failure") is None


def test_attributes_point_at_the_pin(report: Report) -> None:
    py311 = cases(parse(report).findall("testsuite")[0])
    shioaji = py311["shioaji==1.2.5"]
    assert shioaji.get("classname") == "requirements.txt"
    assert shioaji.get("file") == "requirements.txt" and shioaji.get("line") == "3"
    internal = py311["internal-lib==0.3.1"]
    assert internal.get("file") == "services/api/poetry.lock" and internal.get("line") is None


def test_escaping_round_trips_and_control_characters_are_replaced(report: Report) -> None:
    py311 = cases(parse(report).findall("testsuite")[0])
    out = py311["psycopg2==2.9.9"].findtext("system-out") or ""
    assert 'reason: no linux/aarch64 wheel | 100% "sure": builds <gcc> & [bold]' in out
    assert "\x1b" not in junit.render(report)
    assert "s3cret" not in junit.render(report)


def test_expired_ignore_fails(report: Report) -> None:
    suite = parse(report).findall("testsuite")[2]
    case = cases(suite)["ignore shioaji==1.2.5"]
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "expired"
    assert "expired on 2026-01-31" in (failure.get("message") or "")
    assert case.get("classname") == "requirements.txt"


def test_fail_on_changes_what_fails(passing: Report) -> None:
    root = parse(build_report(Verdict.SOURCE, expired=False))
    assert [s.get("name") for s in root.findall("testsuite")][-1].endswith("(al2023-ish)")
    py312 = cases(root.findall("testsuite")[1])
    assert py312["psycopg2==2.9.9"].find("failure") is not None
    assert parse(passing).get("failures") == "0"
