from __future__ import annotations

import re

from graviton.findings import Report
from graviton.report import markdown

# A GFM table row splits on pipes that are not backslash-escaped.
CELL_SPLIT = re.compile(r"(?<!\\)\|")


def cells(row: str) -> list[str]:
    return [c.strip() for c in CELL_SPLIT.split(row)[1:-1]]


def tables(out: str) -> list[list[list[str]]]:
    """Each Markdown table as rows of cells, header and separator dropped."""
    found: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in out.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                found.append(current)
            current.append(cells(line))
        else:
            current = None
    return [t[2:] for t in found]


def test_heading_target_and_counts(report: Report, passing: Report) -> None:
    out = markdown.render(report)
    lines = out.splitlines()
    assert lines[0] == "## graviton audit: FAIL"
    assert lines[2] == (
        "Target: linux/aarch64 Python 3.11 glibc 2.28; linux/aarch64 Python 3.12 glibc 2.28 "
        "(al2023-ish)"
    )
    assert lines[4] == (
        "11 pins: 5 blocked, 2 unknown, 4 source, 5 native, 2 pure, 4 skipped; "
        "fails on blocked and above: 3 failing"
    )
    assert markdown.render(passing).startswith("## graviton audit: PASS\n")
    assert "Every package installs from a wheel on the target." in markdown.render(passing)


def test_problem_table_first_then_everything_collapsed(report: Report) -> None:
    out = markdown.render(report)
    problems, everything = tables(out)
    assert out.index("### Not installable from a wheel") < out.index("<details>")
    assert all(len(row) == 6 for row in problems + everything)  # escaped pipes did not split
    assert {row[2].split()[0].strip("*") for row in problems} == {"blocked", "unknown", "source"}
    assert len(problems) == sum(1 for f in report.findings if f.verdict.severity > 0)
    assert len(everything) == len(report.findings)
    assert problems[0] == [
        "shioaji==1.2.5",
        "3.11",
        "**blocked**",
        r"no linux/aarch64 wheel: only x86\_64 Linux and macOS arm64 wheels and no sdist",
        r"\>=1.2.6 (latest 1.7.9)",
        "requirements.txt:3",
    ]
    summary = out[out.index("<details>") :]
    assert summary.startswith("<details>\n<summary>All 22 results</summary>\n\n|")
    assert summary.rstrip().endswith("</details>")


def test_escaping(report: Report) -> None:
    out = markdown.render(report)
    nasty = next(row for row in tables(out)[0] if row[0] == "psycopg2==2.9.9")
    assert nasty[3] == (
        r'no linux/aarch64 wheel \| 100% "sure": builds \<gcc\> \& \[bold\]headers\[/bold\], '
        r"needs \*compiler\* \_now\_ " + "\ufffd"
    )
    assert "<gcc>" not in out and "<wiki>" not in out
    assert "s3cret" not in out
    ignored = next(row for row in tables(out)[0] if row[0] == "legacy-sdk==0.9.0")
    assert (
        ignored[2]
        == r"blocked (ignored until 2027-03-31: replaced by v2 in Q1, see \<wiki\> \| OPS-12)"
    )
    assert markdown.escape("a|b\\c\n`d`") == r"a\|b\\c \`d\`"


def test_expired_ignores_and_x86_note(report: Report) -> None:
    out = markdown.render(report)
    assert "### Expired ignore entries (each fails the audit)" in out
    assert (
        "- ignore entry for shioaji==1.2.5 expired on 2026-01-31 (vendor promised arm64 wheels): "
        "renew or remove it"
    ) in out
    assert "note: 1 x86-only marker line not installed on linux/aarch64: mkl" in out
