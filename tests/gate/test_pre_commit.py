""".pre-commit-hooks.yaml: it parses, its file patterns pick the right files, its hooks run."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests.gate.conftest import REPO, Fixture


def hooks() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(doc, list)
    return {hook["id"]: hook for hook in doc}


AUDIT_FILES = [
    "requirements.txt",
    "requirements-dev.txt",
    "requirements.in",
    "services/api/requirements/prod.txt",
    "uv.lock",
    "services/api/poetry.lock",
    "Pipfile.lock",
    "pylock.toml",
    "pylock.dev.toml",
    "pyproject.toml",
    "libs/core/pyproject.toml",
]
OTHER_FILES = ["README.md", "app.py", "setup.cfg", "pylock.toml.bak", "Dockerfile", "docs/x.txt"]


@pytest.mark.parametrize("path", AUDIT_FILES)
def test_audit_hook_triggers_on_lock_and_requirements_files(path: str) -> None:
    assert re.search(hooks()["graviton-audit"]["files"], path) is not None


@pytest.mark.parametrize("path", OTHER_FILES)
def test_audit_hook_ignores_other_files(path: str) -> None:
    assert re.search(hooks()["graviton-audit"]["files"], path) is None


def test_gate_hook_also_triggers_on_dockerfiles() -> None:
    pattern = hooks()["graviton-gate"]["files"]
    for path in ("Dockerfile", "svc/Dockerfile.prod", "svc/api.Dockerfile", "uv.lock"):
        assert re.search(pattern, path), path
    assert re.search(pattern, "docs/Dockerfiles.md") is None


@pytest.mark.parametrize("hook_id", ["graviton-audit", "graviton-gate"])
def test_hooks_run_in_the_fixture_repository(repo: Fixture, hook_id: str) -> None:
    hook = hooks()[hook_id]
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    argv = shlex.split(hook["entry"])
    assert argv[0] == "graviton"
    proc = subprocess.run(
        [sys.executable, "-m", "graviton.cli", *argv[1:]],
        cwd=repo.root,
        env=repo.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # shioaji 1.2.5 is blocked
    assert "shioaji==1.2.5  py3.11  blocked" in proc.stdout
    assert repo.registry.host + "/acme" not in proc.stdout  # no image is read
    assert ("GVD003" in proc.stdout) == (hook_id == "graviton-gate")
