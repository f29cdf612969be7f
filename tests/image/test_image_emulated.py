"""The smoke run under emulation, against the real engine, QEMU and registry: a SIGILL ends the
run at once (``docker run --init``) and is named; an image without ``uname`` is asked through its
Python, and an image with neither gets one line saying what to pass."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from graviton.image.emulated import run_emulated
from tests.image.conftest import ARCHES, BuiltImage, DockerEnv, graviton, sigterm_midway

pytestmark = pytest.mark.docker

# a "python3" that answers as CPython's platform.machine() does, for a FROM scratch image
FAKE_PYTHON = "#!/bin/sh\nexec /bin/busybox uname -m\n"
NO_UNAME_DOCKERFILE = """\
FROM scratch
ARG TARGETARCH
COPY ${TARGETARCH}/bin/ /bin/
"""


def _push(env: DockerEnv, directory: Path, name: str, with_python: bool) -> str:
    """A FROM scratch image for both platforms with busybox and sh but no uname (and, when
    ``with_python``, a python3 on the PATH). COPY only: nothing runs under QEMU to build it."""
    for arch in ARCHES:
        bindir = directory / arch / "bin"
        bindir.mkdir(parents=True)
        shutil.copy2(env.busybox / arch / "bin" / "busybox", bindir / "busybox")
        (bindir / "sh").symlink_to("busybox")
        if with_python:
            (bindir / "python3").write_text(FAKE_PYTHON)
            (bindir / "python3").chmod(0o755)
    (directory / "Dockerfile").write_text(NO_UNAME_DOCKERFILE)
    ref = f"{env.repo(name)}:1"
    result = graviton("build", "--push", "--no-smoke", "-t", ref, str(directory))
    assert result.returncode == 0, result.stdout + result.stderr
    return ref


def test_an_image_without_uname_is_asked_through_its_python(
    docker_env: DockerEnv, tmp_path: Path
) -> None:
    ref = _push(docker_env, tmp_path, "nouname", with_python=True)
    result = graviton("verify", ref, "--smoke", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    smoke = json.loads(result.stdout)["images"][0]["smoke"]
    assert [(s["platform"], s["ok"], s["message"]) for s in smoke] == [
        ("linux/amd64", True, "reports amd64"),
        ("linux/arm64", True, "reports arm64"),
    ]


def test_an_image_without_uname_or_python_says_what_to_pass(
    docker_env: DockerEnv, tmp_path: Path
) -> None:
    ref = _push(docker_env, tmp_path, "noarchprog", with_python=False)
    result = graviton("verify", ref, "--platform", "linux/amd64", "--smoke")
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = [x for x in result.stdout.splitlines() if "smoke linux/amd64" in x and "FAIL" in x]
    assert "neither uname nor python3" in line and "--smoke 'CMD'" in line
    assert "runc" not in result.stdout


def test_sigill_under_emulation_ends_the_run_and_is_named(multiarch_image: BuiltImage) -> None:
    """Under QEMU an uncaught SIGILL in a PID-1 program never ends the container; with --init
    it exits 132 at once, and the smoke run says so instead of waiting for its timeout."""
    assert multiarch_image.result.returncode == 0, multiarch_image.result.stdout
    result = graviton(
        "verify",
        multiarch_image.ref,
        "--platform",
        "linux/arm64",
        "--smoke",
        "sh -c 'kill -ILL $$'",
        "--smoke-timeout",
        "90s",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "smoke linux/arm64: FAIL, illegal instruction (SIGILL)" in result.stdout
    assert "timed out" not in result.stdout


def test_run_emulated_removes_the_container_after_its_timeout(
    multiarch_image: BuiltImage,
) -> None:
    ref = multiarch_image.ref
    run = run_emulated(ref, "linux/arm64", ["sleep", "600"], 3, name_prefix="graviton-t-emu")
    assert run.timed_out and run.describe() == "timed out after 3s and was killed"
    left = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", "name=graviton-t-emu-"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert left.stdout.strip() == ""
    run = run_emulated(
        ref, "linux/arm64", ["sh", "-c", "echo $GRAVITON_X"], 120, {"GRAVITON_X": "y"}
    )
    assert (run.exit_code, run.stdout.strip()) == (0, "y")


def test_sigterm_during_a_smoke_run_removes_its_container_and_exits_143(
    multiarch_image: BuiltImage,
) -> None:
    """The smoke run shares validate's runner: SIGTERM's default action used to end graviton
    and leave the emulated container running (the engine owns it)."""
    args = ["verify", multiarch_image.ref, "--platform", "linux/arm64", "--smoke", "sleep 600"]
    ended = sigterm_midway([*args, "--smoke-timeout", "15m"], "graviton-smoke")
    assert ended.returncode == 143, ended.stderr
    assert ended.stderr.strip().count("\n") == 0 and "SIGTERM" in ended.stderr
    assert not ended.left
