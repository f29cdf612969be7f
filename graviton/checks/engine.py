"""Can this machine build (and run) the requested platforms?  Checked before ``graviton build``.

Pure: :func:`judge_engine` turns the facts :func:`graviton.oci.engine.gather` collected into
findings, each a one-line error or warning with the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from graviton.findings import Check, Severity
from graviton.oci.engine import EngineFacts

CONTAINERD_SNAPSHOTTER = "io.containerd.snapshotter"

QEMU_FIX = (
    "install QEMU binfmt handlers (Debian: apt-get install qemu-user-static binfmt-support) or "
    "add a native arm64 node: docker buildx create --append --name BUILDER --platform "
    "linux/arm64 ssh://user@arm64-host"
)


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
) -> list[Check]:
    """Pure: findings for building ``platforms`` (and running ``run_platforms`` locally)."""
    out: list[Check] = []
    if facts.buildx_version is None:
        return [
            Check(
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
            Check(
                "GVE002",
                Severity.ERROR,
                f"buildx builder not usable: {facts.builder_error or 'unknown error'}",
                fix="docker buildx ls; pick one with --builder NAME",
            )
        ]
    multi = len(platforms) > 1
    if multi and builder.driver == "docker" and CONTAINERD_SNAPSHOTTER not in facts.image_store:
        out.append(
            Check(
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
                Check(
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
            Check(
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
            Check(
                "GVE006",
                Severity.ERROR,
                "cannot smoke-run linux/arm64 on this amd64 host: no qemu-aarch64 binfmt "
                "handler is enabled",
                fix="apt-get install qemu-user-static binfmt-support && update-binfmts "
                "--enable qemu-aarch64 (or pass --no-smoke)",
            )
        )
    return out
