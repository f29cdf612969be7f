"""Pure engine/builder judging: each miss is one finding with its fix."""

from __future__ import annotations

from graviton.checks.engine import judge_engine
from graviton.oci.engine import (
    AARCH64_MAGIC,
    BuilderInfo,
    BuilderNode,
    EngineFacts,
    binfmt_handles_arm64,
    parse_inspect,
)

INSPECT = """\
Name:          multi
Driver:        docker-container
Last Activity: 2026-11-28 00:13:29 +0000 UTC

Nodes:
Name:             multi0
Endpoint:         unix:///var/run/docker.sock
Status:           running
BuildKit version: v0.13.2
Platforms:        linux/amd64*, linux/amd64/v2, linux/386
Labels:
 org.mobyproject.buildkit.worker.executor: oci

Name:             multi1
Endpoint:         ssh://arm-host
Status:           running
Platforms:        linux/arm64*, linux/arm/v7
"""

BOTH = ("linux/amd64", "linux/arm64")


def facts(**over: object) -> EngineFacts:
    base: dict[str, object] = {
        "engine_version": "26.1.5",
        "host_arch": "x86_64",
        "image_store": "io.containerd.snapshotter.v1",
        "buildx_version": "github.com/docker/buildx 0.13.1",
        "builder": BuilderInfo(
            "default",
            "docker",
            (BuilderNode("default", "running", ("linux/amd64", "linux/amd64/v2", "linux/arm64")),),
        ),
        "binfmt_arm64": True,
    }
    base.update(over)
    return EngineFacts(**base)  # type: ignore[arg-type]


def test_parse_inspect_nodes_and_platforms() -> None:
    info = parse_inspect(INSPECT)
    assert (info.name, info.driver) == ("multi", "docker-container")
    assert [n.name for n in info.nodes] == ["multi0", "multi1"]
    assert info.nodes[1].platforms == ("linux/arm64", "linux/arm/v7")
    assert "linux/arm64" in info.platforms and "linux/386" in info.platforms


def test_emulated_arm64_is_a_warning_only() -> None:
    found = judge_engine(facts(), BOTH, run_platforms=BOTH)
    assert [(f.rule, f.severity) for f in found] == [("GVE005", "warning")]
    assert "QEMU" in found[0].message and "buildx create --append" in (found[0].fix or "")


def test_native_arm64_node_means_no_warning() -> None:
    assert judge_engine(facts(builder=parse_inspect(INSPECT)), BOTH) == []
    assert judge_engine(facts(host_arch="aarch64"), BOTH) == []


def test_missing_buildx_stops_there() -> None:
    found = judge_engine(facts(buildx_version=None, builder=None), BOTH)
    assert [f.rule for f in found] == ["GVE001"] and "cli-plugins" in (found[0].fix or "")


def test_unknown_builder() -> None:
    found = judge_engine(facts(builder=None, builder_error='no builder "x" found'), BOTH)
    assert [f.rule for f in found] == ["GVE002"] and "x" in found[0].message


def test_docker_driver_without_containerd_store() -> None:
    found = judge_engine(facts(image_store=""), BOTH)
    assert [f.rule for f in found] == ["GVE003", "GVE005"]
    assert "containerd-snapshotter" in (found[0].fix or "")
    # one platform is fine without it
    assert [f.rule for f in judge_engine(facts(image_store=""), ["linux/amd64"])] == []


def test_builder_without_arm64_and_no_binfmt_to_run_it() -> None:
    amd_only = BuilderInfo(
        "default", "docker", (BuilderNode("default", "running", ("linux/amd64",)),)
    )
    found = judge_engine(
        facts(builder=amd_only, binfmt_arm64=False), BOTH, run_platforms=["linux/arm64"]
    )
    assert [f.rule for f in found] == ["GVE004", "GVE006"]
    assert "cannot build linux/arm64" in found[0].message
    assert "qemu-user-static" in (found[0].fix or "")
    assert all(f.severity == "error" for f in found)


def test_binfmt_detection() -> None:
    enabled = (
        "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n"
        f"offset 0\nmagic {AARCH64_MAGIC}\nmask ffffffffffffff00fffffffffffffffffeffffff\n"
    )
    assert binfmt_handles_arm64({"qemu-aarch64": enabled})
    assert not binfmt_handles_arm64({"qemu-aarch64": enabled.replace("enabled", "disabled", 1)})
    assert not binfmt_handles_arm64({"qemu-arm": "enabled\nmagic 7f454c4601010100\n"})
    assert not binfmt_handles_arm64({})
