"""Fixtures for the build tests.

Tests that need the real engine and registry are marked ``docker`` and take the ``docker_env``
fixture: it skips with the reason when the environment of ``scripts/docker-test-env.sh`` is not
there, except under ``CI=true``, where a missing engine is a failure (CI runs the script first).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REGISTRY = os.environ.get("GRAVITON_TEST_REGISTRY", "localhost:5000")
BUSYBOX_DIR = Path(os.environ.get("GRAVITON_BUSYBOX_DIR", "/var/cache/graviton/busybox"))
ARCHES = ("amd64", "arm64")
APPLETS = ("sh", "uname", "sleep", "cat", "echo", "true")


@dataclass(frozen=True)
class DockerEnv:
    registry: str  # host:port of the test registry
    busybox: Path  # <arch>/bin/busybox for amd64 and arm64
    run_id: str  # unique per session: repositories do not collide between runs

    def repo(self, name: str) -> str:
        return f"{self.registry}/graviton-test/{name}-{self.run_id}"


def _missing() -> str | None:
    """Why the docker tests cannot run here, or None."""
    if shutil.which("docker") is None:
        return "no docker CLI"
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
        client.close()
    except Exception as exc:
        return f"no docker engine answers ({type(exc).__name__})"
    probe = subprocess.run(["docker", "buildx", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "docker buildx is not installed"
    try:
        requests.get(f"http://{REGISTRY}/v2/", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        return f"no registry at {REGISTRY} ({type(exc).__name__})"
    for arch in ARCHES:
        if not (BUSYBOX_DIR / arch / "bin" / "busybox").is_file():
            return f"no static busybox for {arch} in {BUSYBOX_DIR}"
    return None


@pytest.fixture(scope="session")
def docker_env() -> DockerEnv:
    reason = _missing()
    if reason is not None:
        message = f"{reason}: run `sudo bash scripts/docker-test-env.sh` to set one up"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the Docker test environment is missing: {message}")
        pytest.skip(message)
    return DockerEnv(registry=REGISTRY, busybox=BUSYBOX_DIR, run_id=uuid.uuid4().hex[:8])


def busybox_context(env: DockerEnv, directory: Path) -> Path:
    """A build context with ``<arch>/bin/{busybox, sh, uname, ...}`` for both architectures."""
    for arch in ARCHES:
        bindir = directory / arch / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(env.busybox / arch / "bin" / "busybox", bindir / "busybox")
        for applet in APPLETS:
            link = bindir / applet
            if not link.is_symlink():
                link.symlink_to("busybox")
    return directory


# COPY-only: no RUN step, so nothing runs under QEMU while building
BUSYBOX_DOCKERFILE = """\
FROM scratch
ARG TARGETARCH
COPY ${TARGETARCH}/bin/ /bin/
CMD ["uname", "-m"]
"""


def graviton(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "graviton.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=900,
        check=False,
    )


@dataclass(frozen=True)
class BuiltImage:
    ref: str  # repository:tag
    context: Path
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def multiarch_image(
    docker_env: DockerEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuiltImage]:
    """One FROM-scratch busybox image for amd64 and arm64, built, pushed, verified and
    smoke-run by ``graviton build --push`` once per session; the tests read its result."""
    context = busybox_context(docker_env, tmp_path_factory.mktemp("busybox"))
    (context / "Dockerfile").write_text(BUSYBOX_DOCKERFILE)
    ref = f"{docker_env.repo('busybox')}:1"
    result = graviton("build", "--push", "-t", ref, str(context))
    yield BuiltImage(ref=ref, context=context, result=result)


@dataclass(frozen=True)
class Terminated:
    returncode: int
    stderr: str
    left: set[str]  # the run's containers still there after graviton ended (removed since)


def sigterm_midway(args: list[str], name_prefix: str) -> Terminated:
    """Run the CLI with ``args``, send SIGTERM once its container (named ``name_prefix-...``)
    exists, and report how graviton ended and which of its containers it left behind."""
    before = containers(name_prefix)
    proc = subprocess.Popen(
        [sys.executable, "-m", "graviton.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not (ours := containers(name_prefix) - before):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.5)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = ours & containers(name_prefix)
    for name in left:  # the old code left it running: do not leave it behind after the test
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, check=False)
    return Terminated(proc.returncode, stderr, left)


def containers(name_prefix: str) -> set[str]:
    """The names of the containers named ``name_prefix-...`` that exist now (any state)."""
    args = ["docker", "ps", "-a", "--filter", f"name={name_prefix}-", "--format", "{{.Names}}"]
    found = subprocess.run(args, capture_output=True, text=True, check=True)
    return set(found.stdout.split())
