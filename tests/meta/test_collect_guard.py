"""The suite guards itself: a test file pytest does not collect fails a whole-suite run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.pytest.ini_options]
            testpaths = ["tests"]
            """
        )
    )
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text('pytest_plugins = ["tests.support.collect_guard"]\n')
    (tests / "test_ok.py").write_text("def test_ok():\n    pass\n")
    return tests


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": f"{REPO}", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_file_in_a_build_folder_fails_the_run(tmp_path: Path) -> None:
    tests = _project(tmp_path)
    (tests / "build").mkdir()
    (tests / "build" / "test_lost.py").write_text("def test_lost():\n    pass\n")
    done = _pytest(tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "tests/build/test_lost.py" in done.stdout + done.stderr


def test_every_file_collected_passes(tmp_path: Path) -> None:
    tests = _project(tmp_path)
    (tests / "fixtures").mkdir()
    (tests / "fixtures" / "test_data.py").write_text("x = 1\n")  # fixtures are not tests
    done = _pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("marker", ["-m", "-k"])
def test_a_filter_is_not_a_lost_file(tmp_path: Path, marker: str) -> None:
    tests = _project(tmp_path)
    (tests / "test_other.py").write_text("def test_other():\n    pass\n")
    done = _pytest(tmp_path, marker, "nothing_matches_this")
    assert done.returncode == 5, done.stdout + done.stderr  # no tests ran, but no guard error


def test_this_suite_collects_every_file() -> None:
    from tests.support.collect_guard import expected_files

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected = {
        (REPO / line.split("::")[0]).resolve() for line in done.stdout.splitlines() if "::" in line
    }
    assert expected_files([REPO / "tests"]) <= collected
