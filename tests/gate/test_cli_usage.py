"""The top-level CLI: the command list once, usage errors as one line (exit 2), and the help of
build, verify and gate with an example and one metavar per kind of value."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from graviton.cli import SUBCOMMANDS
from tests.gate.conftest import REPO


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graviton.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "100"},
        timeout=60,
        check=False,
    )


def test_top_level_help_lists_every_command_once() -> None:
    out = cli("--help").stdout
    listed = re.findall(r"^  ([a-z]+)\s{2,}\S", out.split("Commands:")[1], re.MULTILINE)
    assert sorted(listed) == sorted(SUBCOMMANDS)
    for name in ("status", "rollback", "unlock"):
        assert name in listed
    # the list is not repeated in the description above it
    before = out.split("Commands:")[0]
    assert not re.search(r"^\s+(savings|verify)\s{2,}", before, re.MULTILINE)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("gate", "--no-such-flag"), "gate: no such option '--no-such-flag'"),
        (("verify",), "verify: missing argument 'IMAGE...'"),
        (("no-such-command",), "no such command 'no-such-command'"),
        (("gate", "--fail-on", "maybe"), "gate: invalid value for '--fail-on'"),
        (("build", "--smoke-timeout"), "option '--smoke-timeout' requires an argument"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(args: tuple[str, ...], said: str) -> None:
    proc = cli(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert line.startswith("graviton: error: ") and said.lower() in line.lower(), line


@pytest.mark.parametrize("command", ["build", "verify", "gate"])
def test_help_has_an_example_and_one_metavar_per_kind(command: str) -> None:
    out = cli(command, "--help").stdout
    assert re.search(rf"^\s+graviton {command}\b", out, re.MULTILINE), out
    for line in out.splitlines():
        if re.match(r"^\s+--platform\b", line):
            assert "PLATFORMS" in line, line
        if re.match(r"^\s+--[a-z-]*timeout\b", line):
            assert "DURATION" in line, line
