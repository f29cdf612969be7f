from __future__ import annotations

import dataclasses
import re
from typing import NamedTuple

from graviton.findings import Finding, Location, Report, Verdict
from graviton.report import github
from tests.report.conftest import PY312, SHIOAJI, SHIOAJI_FIX

COMMAND = re.compile(r"^::(error|warning|notice) ([^:]*)::(.*)$")


class Annotation(NamedTuple):
    kind: str
    props: dict[str, str]
    message: str


def unescape(text: str) -> str:
    """What the Actions runner does: %25 last, so an escaped percent stays a percent."""
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


def parse(out: str) -> list[Annotation]:
    found = []
    for line in out.splitlines():
        m = COMMAND.match(line)
        if m is None:
            continue
        props = dict(p.split("=", 1) for p in m.group(2).split(","))
        found.append(
            Annotation(m.group(1), {k: unescape(v) for k, v in props.items()}, unescape(m.group(3)))
        )
    return found


def test_levels_per_finding(report: Report) -> None:
    notes = parse(github.render(report))
    kinds = [(a.props["title"], a.kind) for a in notes]
    assert kinds == [
        ("graviton: shioaji blocked", "error"),
        ("graviton: shioaji blocked", "error"),
        ("graviton: mkl skipped (x86-only marker)", "notice"),
        ("graviton: mkl skipped (x86-only marker)", "notice"),
        ("graviton: psycopg2 source", "warning"),
        ("graviton: psycopg2 source", "warning"),
        ("graviton: legacy-sdk blocked", "warning"),  # ignored
        ("graviton: legacy-sdk blocked", "warning"),
        ("graviton: mylib source", "warning"),
        ("graviton: mylib source", "warning"),
        ("graviton: cryptography blocked", "error"),
        ("graviton: internal-lib unknown", "warning"),
        ("graviton: internal-lib unknown", "warning"),
        ("graviton: expired ignore", "error"),
    ]


def test_properties_and_message(report: Report) -> None:
    first = parse(github.render(report))[0]
    assert first.props == {
        "file": "requirements.txt",
        "line": "3",
        "title": "graviton: shioaji blocked",
    }
    assert first.message == (
        "shioaji==1.2.5 is blocked on linux/aarch64 Python 3.11 glibc 2.28\n"
        "no linux/aarch64 wheel: only x86_64 Linux and macOS arm64 wheels and no sdist\n"
        "fix: upgrade shioaji to >=1.2.6 (latest 1.7.9)"
    )
    internal = next(a for a in parse(github.render(report)) if "internal-lib" in a.props["title"])
    assert "line" not in internal.props and internal.props["file"] == "services/api/poetry.lock"
    ignored = next(a for a in parse(github.render(report)) if "legacy-sdk" in a.props["title"])
    assert ignored.message.endswith(
        "ignored until 2027-03-31: replaced by v2 in Q1, see <wiki> | OPS-12"
    )
    expired = parse(github.render(report))[-1]
    assert expired.props["line"] == "3"
    assert "expired on 2026-01-31" in expired.message


def test_escaping_of_data_and_properties(report: Report) -> None:
    out = github.render(report)
    raw = next(line for line in out.splitlines() if "psycopg2" in line)
    assert "100%25" in raw and "%0A" in raw and "\n" not in raw
    assert "\x1b" not in out and "s3cret" not in out
    nasty = next(a for a in parse(out) if "psycopg2" in a.props["title"])
    assert '100% "sure": builds <gcc> & [bold]headers[/bold],\nneeds *compiler*' in nasty.message
    assert github.escape_data("50%\r\nx: y, z") == "50%25%0D%0Ax: y, z"
    assert github.escape_property("50%\r\nx: y, z") == "50%25%0D%0Ax%3A y%2C z"


def test_a_path_with_separators_survives(report: Report) -> None:
    odd = Location("reqs/a,b:c%.txt", 12)
    finding = Finding(
        dataclasses.replace(SHIOAJI, location=odd), PY312, Verdict.BLOCKED, "x86 only", SHIOAJI_FIX
    )
    out = github.render(dataclasses.replace(report, findings=(finding,), expired_ignores=()))
    raw = out.splitlines()[0]
    assert raw.startswith("::error file=reqs/a%2Cb%3Ac%25.txt,line=12,title=graviton%3A shioaji")
    assert parse(out)[0].props["file"] == "reqs/a,b:c%.txt"


def test_summary_line_and_quiet_success(report: Report, passing: Report) -> None:
    assert github.render(report).splitlines()[-1].startswith("graviton audit: FAIL  ")
    clean = github.render(passing)
    assert parse(clean) == [n for n in parse(clean) if n.kind == "notice"]  # mkl only
    assert clean.splitlines()[-1].startswith("graviton audit: PASS  ")
