"""Run one command in an image under QEMU user emulation with a chosen CPU model.

One small function so that it can be merged with the "run under emulation" helper of
``graviton/image/`` later. ``QEMU_CPU`` goes in as a container environment variable: binfmt_misc
(registered with the F flag) starts the host's ``qemu-aarch64-static`` with the environment the
container's process was given, and QEMU reads its CPU model from it (the probe reads AT_HWCAP to
prove it). ``--init``: without it the emulated process is PID 1, and after "qemu: uncaught target
signal 4 (Illegal instruction)" the container never exits. The hard timeout removes the container
(``docker rm --force``): killing the client alone would leave it running.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from graviton.errors import GravitonError
from graviton.oci.engine import docker_binary


class Terminated(GravitonError):
    """SIGTERM while the container ran: it was removed, then exit 143."""

    exit_code = 143


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM's default action ends graviton at once and leaves the container running (the
    engine owns it): while it runs, SIGTERM raises :class:`Terminated` instead, so that the
    container is removed. Only the main thread can take signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the removal
        raise Terminated("terminated (SIGTERM): the validate container was removed")

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class Emulated:
    stdout: str
    stderr: str
    exit_code: int | None  # None: the hard timeout fired and the container was removed


def run_emulated(
    image: str,
    platform: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
) -> Emulated:
    """``docker run --rm --init`` ``argv`` (``argv[0]`` as the entrypoint) in ``image`` for
    ``platform`` with ``env``; the container is removed when ``timeout`` seconds pass."""
    docker = docker_binary()
    name = f"graviton-validate-{uuid.uuid4().hex[:12]}"
    args = [docker, "run", "--rm", "--init", "--name", name, "--platform", platform]
    args += ["--pull", "missing", "--ulimit", "core=0", "--entrypoint", argv[0]]
    for key, value in env.items():
        args += ["--env", f"{key}={value}"]
    args += [image, *argv[1:]]
    with _sigterm_raises():  # held until the container is removed, too
        try:
            proc = subprocess.run(
                args,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            _remove(docker, name)
            return Emulated(_decoded(exc.stdout), _decoded(exc.stderr), None)
        except BaseException:  # Ctrl-C, SIGTERM: the container must not outlive graviton
            _remove(docker, name)
            raise
    return Emulated(proc.stdout, proc.stderr, proc.returncode)


def _remove(docker: str, name: str) -> None:
    subprocess.run([docker, "rm", "--force", name], capture_output=True, timeout=60, check=False)


def _decoded(output: bytes | str | None) -> str:
    """TimeoutExpired keeps bytes even when the run asked for text."""
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""
