"""Ctrl-C, SIGTERM and SIGKILL in the middle of a cold audit: one line (or none), the right exit
code, no traceback, no process left behind (parse workers, multiprocessing's resource tracker)
and no cache a later run trips on. The local index holds one page open, so "mid-run" is a
state the test waits for, not a sleep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.index_server import IndexServer
from tests.audit.test_cli import GRAVITON, REPO, run

PINS = "bigpage==1.0.0\nnumpy==1.26.4\nhold==1.0\nrequests==2.32.3\n"


def children() -> dict[int, int]:
    """pid -> parent pid of every process, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            out[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return out


def descendants(pid: int) -> set[int]:
    parents = children()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def wait_for(condition: object, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], IndexServer, set[int], Path]]:
    """A cold audit stopped mid-run: its parse workers up, the 'hold' page open."""
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(PINS)
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_STEP_SUMMARY", "PIP_INDEX_URL")}
    with IndexServer() as index:
        proc = subprocess.Popen(
            [*GRAVITON, "audit", str(reqs), "-i", index.url, "--cache-dir", str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**env, "PYTHONPATH": str(REPO)},
            start_new_session=True,  # its own process group, as a shell gives a job
        )
        try:
            wait_for(lambda: index.requests_for("hold") > 0, "the run reached the held page")
            wait_for(lambda: len(descendants(proc.pid)) >= 2, "parse worker processes started")
            yield proc, index, descendants(proc.pid), cache
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def assert_nothing_left(pids: set[int]) -> None:
    wait_for(lambda: not alive(pids), f"processes {pids} left behind", limit=20)


def test_ctrl_c_is_one_line_exit_130_and_leaves_nothing(
    started: tuple[subprocess.Popen[str], IndexServer, set[int], Path],
) -> None:
    proc, _, workers, _ = started
    os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == "graviton: interrupted\n" and out == "", err
    assert_nothing_left(workers)


def test_sigterm_is_exit_143_and_leaves_nothing(
    started: tuple[subprocess.Popen[str], IndexServer, set[int], Path],
) -> None:
    proc, _, workers, _ = started
    proc.terminate()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err == "graviton: terminated\n" and out == ""
    assert_nothing_left(workers)


def test_sigkill_leaves_no_process_and_no_cache_a_later_run_trips_on(
    started: tuple[subprocess.Popen[str], IndexServer, set[int], Path], tmp_path: Path
) -> None:
    proc, index, workers, cache = started
    proc.kill()
    proc.communicate(timeout=60)
    assert_nothing_left(workers)
    reqs = tmp_path / "again.txt"
    reqs.write_text("bigpage==1.0.0\nnumpy==1.26.4\nrequests==2.32.3\n")
    again = run(
        str(reqs),
        "-i",
        index.url,
        "--cache-dir",
        str(cache),
        "--python",
        "3.11",
        "--format",
        "json",
    )
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    verdicts = {p["name"]: p["verdict"] for p in json.loads(again.stdout)["packages"]}
    assert verdicts == {"bigpage": "native", "numpy": "native", "requests": "pure"}
