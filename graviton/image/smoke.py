"""Run a command in each platform's image, by digest: does it start, and does it say the
architecture it should?  The run itself (``docker run --init``, a hard timeout that removes the
container) is :func:`graviton.image.emulated.run_emulated`'s.
"""

from __future__ import annotations

import re
import shlex
import signal
from dataclasses import dataclass

from graviton.errors import UsageError
from graviton.image.emulated import RunResult, run_emulated
from graviton.image.failure import FailureKind, RegistryFailed, classify, tidy

DEFAULT_COMMAND = "uname -m"
# when the image has no uname: its Python says the machine as uname -m does
PYTHON_MACHINE = tuple(
    [python, "-c", "import platform; print(platform.machine())"] for python in ("python3", "python")
)
NO_ARCH_PROGRAM = (
    "the image has neither uname nor python3 to print its architecture: pass --smoke 'CMD' "
    "with a program the image has (its entrypoint binary with --version, say), or --no-smoke"
)

# what ``uname -m`` (and friends) print for each architecture
MACHINES: dict[str, tuple[str, ...]] = {
    "amd64": ("x86_64", "amd64"),
    "arm64": ("aarch64", "arm64", "armv8"),
    "arm": ("armv7l", "armv6l", "armhf", "arm"),
    "386": ("i686", "i386"),
    "ppc64le": ("ppc64le",),
    "s390x": ("s390x",),
    "riscv64": ("riscv64",),
}


@dataclass(frozen=True)
class SmokeResult:
    platform: str
    image: str  # the reference that ran: repository@sha256:...
    ok: bool
    output: str  # last lines of stdout+stderr
    message: str
    exit_code: int | None = None  # None when it timed out

    def to_json(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "image": self.image,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "output": self.output,
            "message": self.message,
        }


def parse_command(text: str) -> list[str]:
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"--smoke: cannot parse {text!r}: {exc}") from None
    if not argv:
        raise UsageError("--smoke: empty command")
    return argv


def judge(
    platform: str,
    image: str,
    output: str,
    exit_code: int | None,
    timeout: float,
    stderr: str = "",
) -> SmokeResult:
    """Pure: did the run succeed, and does the architecture it printed match ``platform``?

    The command must exit 0. The words it prints are compared with each architecture's
    ``uname -m`` names: it must name ``platform``'s and no other. A command that names no
    architecture at all passes on its exit status alone (the config check proved the platform).
    Only ``output`` (stdout) is read for architectures: docker's own stderr warns about platform
    mismatches with both names in it.
    """
    tail = "\n".join((output.strip() or stderr.strip()).splitlines()[-5:])
    run = RunResult(exit_code, output, stderr, timeout)
    if exit_code is None:
        return SmokeResult(
            platform, image, False, tail, f"{run.describe()} (QEMU hangs instead of failing)"
        )
    if run.signal is signal.SIGILL:
        return SmokeResult(
            platform,
            image,
            False,
            tail,
            f"{run.describe()}: the program uses an instruction this CPU (or QEMU's model of "
            f"it) lacks, e.g. built for a newer CPU: {_last(output + stderr)}",
            exit_code=exit_code,
        )
    if run.signal is not None:
        return SmokeResult(
            platform,
            image,
            False,
            tail,
            f"{run.describe()}: {_last(output + stderr)}",
            exit_code=exit_code,
        )
    if exit_code != 0:
        exec_format = "exec format" in output + stderr
        hint = " (exec format error: no binfmt handler for it?)" if exec_format else ""
        return SmokeResult(
            platform,
            image,
            False,
            tail,
            f"exited {exit_code}{hint}: {_last(output + stderr)}",
            exit_code=exit_code,
        )
    arch = platform.split("/")[1] if "/" in platform else platform
    words = set(re.findall(r"[a-z0-9_]+", output.lower()))
    seen = {a for a, names in MACHINES.items() if words & set(names)}
    if arch in seen and len(seen) == 1:
        return SmokeResult(platform, image, True, tail, f"reports {arch}", exit_code=0)
    if not seen:
        return SmokeResult(
            platform, image, True, tail, "exit 0 (no architecture printed)", exit_code=0
        )
    return SmokeResult(
        platform,
        image,
        False,
        tail,
        f"reports {', '.join(sorted(seen))}, expected {arch}",
        exit_code=0,
    )


def smoke(image: str, platform: str, command: str, timeout: float) -> SmokeResult:
    """Run ``command`` in ``image`` (a by-digest reference) for ``platform``. The default
    ``uname -m`` falls back to the image's Python when the image has no ``uname`` (distroless,
    FROM scratch + python)."""
    argv = parse_command(command)
    run = run_emulated(image, platform, argv, timeout, name_prefix="graviton-smoke")
    _registry_failure(image, platform, run)
    if command == DEFAULT_COMMAND and run.command_not_found:
        for fallback in PYTHON_MACHINE:
            run = run_emulated(image, platform, fallback, timeout, name_prefix="graviton-smoke")
            if not run.command_not_found:
                break
        else:
            return SmokeResult(platform, image, False, "", NO_ARCH_PROGRAM)
    return judge(platform, image, run.stdout, run.exit_code, timeout, run.stderr)


def _registry_failure(image: str, platform: str, run: RunResult) -> None:
    """Raise when the run never started because the engine could not pull the image from its
    registry (docker run's own exit 125): nothing about the image is known, exit 3."""
    if run.exit_code != 125:
        return
    reason = _last(run.stderr, limit=None)
    if classify(reason) is FailureKind.REGISTRY:
        raise RegistryFailed(
            f"{image}: registry error pulling it for the smoke run ({platform}): {tidy(reason)}"
        )


def _last(text: str, limit: int | None = 300) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Run 'docker run --help'")]
    return lines[-1][:limit] if lines else "no output"
