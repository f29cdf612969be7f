"""A fixture repository for the gate, served by a real PEP 691 index and a real OCI registry on
127.0.0.1: a blocked pin (shioaji 1.2.5), a Dockerfile with an x86 download, a multi-arch image
and an amd64-only one, and lock files in folders the gate must skip."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.audit.index_server import IndexServer
from tests.image.registry_server import RegistryServer

REPO = Path(__file__).resolve().parents[2]
GRAVITON = [sys.executable, "-m", "graviton.cli"]


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        yield server


def add_multiarch(registry: RegistryServer, repo: str, tag: str, arches: tuple[str, ...]) -> None:
    children = []
    for arch in arches:
        digest = registry.add_image(repo, "linux", arch)
        children.append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": 1,
                "platform": {"os": "linux", "architecture": arch},
            }
        )
    registry.add_index(repo, tag, children)


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    with RegistryServer() as server:
        add_multiarch(server, "library/python", "3.12-slim", ("amd64", "arm64"))
        add_multiarch(server, "acme/api", "1.0", ("amd64", "arm64"))
        add_multiarch(server, "acme/worker", "1.0", ("amd64",))
        yield server


@dataclass(frozen=True)
class Fixture:
    root: Path
    index: IndexServer
    registry: RegistryServer

    def image(self, name: str) -> str:
        return f"{self.registry.host}/{name}"

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            k: v
            for k, v in os.environ.items()
            if k not in ("GITHUB_STEP_SUMMARY", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")
            and not k.startswith("AWS_")
        }
        return {
            **base,
            "PYTHONPATH": str(REPO),
            "DOCKER_CONFIG": str(self.root.parent / "docker-config"),
            "NO_COLOR": "1",
            **extra,
        }

    def gate(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """``graviton gate ARGS`` in the fixture repository, as CI runs it."""
        return subprocess.run(
            [*GRAVITON, "gate", *args],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=self.env(**env),
            timeout=120,
            check=False,
        )


API_REQUIREMENTS = """\
# pinned by pip-compile
shioaji==1.2.5
numpy==1.26.4
requests==2.32.3
"""

API_DOCKERFILE = """\
FROM {registry}/library/python:3.12-slim
ARG TARGETARCH
RUN curl -fsSL -o /usr/local/bin/tool https://example.com/tool-linux-amd64
COPY requirements.txt .
"""

WORKER_DOCKERFILE = """\
FROM {registry}/library/python:3.12-slim
ARG TARGETARCH
RUN curl -fsSL -o /usr/local/bin/tool https://example.com/tool-linux-${{TARGETARCH}}
"""

PYPROJECT = """\
[project]
name = "trading-platform"
version = "1.0.0"
dependencies = []

[tool.graviton.audit]
python = ["3.11"]
glibc = "2.28"
index-url = "{index}"

[tool.graviton.gate]
images = ["{registry}/acme/api:1.0", "{registry}/acme/worker:1.0"]
"""


def write_repo(root: Path, index: IndexServer, registry: RegistryServer) -> Path:
    files = {
        "pyproject.toml": PYPROJECT.format(index=index.url, registry=registry.host),
        "services/api/requirements.txt": API_REQUIREMENTS,
        "services/api/Dockerfile": API_DOCKERFILE.format(registry=registry.host),
        "services/worker/requirements.txt": "requests==2.32.3\n",
        "services/worker/Dockerfile": WORKER_DOCKERFILE.format(registry=registry.host),
        # never read: a virtualenv, node_modules, build output, a hidden folder
        ".venv/lib/requirements.txt": "shioaji==1.2.5\n",
        "node_modules/pkg/requirements.txt": "shioaji==1.2.5\n",
        "build/lib/Dockerfile": "FROM --platform=linux/amd64 scratch\n",
        ".devcontainer/Dockerfile": "FROM --platform=linux/amd64 scratch\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / ".git").mkdir()
    return root


@pytest.fixture
def repo(tmp_path: Path, index: IndexServer, registry: RegistryServer) -> Fixture:
    root = write_repo(tmp_path / "repo", index, registry)
    return Fixture(root, index, registry)
