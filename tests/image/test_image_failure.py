"""Pure: which buildx failures are the registry's (exit 3) and which the build's (exit 1), and
which build steps are pushing. The lines are buildx 0.13's, as the docker driver printed them
on this machine (tests/image/test_image_registry_faults.py drives the same through a real
registry)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graviton.image import buildx
from graviton.image.failure import FailureKind, PushWatch, RegistryFailed, classify, tidy

REF = "127.0.0.1:40743/graviton-test/p500:1"
PUSH = f"failed to solve: failed to push {REF}: "


@pytest.mark.parametrize(
    "reason",
    [
        PUSH + 'failed commit on ref "manifest-sha256:88d7": unexpected status from PUT request '
        "to http://127.0.0.1:40743/v2/graviton-test/p500/manifests/sha256:88d7: "
        "500 Internal Server Error",
        PUSH + "unexpected status from POST request to "
        "http://127.0.0.1:40743/v2/graviton-test/p500/blobs/uploads/: 503 Service Unavailable",
        PUSH + "unexpected status from POST request to "
        "http://127.0.0.1:40743/v2/graviton-test/p500/blobs/uploads/: 401 Unauthorized",
        PUSH + "unexpected status from POST request to "
        "http://127.0.0.1:40743/v2/graviton-test/p500/blobs/uploads/: 403 Forbidden",
        PUSH + 'failed to do request: Post "https://127.0.0.1:40743/v2/p500/blobs/uploads/": EOF',
        PUSH + 'failed to do request: Head "https://127.0.0.1:40743/v2/p500/blobs/sha256:84": '
        "tls: first record does not look like a TLS handshake",
        # a base image whose registry is down or refuses: nothing about the build is known
        "failed to solve: registry.example.com/base:1: failed to resolve source metadata for "
        'registry.example.com/base:1: failed to do request: Head "https://registry.example.com/'
        'v2/base/manifests/1": dial tcp 10.0.0.1:443: connect: connection refused',
        "failed to solve: registry.example.com/base:1: failed to resolve source metadata for "
        "registry.example.com/base:1: pull access denied, repository does not exist or may "
        "require authorization: server message: insufficient_scope: authorization failed",
        "failed to solve: failed to fetch anonymous token: unexpected status: 502 Bad Gateway",
        "failed to solve: denied: requested access to the resource is denied",
    ],
)
def test_registry_failures_are_the_registrys(reason: str) -> None:
    assert classify(reason) is FailureKind.REGISTRY


@pytest.mark.parametrize(
    "reason",
    [
        'failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1',
        # a RUN step is the build's, whatever its own command line says
        'failed to solve: process "/bin/sh -c curl -f http://x/ || echo failed to push: 500 '
        'Internal Server Error connection refused" did not complete successfully: exit code: 22',
        "failed to solve: failed to compute cache key: failed to calculate checksum of ref "
        'abc::def: "/missing.txt": not found',
        "failed to solve: localhost:5000/nothing:here: failed to resolve source metadata for "
        "localhost:5000/nothing:here: localhost:5000/nothing:here: not found",
        "failed to solve: dockerfile parse error on line 2: unknown instruction: RUNN",
        "failed to solve: error from sender: open /ctx/secret: permission denied",
        "see the output above",
    ],
)
def test_build_failures_stay_the_builds(reason: str) -> None:
    assert classify(reason) is FailureKind.BUILD


def test_tidy_drops_the_solve_prefix_and_upload_state() -> None:
    reason = (
        PUSH + "unexpected status from PUT request to http://127.0.0.1:1/v2/p/blobs/uploads/"
        "d7b5?_state=LALPL96j%3D&digest=sha256%3A1055: 500 Internal Server Error"
    )
    assert tidy(reason) == (
        f"failed to push {REF}: unexpected status from PUT request to "
        "http://127.0.0.1:1/v2/p/blobs/uploads/d7b5: 500 Internal Server Error"
    )
    assert tidy("docker: Error response from daemon: failed to resolve reference") == (
        "failed to resolve reference"
    )


def test_push_watch_follows_push_steps_until_they_end() -> None:
    watch = PushWatch()
    for line in ("#6 [linux/amd64 1/1] COPY amd64/bin/ /bin/", "#7 exporting to image"):
        watch.feed(line)
    assert watch.current is None  # building and exporting: not pushing
    watch.feed("#7 pushing layers")
    assert watch.current == "pushing layers"
    watch.feed("#7 pushing layers 60.4s done")
    watch.feed(f"#7 pushing manifest for {REF}@sha256:6b36")
    assert watch.current == f"pushing manifest for {REF}@sha256:6b36"
    watch.feed("#7 DONE 61.2s")
    assert watch.current is None
    watch.feed(f"#8 pushing {REF} with docker")  # the docker driver's own push
    assert watch.current == f"pushing {REF} with docker"
    watch.feed("#8 CANCELED")
    assert watch.current is None
    watch.feed("ERROR: failed to solve: Canceled: context canceled")
    assert watch.current is None


# a stand-in for the docker CLI: prints buildx-like progress, then what the test asks for
FAKE_BUILDX = """\
import os, signal, sys, time
mode = sys.argv[-1]
if os.environ.get("FAKE_PIDFILE"):
    with open(os.environ["FAKE_PIDFILE"], "w") as f:
        f.write(str(os.getpid()))
