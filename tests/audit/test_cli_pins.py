"""``graviton audit`` end to end on what pip would read: version spellings, lines pip rejects,
bad config, unreadable inputs and --offline resolution (the real console script, local index)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit.index_server import IndexServer
from tests.audit.test_cli import run


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_versions_match_as_pip_matches_them(index: IndexServer, tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("shioaji==1.2.5.0\nnumpy==2.0\nrequests===2.32.3\n")
    proc = run(str(reqs), "-i", index.url, "--no-cache", "--python", "3.11", "--format", "json")
    assert proc.returncode == 1, proc.stderr  # shioaji 1.2.5 is blocked, not "unknown"
    verdicts = {p["name"]: p["verdict"] for p in json.loads(proc.stdout)["packages"]}
    assert verdicts == {"shioaji": "blocked", "numpy": "native", "requests": "pure"}
    text = run(str(reqs), "-i", index.url, "--no-cache", "--python", "3.11", "--format", "text")
    assert "requests===2.32.3" in text.stdout and "requests==2.32.3" not in text.stdout


def test_lines_pip_rejects_are_exit_2_with_file_and_line(
    index: IndexServer, tmp_path: Path
) -> None:
    for number, line in enumerate(["./does-not-exist", "numpy/==1.26"], start=1):
        reqs = tmp_path / f"r{number}.txt"
        reqs.write_text(f"numpy==1.26.4\n{line}\n")
        proc = run(str(reqs), "-i", index.url, "--no-cache")
        assert proc.returncode == 2
        assert f"r{number}.txt:2" in one_error_line(proc.stderr)
    passwd = tmp_path / "passwd.txt"
    passwd.write_text("-r /etc/passwd\n")
    proc = run(str(passwd), "-i", index.url, "--no-cache")
    assert proc.returncode == 2 and "/etc/passwd:1" in one_error_line(proc.stderr)


def test_a_device_or_binary_input_is_exit_2(index: IndexServer, tmp_path: Path) -> None:
    proc = run("/dev/zero", "-i", index.url, "--no-cache")
    assert proc.returncode == 2 and "/dev/zero" in one_error_line(proc.stderr)
    blob = tmp_path / "uv.lock"
    blob.write_bytes(b"\x00\x01\x02" * 100)
    proc = run(str(blob), "-i", index.url, "--no-cache")
    assert proc.returncode == 2 and "uv.lock" in one_error_line(proc.stderr)


def test_a_bad_fail_on_in_the_config_is_exit_2_naming_key_and_values(
    index: IndexServer, tmp_path: Path
) -> None:
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "pyproject.toml").write_text('[tool.graviton.audit]\nfail-on = "everything"\n')
    proc = run("-i", index.url, "--no-cache", cwd=tmp_path)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert "fail-on" in line and "blocked, unknown, source" in line and "everything" in line


def test_offline_resolution_reads_no_index(index: IndexServer, tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.in"
    reqs.write_text("numpy>=1.26\n")
    proc = run(str(reqs), "-i", index.url, "--offline", "--cache-dir", str(tmp_path / "cache"))
    assert proc.returncode == 3, proc.stderr
    assert "offline" in one_error_line(proc.stderr)
    assert sum(index.hits.values()) == 0, dict(index.hits)
