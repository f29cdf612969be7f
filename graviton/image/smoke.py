"""Run a command in each platform's image, by digest, under a hard timeout.

QEMU hangs instead of failing ("qemu: uncaught target signal 4"), so the container gets a name and
is removed with ``docker rm -f`` when the timeout fires; killing the client alone would leave it
running.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import uuid
from dataclasses import dataclass

from graviton.errors import UsageError
from graviton.oci.engine import docker_binary

DEFAULT_COMMAND = "uname -m"

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
    if exit_code is None:
        return SmokeResult(
            platform,
            image,
            False,
            tail,
            f"timed out after {timeout:g}s and was killed (QEMU hangs instead of failing)",
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


def run_args(image: str, platform: str, argv: list[str], name: str) -> list[str]:
    """Pure: ``docker run`` arguments that run ``argv`` as the container's command."""
    return [
        "run",
        "--rm",
        "--name",
        name,
        "--platform",
        platform,
        "--pull",
        "missing",
        "--entrypoint",
        argv[0],
        image,
        *argv[1:],
    ]


def smoke(image: str, platform: str, command: str, timeout: float) -> SmokeResult:
    """Run ``command`` in ``image`` (a by-digest reference) for ``platform``."""
    argv = parse_command(command)
    docker = docker_binary()
    name = f"graviton-smoke-{uuid.uuid4().hex[:12]}"
    try:
        proc = subprocess.run(
            [docker, *run_args(image, platform, argv, name)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        subprocess.run(
            [docker, "rm", "--force", name], capture_output=True, timeout=60, check=False
        )
        return judge(platform, image, _text(exc.stdout), None, timeout, _text(exc.stderr))
    return judge(platform, image, proc.stdout, proc.returncode, timeout, proc.stderr)


def _last(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Run 'docker run --help'")]
    return lines[-1][:300] if lines else "no output"


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")