def cancelled(*_):
    print("#7 CANCELED", flush=True)
    print("ERROR: failed to solve: Canceled: context canceled", flush=True)
    sys.exit(1)
signal.signal(signal.SIGINT, signal.SIG_IGN if mode == "deaf" else cancelled)
print("#7 exporting to image", flush=True)
if mode == "silent-build":  # a long silent step that is not a push: never cancelled
    time.sleep(3)
    print("#7 DONE 3.0s", flush=True)
    sys.exit(0)
print("#7 pushing layers", flush=True)
if mode == "slow-push":  # each phase well inside the limit
    for phase in ("pushing layers 1.5s done", "pushing manifest for r/a:1@sha256:ab"):
        time.sleep(1.5)
        print("#7 " + phase, flush=True)
    print("#7 DONE 3.0s", flush=True)
    sys.exit(0)
if mode == "step-failed":
    print('ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: '
          "exit code: 1", flush=True)
    sys.exit(1)
if mode == "refused":
    print("ERROR: failed to solve: failed to push r/a:1: unexpected status from POST request "
          "to http://r/v2/a/blobs/uploads/: 500 Internal Server Error", flush=True)
    sys.exit(1)
time.sleep(600)
"""


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "fake-docker"
    script.write_text(f"#!{sys.executable}\n{FAKE_BUILDX}")
    script.chmod(0o755)
    monkeypatch.setenv("GRAVITON_DOCKER", str(script))
    monkeypatch.setattr(buildx, "_CANCEL_GRACE", 2.0)
    return script


def _run(mode: str, push_timeout: float = 2.0, *, terminal: bool = False) -> list[str]:
    lines: list[str] = []
    buildx._run(
        ["buildx", "build", mode],
        None if terminal else lines.append,
        "docker buildx build --push",
        ["r/a:1"],
        push_timeout,
    )
    return lines


@pytest.mark.parametrize("mode", ["stall", "deaf"])
def test_a_silent_push_is_cancelled_as_a_registry_error(fake_docker: Path, mode: str) -> None:
    started = time.monotonic()
    with pytest.raises(RegistryFailed) as info:
        _run(mode)
    assert info.value.exit_code == 3
    assert str(info.value) == (
        "docker buildx build --push (r/a:1): registry error: the push made no progress for 2s "
        "(stalled at: pushing layers); cancelled (raise --push-timeout for a slow link)"
    )
    # cancelled at once with SIGINT; one that ignores it is killed after the grace period
    assert time.monotonic() - started < (10 if mode == "stall" else 14)


def test_silence_outside_a_push_and_a_slow_push_are_not_stalls(fake_docker: Path) -> None:
    assert _run("silent-build")[-1] == "#7 DONE 3.0s"
    assert _run("slow-push")[-1] == "#7 DONE 3.0s"


def test_a_refused_push_is_a_registry_error_with_buildx_reason(fake_docker: Path) -> None:
    with pytest.raises(
        RegistryFailed,
        match=r"\(r/a:1\): registry error: failed to push r/a:1: "
        r"unexpected status .*: 500 Internal Server Error$",
    ):
        _run("refused")


@pytest.mark.parametrize("terminal", [False, True])
def test_failed_step_stays_a_build_failure(fake_docker: Path, terminal: bool) -> None:
    with pytest.raises(buildx.BuildFailed) as info:
        _run("step-failed", terminal=terminal)
    assert info.value.exit_code == 1 and "did not complete successfully" in str(info.value)


def test_on_a_terminal_buildx_draws_and_graviton_still_reads_the_error(
    fake_docker: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """On a terminal buildx runs on a pseudo-terminal (it draws its own progress); its output
    reaches our stderr as it is, and its ERROR line still decides the exit code."""
    with pytest.raises(RegistryFailed, match=r"registry error: .*500 Internal Server Error$"):
        _run("refused", terminal=True)
    assert "#7 pushing layers" in capfd.readouterr().err


@pytest.mark.parametrize("terminal", [False, True])
def test_sigterm_cancels_the_build_it_runs(
    fake_docker: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    """SIGTERM (a CI cancel) mid-push: buildx is cancelled too, not left building and pushing
    in the engine after graviton is gone."""
    pidfile = tmp_path / "buildx.pid"
    monkeypatch.setenv("FAKE_PIDFILE", str(pidfile))
    code = (
        "import sys\n"
        "from graviton.image import buildx\n"
        "from graviton.interrupts import Terminated, sigterm_raises\n"
        "try:\n"
        "    with sigterm_raises():\n"
        f"        buildx._run(['buildx', 'build', 'stall'], {'None' if terminal else 'print'},"
        " 'docker buildx build --push', ['r/a:1'], 600)\n"
        "except Terminated:\n"
        "    sys.exit(143)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    buildx_pid = int(pidfile.read_text())
    try:
        assert proc.wait(timeout=60) == 143
        with pytest.raises(ProcessLookupError):
            os.kill(buildx_pid, 0)
    finally:  # never leave the stand-in behind when the test fails
        with contextlib.suppress(ProcessLookupError):
            os.kill(buildx_pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
