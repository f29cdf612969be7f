"""Run a command in one platform's variant of an image, the way every emulated run must go.

* ``docker run --init``: without an init process the emulated program is PID 1, and after
  "qemu: uncaught target signal 4 (Illegal instruction)" QEMU's attempt to die of that signal is
  ignored (the kernel drops default-action signals to PID 1): the container never exits. With
  ``--init`` it exits 132 (128 + SIGILL) at once.
* a hard timeout all the same (QEMU can hang for other reasons): the container has a name and is
  removed with ``docker rm --force`` when the timeout fires or the run is interrupted (Ctrl-C, or
  SIGTERM, whose default action would end graviton at once and leave the container running: the
  engine owns it); killing the docker client alone would leave it running.
* ``--ulimit core=0`` (a crash under QEMU writes no core file into the container) and no stdin.
* ``QEMU_CPU`` (validate's CPU model) goes in as a container environment variable: binfmt_misc
  (registered with the F flag) starts the host's ``qemu-aarch64-static`` with the environment the
  container's process was given.

The one function that runs a container under emulation: the build's smoke run and
``graviton validate`` both use :func:`run_emulated`.
"""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graviton.interrupts import Terminated, shield
from graviton.oci.engine import docker_binary

# docker run's own failures (not the command's): 125 docker, 126 cannot invoke, 127 not found
DOCKER_RUN_ERRORS = (125, 126, 127)


@dataclass(frozen=True)
class RunResult:
    """How one run ended. ``exit_code`` is None when it timed out (the container was removed)."""

    exit_code: int | None
    stdout: str
    stderr: str
    timeout: float

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None

    @property
    def signal(self) -> signal.Signals | None:
        """The signal that ended the command (docker reports 128 + N, as a shell does)."""
        if self.exit_code is None or not 128 < self.exit_code < 128 + 65:
            return None
        try:
            return signal.Signals(self.exit_code - 128)
        except ValueError:
            return None

    @property
    def command_not_found(self) -> bool:
        """The image has no such program (runc's "executable file not found")."""
        text = self.stderr.lower()
        return self.exit_code in (126, 127) and (
            "executable file not found" in text or "no such file or directory" in text
        )

    def describe(self) -> str:
        """One phrase for how it ended: "exit 0", "illegal instruction (SIGILL)", ..."""
        if self.exit_code is None:
            return f"timed out after {self.timeout:g}s and was killed"
        sig = self.signal
        if sig is None:
            return f"exited {self.exit_code}"
        return f"{SIGNAL_WORDS.get(sig, 'killed by signal')} ({sig.name})"


SIGNAL_WORDS = {
    signal.SIGILL: "illegal instruction",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGABRT: "aborted",
    signal.SIGFPE: "floating-point exception",
    signal.SIGKILL: "killed",
}


def run_args(
    image: str, platform: str, argv: Sequence[str], name: str, env: Mapping[str, str] | None = None
) -> list[str]:
    """Pure: the arguments after ``docker`` that run ``argv`` as the container's command."""
    env_args = [arg for key, value in (env or {}).items() for arg in ("--env", f"{key}={value}")]
    return [
        "run",
        "--rm",
        "--init",
        "--name",
        name,
        "--platform",
        platform,
        "--pull",
        "missing",
        "--ulimit",
        "core=0",
        *env_args,
        "--entrypoint",
        argv[0],
        image,
        *argv[1:],
    ]


def run_emulated(
    image: str,
    platform: str,
    argv: Sequence[str],
    timeout: float,
    env: Mapping[str, str] | None = None,
    *,
    name_prefix: str = "graviton-run",
) -> RunResult:
    """Run ``argv`` in ``image`` (best a by-digest reference) for ``platform`` under
    ``docker run --init``; after ``timeout`` seconds (or on Ctrl-C) the container is removed.
    The container is named ``<name_prefix>-<random>``."""
    docker = docker_binary()
    name = f"{name_prefix}-{uuid.uuid4().hex[:12]}"
    try:
        proc = subprocess.run(
            [docker, *run_args(image, platform, argv, name, env)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        _remove(docker, name)
        return RunResult(None, _text(exc.stdout), _text(exc.stderr), timeout)
    except BaseException as exc:  # Ctrl-C, SIGTERM (graviton.interrupts): remove the container
        shield()
        _remove(docker, name)
        if isinstance(exc, Terminated) and not exc.note:
            raise Terminated("the emulated container was removed") from None
        raise
    return RunResult(proc.returncode, proc.stdout, proc.stderr, timeout)


def _remove(docker: str, name: str) -> None:
    subprocess.run([docker, "rm", "--force", name], capture_output=True, timeout=60, check=False)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")
