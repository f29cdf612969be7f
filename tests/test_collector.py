"""The cycle collector is settled (imports frozen, passes less often) by the commands that read
many index pages, and only by them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from graviton.collector import THRESHOLDS

REPO = Path(__file__).resolve().parents[1]
REPORT = (
    "import atexit, gc, sys\n"
    "report = lambda: sys.stderr.write(f'GC {gc.get_threshold()} {gc.get_freeze_count()}')\n"
    "atexit.register(report)\n"
    "from graviton.cli import main\n"
    "main()\n"
)


def _collector_after(*args: str, cwd: Path) -> tuple[tuple[int, ...], int]:
    proc = subprocess.run(
        [sys.executable, "-c", REPORT, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    line = proc.stderr[proc.stderr.rindex("GC ") + 3 :]
    thresholds, _, frozen = line.rpartition(" ")
    return tuple(int(n) for n in thresholds.strip("()").split(", ")), int(frozen)


def test_the_audit_settles_the_collector(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text('pywin32==306 ; sys_platform == "win32"\n')
    thresholds, frozen = _collector_after("audit", "requirements.txt", "--offline", cwd=tmp_path)
    assert thresholds == THRESHOLDS
    assert frozen > 10_000  # the imports, out of the collector's sight


def test_other_commands_leave_it_alone(tmp_path: Path) -> None:
    thresholds, frozen = _collector_after("--version", cwd=tmp_path)
    assert thresholds != THRESHOLDS and frozen == 0
