"""``graviton audit`` end to end: the real console script against the local index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audit.index_server import IndexServer

GRAVITON = [sys.executable, "-m", "graviton.cli"]
REPO = Path(__file__).resolve().parents[2]

REQUIREMENTS = """\
# pinned by pip-compile
shioaji==1.2.5
numpy==1.26.4
requests==2.32.3 \\
    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6
pywin32==306 ; sys_platform == "win32"
psycopg2==2.9.9
"""


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if k not in ("GITHUB_STEP_SUMMARY", "PIP_INDEX_URL")
    }
    full_env = {**base, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [*GRAVITON, "audit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=120,
    )


@pytest.fixture
def reqs(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(REQUIREMENTS)
    return path


def test_json_report_and_exit_1_on_blocked(index: IndexServer, reqs: Path, tmp_path: Path) -> None:
    proc = run(
        str(reqs),
        "--index-url",
        index.url,
        "--python",
        "3.11",
        "--glibc",
        "2.28",
        "--format",
        "json",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    by_name = {p["name"]: p for p in doc["packages"]}
    assert by_name["shioaji"]["verdict"] == "blocked"
    assert by_name["shioaji"]["fix"]["min"] == "1.2.6"
    assert by_name["shioaji"]["line"] == 2
    assert by_name["numpy"]["verdict"] == "native"
    assert by_name["requests"]["verdict"] == "pure"
    assert by_name["pywin32"]["verdict"] == "skipped"
    assert by_name["psycopg2"]["verdict"] == "source"
    assert doc["result"] == "fail" and doc["targets"][0]["python"] == "3.11"
    assert "Traceback" not in proc.stderr


def test_fail_on_source_and_ignores(index: IndexServer, reqs: Path, tmp_path: Path) -> None:
    common = [
        str(reqs),
        "--index-url",
        index.url,
        "--python",
        "3.11",
        "--glibc",
        "2.28",
        "--cache-dir",
        str(tmp_path / "c"),
        "--format",
        "json",
    ]
    ignore = "shioaji==1.2.5:2999-01-01:vendor ships arm64 in Q1"
    proc = run(*common, "--ignore", ignore)
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["result"] == "pass"
    proc = run(*common, "--ignore", ignore, "--fail-on", "source")
    assert proc.returncode == 1  # psycopg2 builds from source
    expired = run(*common, "--ignore", "shioaji:2020-01-01:old promise")
    assert expired.returncode == 1
    assert json.loads(expired.stdout)["expired_ignores"]


def test_two_pythons_give_two_verdicts(index: IndexServer, reqs: Path, tmp_path: Path) -> None:
    proc = run(
        str(reqs),
        "--index-url",
        index.url,
        "--python",
        "3.11",
        "--python",
        "3.13",
        "--format",
        "json",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    numpy = [p for p in json.loads(proc.stdout)["packages"] if p["name"] == "numpy"]
    assert {(p["python"], p["verdict"]) for p in numpy} == {("3.11", "native"), ("3.13", "source")}


def test_malformed_input_is_exit_2_with_file_and_line(tmp_path: Path, index: IndexServer) -> None:
    bad = tmp_path / "requirements.txt"
    bad.write_text("requests==2.32.3\nnumpy=>1\n")
    proc = run(str(bad), "--index-url", index.url)
    assert proc.returncode == 2
    assert "requirements.txt:2" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    lock = tmp_path / "poetry.lock"
    lock.write_text('[[package]]\nname = "x"\nversion = \n')
    proc = run(str(lock), "--index-url", index.url)
    assert proc.returncode == 2 and "poetry.lock:3" in proc.stderr, proc.stderr


def test_unreachable_index_is_exit_3(reqs: Path, dead_url: str, tmp_path: Path) -> None:
    proc = run(str(reqs), "--index-url", dead_url, "--no-cache", "--format", "json")
    assert proc.returncode == 3
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert "graviton: error:" in proc.stderr


def test_server_errors_are_exit_3_not_a_verdict(tmp_path: Path, index: IndexServer) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("broken-500==1.0\n")
    proc = run(str(path), "--index-url", index.url, "--no-cache")
    assert proc.returncode == 3 and "HTTP 500" in proc.stderr


def test_offline_uses_the_cache_or_exits_3(index: IndexServer, reqs: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "c")
    run(str(reqs), "--index-url", index.url, "--cache-dir", cache)
    hits = sum(index.hits.values())
    proc = run(
        str(reqs), "--index-url", index.url, "--cache-dir", cache, "--offline", "--format", "json"
    )
    assert proc.returncode == 1 and sum(index.hits.values()) == hits
    empty = run(
        str(reqs), "--index-url", index.url, "--cache-dir", str(tmp_path / "x"), "--offline"
    )
    assert empty.returncode == 3


def test_directory_discovery_and_pyproject_config(index: IndexServer, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "svc"\nversion = "1"\n\n[tool.graviton.audit]\npython = ["3.13"]\n'
    )
    proc = run("--index-url", index.url, "--format", "json", "--no-cache", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert [(p["name"], p["python"], p["verdict"]) for p in doc["packages"]] == [
        ("numpy", "3.13", "source")
    ]


def test_usage_errors_are_exit_2(reqs: Path) -> None:
    proc = run(str(reqs), "--glibc", "2.28", "--musl", "1.2")
    assert proc.returncode == 2 and "cannot be combined" in proc.stderr
    proc = run(str(reqs), "--python", "three")
    assert proc.returncode == 2
    proc = run(str(reqs), "--ignore", "shioaji")
    assert proc.returncode == 2
    proc = run("/nonexistent/requirements.txt")
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_step_summary_is_appended(index: IndexServer, reqs: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# before\n")
    run(
        str(reqs), "--index-url", index.url, "--no-cache", env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    text = summary.read_text()
    assert text.startswith("# before\n") and "shioaji" in text
