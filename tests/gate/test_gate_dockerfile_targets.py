"""A lock installed by a Dockerfile is judged for that image's Python and libc (issue 8): the
real CLI on a small repository served by the local PEP 691 index, whose numpy 1.26.4 has no
cp38 aarch64 wheel (like PyPI's: numpy 1.26 needs Python >= 3.9)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.audit.index_server import IndexServer
from tests.gate.conftest import GRAVITON, REPO


def gate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GRAVITON, "gate", "--no-cache", "--no-base-images", "--no-images", *args],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(REPO), "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def index() -> object:
    with IndexServer() as server:
        yield server


def test_the_images_python_judges_what_the_dockerfile_installs(
    tmp_path: Path, index: IndexServer
) -> None:
    root = write(
        tmp_path,
        {
            "requirements.txt": "numpy==1.26.4\n",
            "Dockerfile": "FROM python:3.8-slim-bullseye\nCOPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\n",
        },
    )
    proc = gate(root, "-i", index.url, "--format", "text")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "numpy" in proc.stdout and "3.8" in proc.stdout
    proc = gate(root, "-i", index.url, "--format", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    numpy = [p for p in doc["packages"] if p["name"] == "numpy"]
    assert [(p["verdict"], p["python"]) for p in numpy] == [("blocked", "3.8")]
    assert [(t["python"], t["libc_version"]) for t in doc["targets"]] == [("3.8", "2.31")]


def test_a_lock_no_dockerfile_installs_keeps_the_configured_target(
    tmp_path: Path, index: IndexServer
) -> None:
    root = write(
        tmp_path,
        {
            "requirements.txt": "numpy==1.26.4\n",
            # a base image graviton does not know, and a file it does not install
            "Dockerfile": "FROM example.com/own/python:8\nRUN pip install -r other.txt\n",
        },
    )
    proc = gate(root, "-i", index.url, "--python", "3.12", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert [p["python"] for p in doc["packages"]] == ["3.12"]


def test_a_file_installed_from_a_folder_the_walk_skips_is_audited(
    tmp_path: Path, index: IndexServer
) -> None:
    root = write(
        tmp_path,
        {
            "deps/prod.list": "numpy==1.26.4\n",
            "Dockerfile": "FROM python:3.8-alpine\nCOPY deps deps\n"
            "RUN pip install -r deps/prod.list\n",
        },
    )
    proc = gate(root, "-i", index.url, "--format", "json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert [(p["name"], p["python"]) for p in doc["packages"]] == [("numpy", "3.8")]


@pytest.mark.parametrize(
    "dockerfile",
    ["FROM --platform linux/amd64 python:3.12\n", "FROM python:3.12\nINSTAL numpy\n"],
)
def test_a_dockerfile_buildx_would_reject_is_exit_2_not_ok(
    tmp_path: Path, index: IndexServer, dockerfile: str
) -> None:
    root = write(tmp_path, {"Dockerfile": dockerfile, "requirements.txt": "numpy==1.26.4\n"})
    proc = gate(root, "-i", index.url, "--format", "text")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Dockerfile:" in proc.stderr and "buildx would reject" in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "ok" not in proc.stdout


def test_a_platform_fixed_through_an_arg_is_gvd002_in_the_gate(
    tmp_path: Path, index: IndexServer
) -> None:
    root = write(tmp_path, {"Dockerfile": "ARG P=linux/amd64\nFROM --platform=$P python:3.12\n"})
    proc = gate(root, "--format", "json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [(c["rule"], c["line"]) for c in json.loads(proc.stdout)["checks"]] == [("GVD002", 2)]


def test_a_dockerfile_in_a_subfolder_built_from_the_root(
    tmp_path: Path, index: IndexServer
) -> None:
    root = write(
        tmp_path,
        {
            "requirements.txt": "numpy==1.26.4\n",
            "docker/api.Dockerfile": "FROM python:3.8-slim\nCOPY requirements.txt .\n"
            "RUN pip install -r requirements.txt\n",
        },
    )
    proc = gate(root, "-i", index.url, "--format", "json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [p["python"] for p in json.loads(proc.stdout)["packages"]] == ["3.8"]
