"""Can this machine build (and run) the requested platforms?  Checked before ``graviton build``.

Facts are gathered at the edge (docker SDK for the engine, the docker CLI for buildx, which
docker-py cannot drive, and /proc for binfmt); :func:`judge_engine` turns them into findings, each
a one-line error or warning with the fix. An engine that does not answer is not a finding but a
:class:`~graviton.errors.ServiceUnavailable` (exit 3).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graviton.errors import ServiceUnavailable
from graviton.image.model import Finding, Severity

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
AARCH64_MAGIC = "7f454c460201010000000000000000000200b700"  # ELF64 LE, e_machine 0xb7
CONTAINERD_SNAPSHOTTER = "io.containerd.snapshotter"

RULES = {
    "GVE001": "buildx is not installed",
    "GVE002": "the builder does not exist or does not answer",
    "GVE003": "docker driver without the containerd image store cannot build multi-platform",
    "GVE004": "the builder cannot build a requested platform",
    "GVE005": "linux/arm64 is emulated with QEMU (slow)",
    "GVE006": "no QEMU binfmt handler to run arm64 images on this host",
}

QEMU_FIX = (
    "install QEMU binfmt handlers (Debian: apt-get install qemu-user-static binfmt-support) or "
    "add a native arm64 node: docker buildx create --append --name BUILDER --platform "
    "linux/arm64 ssh://user@arm64-host"
)


@dataclass(frozen=True)
class BuilderNode:
    name: str
    status: str
    platforms: tuple[str, ...]  # buildkit lists the node's native platform first


@dataclass(frozen=True)
class BuilderInfo:
    name: str
    driver: str
    nodes: tuple[BuilderNode, ...]

    @property
    def platforms(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for node in self.nodes:
            seen.update(dict.fromkeys(node.platforms))
        return tuple(seen)


@dataclass(frozen=True)
class EngineFacts:
    """What the engine, buildx and the kernel said; plain data for :func:`judge_engine`."""

    engine_version: str
    host_arch: str  # as docker info reports it: x86_64, aarch64
    image_store: str  # docker info driver-type, e.g. io.containerd.snapshotter.v1 ("" if none)
    buildx_version: str | None  # None: the plugin is not installed
    builder: BuilderInfo | None
    builder_error: str | None = None
    binfmt_arm64: bool = False


def parse_inspect(text: str) -> BuilderInfo:
    """Pure: ``docker buildx inspect`` text -> :class:`BuilderInfo`."""
    name = driver = ""
    nodes: list[BuilderNode] = []
    node: dict[str, Any] | None = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep or line.startswith(" "):
            continue
        key, value = key.strip(), value.strip()
        if key == "Name" and node is None and not name:
            name = value
        elif key == "Driver" and node is None:
            driver = value
        elif key == "Name":
            if node is not None:
                nodes.append(_node(node))
            node = {"name": value, "status": "", "platforms": ()}
        elif key == "Status" and node is not None:
            node["status"] = value
        elif key == "Platforms" and node is not None:
            node["platforms"] = tuple(p.strip().rstrip("*") for p in value.split(",") if p.strip())
    if node is not None:
        nodes.append(_node(node))
    return BuilderInfo(name=name, driver=driver, nodes=tuple(nodes))


def _node(data: Mapping[str, Any]) -> BuilderNode:
    return BuilderNode(name=data["name"], status=data["status"], platforms=data["platforms"])


def binfmt_handles_arm64(entries: Mapping[str, str]) -> bool:
    """Pure: is an enabled binfmt_misc entry registered for aarch64 ELF binaries?"""
    for text in entries.values():
        lines = text.splitlines()
        if lines and lines[0].strip() == "enabled" and AARCH64_MAGIC in text.replace(" ", ""):
            return True
    return False


def _norm(platform: str) -> str:
    parts = platform.lower().split("/")
    return "/".join(parts[:2]) if parts[:2] == ["linux", "arm64"] else "/".join(parts)


def _arch(machine: str) -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine.lower(), machine.lower())


def judge_engine(
    facts: EngineFacts,
    platforms: Sequence[str],
    *,
    run_platforms: Iterable[str] = (),
) -> list[Finding]:
    """Pure: findings for building ``platforms`` (and running ``run_platforms`` locally)."""
    out: list[Finding] = []
    if facts.buildx_version is None:
        return [
            Finding(
                "GVE001",
                Severity.ERROR,
                "docker buildx is not installed",
                fix="apt-get install docker-buildx, or put the docker-buildx binary in "
                "~/.docker/cli-plugins/",
            )
        ]
    builder = facts.builder
    if builder is None:
        return [
            Finding(
                "GVE002",
                Severity.ERROR,
                f"buildx builder not usable: {facts.builder_error or 'unknown error'}",
                fix="docker buildx ls; pick one with --builder NAME",
            )
        ]
    multi = len(platforms) > 1
    if multi and builder.driver == "docker" and CONTAINERD_SNAPSHOTTER not in facts.image_store:
        out.append(
            Finding(
                "GVE003",
                Severity.ERROR,
                f"builder {builder.name!r} uses the docker driver and the engine has no "
                "containerd image store: it cannot build multi-platform images",
                fix='set {"features": {"containerd-snapshotter": true}} in '
                "/etc/docker/daemon.json and restart dockerd, or: docker buildx create --use "
                "--driver docker-container",
            )
        )
    can = {_norm(p) for p in builder.platforms}
    for platform in platforms:
        if _norm(platform) not in can:
            out.append(
                Finding(
                    "GVE004",
                    Severity.ERROR,
                    f"builder {builder.name!r} cannot build {platform} "
                    f"(it can: {', '.join(builder.platforms) or 'nothing'})",
                    fix=QEMU_FIX if _norm(platform) == "linux/arm64" else None,
                )
            )
    wants_arm = any(_norm(p) == "linux/arm64" for p in platforms)
    native_arm = _arch(facts.host_arch) == "arm64" and builder.driver == "docker"
    native_arm = native_arm or any(
        n.platforms and _norm(n.platforms[0]) == "linux/arm64" for n in builder.nodes
    )
    if wants_arm and "linux/arm64" in can and not native_arm:
        out.append(
            Finding(
                "GVE005",
                Severity.WARNING,
                "linux/arm64 is built under QEMU emulation: RUN steps are 6-10x slower and can "
                "hang instead of failing",
                fix="add a native arm64 node: docker buildx create --append --name "
                f"{builder.name} --platform linux/arm64 ssh://user@arm64-host",
            )
        )
    runs_arm = any(_norm(p) == "linux/arm64" for p in run_platforms)
    if runs_arm and _arch(facts.host_arch) != "arm64" and not facts.binfmt_arm64:
        out.append(
            Finding(
                "GVE006",
                Severity.ERROR,
                "cannot smoke-run linux/arm64 on this amd64 host: no qemu-aarch64 binfmt "
                "handler is enabled",
                fix="apt-get install qemu-user-static binfmt-support && update-binfmts "
                "--enable qemu-aarch64 (or pass --no-smoke)",
            )
        )
    return out


# -- gathering (I/O) -------------------------------------------------------------------------------
def engine_info() -> tuple[str, str, str]:
    """(version, architecture, image store driver-type) from the docker SDK; exit 3 if none."""
    import docker

    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=15)
        try:
            version = client.version()
            info = client.info()
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        raise ServiceUnavailable(
            f"docker engine unreachable at {host}: {_first_line(exc)} (fix: start dockerd; "
            "for a test engine run, as root: bash scripts/docker-test-env.sh)"
        ) from None
    store = ""
    for item in info.get("DriverStatus") or []:
        if len(item) == 2 and item[0] == "driver-type":
            store = str(item[1])
    return str(version.get("Version", "?")), str(info.get("Architecture", "")), store


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    from graviton.image.buildx import docker_binary

    return subprocess.run(
        [docker_binary(), *args], capture_output=True, text=True, timeout=60, check=False
    )


def read_binfmt(directory: Path = BINFMT_DIR) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        entries = list(directory.iterdir())
    except OSError:
        return out
    for entry in entries:
        if entry.name in ("register", "status"):
            continue
        try:
            out[entry.name] = entry.read_text()
        except OSError:
            continue
    return out


def gather(builder: str | None = None) -> EngineFacts:
    version, arch, store = engine_info()
    bx = _docker("buildx", "version")
    buildx_version = bx.stdout.strip() if bx.returncode == 0 else None
    info: BuilderInfo | None = None
    error: str | None = None
    if buildx_version is not None:
        inspect = _docker("buildx", "inspect", *([builder] if builder else []))
        if inspect.returncode == 0:
            info = parse_inspect(inspect.stdout)
        else:
            error = _first_line(inspect.stderr or inspect.stdout)
    return EngineFacts(
        engine_version=version,
        host_arch=arch,
        image_store=store,
        buildx_version=buildx_version,
        builder=info,
        builder_error=error,
        binfmt_arm64=binfmt_handles_arm64(read_binfmt()),
    )


def check_engine(
    platforms: Sequence[str], *, builder: str | None = None, run_platforms: Iterable[str] = ()
) -> tuple[EngineFacts, list[Finding]]:
    facts = gather(builder)
    return facts, judge_engine(facts, platforms, run_platforms=run_platforms)


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    text = re.sub(r"^ERROR:\s*", "", text)
    return text.splitlines()[0] if text else "no answer"
