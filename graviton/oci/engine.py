"""The local docker engine, buildx and the kernel's binfmt handlers, as facts.

The docker SDK answers for the engine; buildx is run as the docker CLI plugin (docker-py cannot
drive it); /proc answers for binfmt_misc. An engine that does not answer is a
:class:`~graviton.errors.ServiceUnavailable` (exit 3), never a fact.
:func:`graviton.checks.engine.judge_engine` turns the facts into findings.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graviton.errors import ServiceUnavailable

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
AARCH64_MAGIC = "7f454c460201010000000000000000000200b700"  # ELF64 LE, e_machine 0xb7


def docker_binary() -> str:
    found = shutil.which(os.environ.get("GRAVITON_DOCKER", "docker"))
    if found is None:
        raise ServiceUnavailable("the docker CLI is not installed (apt-get install docker.io)")
    return found


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


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    text = re.sub(r"^ERROR:\s*", "", text)
    return text.splitlines()[0] if text else "no answer"
