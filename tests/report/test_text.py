from __future__ import annotations

from graviton.findings import Report
from graviton.report import text


def _finding_lines(out: str) -> list[str]:
    body, _, _ = out.partition("\n\n")
    return body.splitlines()


def test_one_line_per_finding_in_order(report: Report) -> None:
    lines = _finding_lines(text.render(report))
    assert len(lines) == len(report.findings)  # the newline inside a reason did not split a line
    assert lines[0] == (
        "shioaji==1.2.5  py3.11  blocked  no linux/aarch64 wheel: only x86_64 Linux and macOS "
        "arm64 wheels and no sdist  fix: >=1.2.6 (latest 1.7.9)  requirements.txt:3"
    )
    assert lines[1].startswith("shioaji==1.2.5  py3.12  blocked  ")
    assert lines[-1].startswith("zope.interface==6.0  py3.12  native  ")
    assert lines[-1].endswith("  services/api/poetry.lock:40")


def test_fields_are_grep_able(report: Report) -> None:
    lines = _finding_lines(text.render(report))
    fields = [line.split("  ") for line in lines]
    assert all(
        f[2] in {"native", "pure", "source", "blocked", "unknown", "skipped"} for f in fields
    )
    assert all(f[1] in {"py3.11", "py3.12"} for f in fields)
    blocked_312 = [f[0] for f in fields if f[1:3] == ["py3.12", "blocked"]]
    assert blocked_312 == ["shioaji==1.2.5", "legacy-sdk==0.9.0", "cryptography==3.3.2"]


def test_skipped_pins_show_their_marker_and_x86_note(report: Report) -> None:
    out = text.render(report)
    win = [line for line in out.splitlines() if line.startswith("pywin32==306  py3.12")]
    assert win == [
        "pywin32==306  py3.12  skipped  marker is false on linux/aarch64 Python 3.12 glibc 2.28  "
        'marker: sys_platform == "win32"  requirements.txt:6'
    ]
    assert (
        "note: 1 x86-only marker line not installed on linux/aarch64: mkl (requirements.txt:7)"
        in out
    )


def test_ignored_fix_and_location_without_line(report: Report) -> None:
    lines = _finding_lines(text.render(report))
    legacy = next(line for line in lines if line.startswith("legacy-sdk==0.9.0  py3.11"))
    assert legacy.endswith(
        "  fix: none found  requirements.txt:9  "
        "ignored until 2027-03-31: replaced by v2 in Q1, see <wiki> | OPS-12"
    )
    crypto = next(line for line in lines if line.startswith("cryptography==3.3.2  py3.12"))
    assert "  fix: >=41.0.0 (latest 44.0.1, major upgrade)  " in crypto
    internal = next(line for line in lines if line.startswith("internal-lib"))
    assert internal.endswith("  services/api/poetry.lock")
    assert "fix:" not in internal


def test_no_control_characters_or_credentials(report: Report) -> None:
    out = text.render(report)
    assert "\x1b" not in out
    assert "s3cret" not in out and "deploy" not in out
    assert "mylib @ git+https://git.example.com/acme/mylib.git@v1  py3.11  source" in out


def test_summary_and_expired_ignores(report: Report, passing: Report) -> None:
    tail = text.render(report).rstrip("\n").splitlines()
    assert tail[-1].startswith("FAIL  11 pins on 2 targets: 5 blocked")
    assert tail[-2] == (
        "error: ignore entry for shioaji==1.2.5 expired on 2026-01-31 "
        "(vendor promised arm64 wheels): renew or remove it"
    )
    assert text.render(passing).rstrip("\n").splitlines()[-1].startswith("PASS  ")
