"""A registry that fails while ``graviton build --push`` pushes, or while ``graviton verify`` reads
the image back (or pulls it for ``--smoke``): exit 3 with one ``graviton: error:`` line naming the
image and the cause, never a traceback, never exit 0, never exit 1 (a failing result).

The real registry of scripts/docker-test-env.sh sits behind tests/support/registry_proxy.py,
which answers the chosen requests with an HTTP error, drops them or holds them forever.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.image.conftest import (
    BUSYBOX_DOCKERFILE,
    BuiltImage,
    DockerEnv,
    busybox_context,
    graviton,
)
from tests.support.registry_proxy import Action, RegistryProxy

pytestmark = pytest.mark.docker


@pytest.fixture
def proxy(docker_env: DockerEnv) -> Iterator[RegistryProxy]:
    with RegistryProxy(docker_env.registry) as p:
        yield p


@pytest.fixture(scope="module")
def context(docker_env: DockerEnv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = busybox_context(docker_env, tmp_path_factory.mktemp("faults"))
    (directory / "Dockerfile").write_text(BUSYBOX_DOCKERFILE)
    return directory


def _ref(env: DockerEnv, proxy: RegistryProxy, name: str) -> str:
    return f"{proxy.host}/graviton-test/{name}-{env.run_id}:1"


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The run ended with exit 3 and exactly one ``graviton: error:`` line on stderr (buildx's
    progress lines, streamed as ``  | ...``, may come before it), and no traceback."""
    out = result.stdout + result.stderr
    assert result.returncode == 3, out
    assert "Traceback" not in out
    errors = [line for line in result.stderr.splitlines() if line.startswith("graviton:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("graviton: error: ")
    return errors[0]


# -- build --push ----------------------------------------------------------------------------------
def test_the_proxy_alone_changes_nothing(
    docker_env: DockerEnv, proxy: RegistryProxy, context: Path
) -> None:
    """Without a fault the build goes through the proxy as it goes to the registry: what the
    tests below see is the fault's doing."""
    ref = _ref(docker_env, proxy, "clean")
    result = graviton("build", "--push", "-t", ref, str(context))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke linux/arm64: ok, reports arm64" in result.stdout
    assert {"PUT", "POST", "GET"} <= {s.method for s in proxy.seen} and not proxy.injected()


@pytest.mark.parametrize(
    ("methods", "path", "status", "action", "cause"),
    [
        ("PUT", "/manifests/", 500, Action.STATUS, "500 Internal Server Error"),
        ("POST PUT PATCH", "/blobs/uploads/", 500, Action.STATUS, "500 Internal Server Error"),
        ("POST PUT PATCH", "/blobs/uploads/", 502, Action.STATUS, "502 Bad Gateway"),
        ("POST PUT PATCH", "/blobs/uploads/", 503, Action.STATUS, "503 Service Unavailable"),
        ("POST PUT PATCH", "/blobs/uploads/", 401, Action.STATUS, "401 Unauthorized"),
        ("PUT", "/manifests/", 403, Action.STATUS, "403 Forbidden"),
        ("POST PUT PATCH", "/blobs/uploads/", 0, Action.DROP, "EOF"),
    ],
)
def test_registry_failing_the_push_is_exit_3(
    docker_env: DockerEnv,
    proxy: RegistryProxy,
    context: Path,
    methods: str,
    path: str,
    status: int,
    action: Action,
    cause: str,
) -> None:
    proxy.fail(methods, path, status=status, action=action)
    ref = _ref(docker_env, proxy, "pushfail")
    result = graviton("build", "--push", "--no-smoke", "-t", ref, str(context))
    line = _one_error_line(result)
    assert ref in line and "registry error" in line and line.endswith(cause), line
    assert "?_state=" not in line  # the upload session token is noise
    assert proxy.injected(), "the fault never fired: the test proved nothing"


def test_registry_failing_the_push_is_exit_3_on_a_terminal_too(
    docker_env: DockerEnv, proxy: RegistryProxy, context: Path
) -> None:
    """On a terminal buildx draws its own progress; graviton must still read how it ended."""
    proxy.fail("PUT", "/manifests/", status=500)
    ref = _ref(docker_env, proxy, "pushfailtty")
    args = ["build", "--push", "--no-smoke", "-t", ref, str(context)]
    code, screen = _on_a_terminal(args)
    assert code == 3, screen
    assert "\x1b[" in screen  # buildx drew its terminal display, not plain lines
    errors = [line for line in screen.splitlines() if line.startswith("graviton:")]
    assert len(errors) == 1 and ref in errors[0], screen
    assert errors[0].rstrip().endswith("500 Internal Server Error"), errors[0]


def _on_a_terminal(args: list[str]) -> tuple[int, str]:
    """The CLI with stdin, stdout and stderr on a pseudo-terminal: (exit code, all it wrote)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with subprocess.Popen(
        [sys.executable, "-m", "graviton.cli", *args], stdin=slave, stdout=slave, stderr=slave
    ) as proc:
        os.close(slave)
        screen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the CLI and everything it started have closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        os.close(master)
        return proc.wait(timeout=60), screen.decode(errors="replace").replace("\r", "")


def test_registry_failing_the_push_is_exit_3_in_json_too(
    docker_env: DockerEnv, proxy: RegistryProxy, context: Path
) -> None:
    proxy.fail("PUT", "/manifests/", status=500)
    ref = _ref(docker_env, proxy, "pushfailjson")
    result = graviton("build", "--push", "--no-smoke", "--format", "json", "-t", ref, str(context))
    assert ref in _one_error_line(result)
    assert result.stdout == ""  # no document that could be read as a result


def test_registry_failing_the_push_of_bake_is_exit_3(
    docker_env: DockerEnv, proxy: RegistryProxy, context: Path, tmp_path: Path
) -> None:
    proxy.fail("POST PUT PATCH", "/blobs/uploads/", status=503)
    ref = _ref(docker_env, proxy, "bakefail")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.graviton.images.svc]\ncontext = "{context}"\ntags = ["{ref}"]\n'
    )
    result = graviton("build", "--all", "--push", "--no-smoke", cwd=tmp_path)
    line = _one_error_line(result)
    assert line.startswith(f"graviton: error: docker buildx bake --push ({ref}): registry error")
    assert line.endswith("503 Service Unavailable"), line


def test_registry_that_stops_answering_mid_push_is_cancelled_exit_3(
    docker_env: DockerEnv, proxy: RegistryProxy, context: Path
) -> None:
    proxy.fail("PUT", "/manifests/", action=Action.HANG)
    ref = _ref(docker_env, proxy, "pushhang")
    result = graviton(
        "build", "--push", "--no-smoke", "--push-timeout", "5s", "-t", ref, str(context)
    )
    line = _one_error_line(result)
    assert ref in line and "the push made no progress for 5s" in line, line
    assert "stalled at: pushing manifest for" in line, line
    assert [s.outcome for s in proxy.injected()] == ["held"]
    left = subprocess.run(["pgrep", "-f", f"buildx build.*{ref}"], capture_output=True, text=True)
    assert left.stdout == "", "buildx was left running"


def test_failed_run_step_stays_exit_1_even_when_pushing(
    docker_env: DockerEnv, proxy: RegistryProxy, context: Path, tmp_path: Path
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM scratch\nCOPY amd64/bin/ /bin/\n"
        'RUN echo "failed to push: 500 Internal Server Error" && false\n'
    )
    ref = _ref(docker_env, proxy, "runfail")
    result = graviton(
        "build",
        "--push",
        "--no-smoke",
        "--platform",
        "linux/amd64",
        "-f",
        str(dockerfile),
        "-t",
        ref,
        str(context),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "did not complete successfully" in result.stderr
    assert not any(s.method in ("PUT", "POST", "PATCH") for s in proxy.seen)  # nothing pushed


@pytest.mark.parametrize(
    ("agent", "cause"),
    [
        # buildx's docker driver pushes once more "with docker", and that reads the manifest
        (None, "received unexpected HTTP status: 500 Internal Server Error"),
        # graviton's own read-back of the index it just pushed
        ("graviton", "registry answered 500"),
    ],
)
def test_registry_failing_a_read_after_the_push_is_exit_3(
    docker_env: DockerEnv,
    proxy: RegistryProxy,
    context: Path,
    agent: str | None,
    cause: str,
) -> None:
    proxy.fail("GET", "/manifests/", status=500, agent=agent)
    ref = _ref(docker_env, proxy, "readback")
    result = graviton("build", "--push", "--no-smoke", "-t", ref, str(context))
    line = _one_error_line(result)
    assert ref in line and cause in line, line
    assert proxy.injected(), "the fault never fired: the test proved nothing"


# -- verify ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "status", "action", "cause"),
    [
        ("/manifests/1$", 500, Action.STATUS, "answered 500"),
        ("/manifests/sha256:", 502, Action.STATUS, "answered 502"),
        ("/blobs/sha256:", 503, Action.STATUS, "answered 503"),
        ("/manifests/1$", 401, Action.STATUS, "docker login"),
        ("/blobs/sha256:", 403, Action.STATUS, "refused access (403"),
        ("/manifests/1$", 0, Action.DROP, "Remote end closed connection without response"),
        ("/manifests/sha256:", 0, Action.HANG, "Read timed out"),
    ],
)
def test_registry_failing_verify_is_exit_3(
    docker_env: DockerEnv,
    multiarch_image: BuiltImage,
    proxy: RegistryProxy,
    path: str,
    status: int,
    action: Action,
    cause: str,
) -> None:
    assert multiarch_image.result.returncode == 0, multiarch_image.result.stderr
    proxy.fail("GET", path, status=status, action=action)
    ref = multiarch_image.ref.replace(docker_env.registry, proxy.host, 1)
    result = graviton("verify", "--format", "json", ref)
    line = _one_error_line(result)
    repository = ref.rsplit(":", 1)[0]
    assert repository in line and cause in line, line
    assert proxy.injected(), "the fault never fired: the test proved nothing"


def test_registry_failing_the_smoke_pull_is_exit_3(
    docker_env: DockerEnv, multiarch_image: BuiltImage, proxy: RegistryProxy
) -> None:
    """graviton reads with GET; the engine resolves the image it runs with HEAD first."""
    assert multiarch_image.result.returncode == 0, multiarch_image.result.stderr
    proxy.fail("HEAD", "/manifests/sha256:", status=500)
    ref = multiarch_image.ref.replace(docker_env.registry, proxy.host, 1)
    result = graviton("verify", ref, "--smoke")
    line = _one_error_line(result)
    assert "registry error pulling it for the smoke run" in line, line
    assert line.endswith("500 Internal Server Error"), line
