"""The Dockerfile parser and rules GVD002-GVD005 (pure), GVD001 with a fake index reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from graviton.checks import dockerfile as df
from graviton.checks.image import judge
from graviton.image.context import pip_requirements
from graviton.oci.manifest import OciManifest


def rules(findings: list[df.Finding]) -> list[tuple[str, int | None]]:
    return [(f.rule, f.line) for f in findings]


def test_continuations_comments_and_line_numbers() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "FROM debian:bookworm\n"
        "\n"
        "RUN apt-get update && \\\n"
        "    # a comment inside a continuation is dropped\n"
        "\n"
        "    apt-get install -y curl\n"
        'CMD ["sh"]\n'
    )
    ins = df.parse_instructions(text)
    assert [(i.keyword, i.line) for i in ins] == [("FROM", 2), ("RUN", 4), ("CMD", 8)]
    assert ins[1].body == "apt-get update &&     apt-get install -y curl"


def test_escape_directive_backtick() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\n"
    ins = df.parse_instructions(text)
    assert [(i.keyword, i.line) for i in ins] == [("FROM", 2), ("RUN", 3)]
    assert ins[1].body == "dir   c:\\"


def test_heredoc_bodies_belong_to_their_instruction() -> None:
    text = (
        "FROM alpine\n"
        "RUN <<EOF\n"
        "wget https://example.com/tool-x86_64.tgz\n"
        "EOF\n"
        "COPY <<-'CONF' /etc/app.conf\n"
        "\tkey=value\n"
        "\tCONF\n"
        "RUN echo done\n"
    )
    ins = df.parse_instructions(text)
    assert [(i.keyword, i.line) for i in ins] == [("FROM", 1), ("RUN", 2), ("COPY", 5), ("RUN", 8)]
    assert ins[1].heredocs == ("wget https://example.com/tool-x86_64.tgz",)
    assert ins[2].heredocs == ("key=value",)
    parsed = df.parse(text)
    assert rules(df.check_x86_downloads(parsed, parsed.stages)) == [("GVD003", 2)]


def test_global_args_feed_from_lines_only() -> None:
    text = (
        "ARG PY=3.12\n"
        "ARG BASE\n"
        "FROM python:${PY}-slim AS app\n"
        "FROM ${BASE:-debian}:bookworm\n"
        "RUN echo $PY\n"
    )
    parsed = df.parse(text, build_args={"BASE": "ubuntu", "OTHER": "x"})
    assert [s.base for s in parsed.stages] == ["python:3.12-slim", "ubuntu:bookworm"]
    assert parsed.stages[0].name == "app"
    assert df.parse(text).stages[1].base == "debian:bookworm"


def test_undeclared_platform_arg_in_stage() -> None:
    text = (
        "ARG TARGETARCH\n"  # global: does not reach the stages
        "FROM --platform=$BUILDPLATFORM golang AS build\n"
        "ARG TARGETARCH\n"
        "RUN GOARCH=$TARGETARCH go build\n"
        "FROM debian\n"
        "RUN curl -fsSL https://x/${TARGETARCH}/tool -o /t && echo ${TARGETPLATFORM}\n"
        "RUN echo $TARGETARCH\n"
        "ARG TARGETOS\n"
        "RUN echo $TARGETOS \\$TARGETVARIANT\n"
    )
    found = df.check_platform_args(df.parse(text))
    assert rules(found) == [("GVD004", 6), ("GVD004", 6)]
    assert {f.message.split()[0] for f in found} == {"$TARGETARCH", "$TARGETPLATFORM"}
    assert "ARG TARGETARCH" in (found[0].fix or "")


def test_platform_arg_used_before_its_declaration() -> None:
    text = "FROM debian\nRUN echo $TARGETARCH\nARG TARGETARCH\n"
    assert rules(df.check_platform_args(df.parse(text))) == [("GVD004", 2)]


def test_constant_from_platform_only_in_stages_that_reach_the_image() -> None:
    text = (
        "FROM --platform=linux/amd64 node AS assets\n"
        "FROM --platform=linux/amd64 debian AS lint\n"
        "FROM --platform=$BUILDPLATFORM golang AS build\n"
        "FROM debian\n"
        "COPY --from=assets /dist /dist\n"
        "RUN --mount=type=bind,from=build,source=/out,target=/in cp /in/app /app\n"
    )
    parsed = df.parse(text)
    stages = df.reachable(parsed)
    assert [s.name for s in stages] == ["assets", "build", None]
    assert rules(df.check_constant_platform(parsed, stages)) == [("GVD002", 1)]


def test_target_selects_the_final_stage() -> None:
    parsed = df.parse("FROM a AS one\nFROM b AS two\nFROM one AS three\n")
    assert [s.name for s in df.reachable(parsed, "three")] == ["one", "three"]
    assert [s.name for s in df.reachable(parsed, "two")] == ["two"]
    with pytest.raises(df.InputError):
        df.reachable(parsed, "four")


@pytest.mark.parametrize(
    ("run", "flagged"),
    [
        ("curl -fsSLO https://get.example.com/v1/tool_linux_amd64.tar.gz", True),
        ("wget -q https://example.com/releases/app-x86_64-unknown-linux-gnu.tgz", True),
        ("curl -fsSL https://nodejs.org/dist/v20.0.0/node-v20.0.0-linux-x64.tar.xz", True),
        ("curl -fsSL https://x/tool-linux-${TARGETARCH}.tgz", False),
        (
            'case "$(uname -m)" in x86_64) U=https://x/a-amd64;; '
            "aarch64) U=https://x/a-arm64;; esac",
            False,
        ),
        ("curl -fsSL https://example.com/x64dbg-docs.html", False),  # x64 inside a word
        ("apt-get install -y libc6-amd64-cross", False),  # not a URL
    ],
)
def test_hard_coded_x86_urls(run: str, flagged: bool) -> None:
    parsed = df.parse(f"FROM debian\nARG TARGETARCH\nRUN {run}\n")
    found = df.check_x86_downloads(parsed, parsed.stages)
    assert bool(found) is flagged
    if flagged:
        assert found[0].line == 3 and found[0].severity == "error"


def test_build_platform_stage_may_download_build_tools() -> None:
    text = "FROM --platform=$BUILDPLATFORM debian\nADD https://x/protoc-linux-x86_64.zip /p\n"
    parsed = df.parse(text)
    assert df.check_x86_downloads(parsed, parsed.stages) == []


@pytest.mark.parametrize(
    ("argv", "fails"),
    [
        ("curl -o /x https://x", False),
        ("curl -sSLo /x https://x", False),  # o ends the cluster; no f
        ("curl -fsSL https://x", True),
        ("curl -sSfL https://x", True),
        ("curl --fail https://x", True),
        ("curl --fail-with-body https://x", True),
        ("curl -H x-f https://x", False),  # -H's argument is not a flag
        ("curl -o f https://x", False),
    ],
)
def test_curl_fail_detection(argv: str, fails: bool) -> None:
    assert df.curl_fails_on_http_errors(argv.split()) is fails


def test_curl_without_fail_in_a_chain_is_a_warning() -> None:
    text = (
        "FROM debian\n"
        "RUN apt-get update && curl -sSLo /t https://x/t | tee log; curl -f https://y\n"
        "RUN curl -fsSL https://x | sh\n"
    )
    found = df.check_curl_fail(df.parse(text))
    assert rules(found) == [("GVD005", 2)] and found[0].severity == "warning"


def test_base_images_checked_only_where_they_reach_the_image() -> None:
    text = (
        "ARG REG=registry.example.com\n"
        "FROM ${REG}/tools AS tools\n"
        "FROM ${REG}/unused AS unused\n"
        "FROM --platform=$BUILDPLATFORM ${REG}/builder AS build\n"
        "FROM scratch\n"
        "COPY --from=tools /t /t\n"
        "COPY --from=build /b /b\n"
        "COPY --from=registry.example.com/extra:1 /e /e\n"
    )
    parsed = df.parse(text)
    images = df.external_images(parsed, df.reachable(parsed))
    assert images == [("registry.example.com/tools", 2), ("registry.example.com/extra:1", 8)]

    def index(*platforms: str) -> OciManifest:
        children = [
            {
                "digest": f"sha256:{i}",
                "platform": dict(zip(("os", "architecture"), p.split("/"), strict=True)),
            }
            for i, p in enumerate(platforms)
        ]
        return OciManifest("application/vnd.oci.image.index.v1+json", {"manifests": children})

    registry = {
        "registry.example.com/tools": index("linux/amd64", "unknown/unknown"),
        "registry.example.com/extra:1": index("linux/amd64", "linux/arm64"),
    }
    found = df.check_base_images(
        parsed, df.reachable(parsed), lambda ref: judge(ref, registry[ref])
    )
    assert rules(found) == [("GVD001", 2)]
    assert "lacks linux/arm64" in found[0].message and "has linux/amd64)" in found[0].message


def test_pip_requirements_found_in_context(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("shioaji==1.2.5\n")
    text = (
        "FROM python:3.12-slim AS base\n"
        "FROM base\n"
        "COPY requirements.txt /app/\n"
        "RUN pip install --no-cache-dir -r /app/requirements.txt && pip install -r missing.txt\n"
    )
    parsed = df.parse(text)
    uses = pip_requirements(parsed, tmp_path, df.reachable(parsed))
    assert [(u.requirements.name, u.line, u.base) for u in uses] == [
        ("requirements.txt", 4, "python:3.12-slim")
    ]


def test_no_from_is_an_input_error() -> None:
    with pytest.raises(df.InputError, match="no FROM"):
        df.parse("RUN echo\n", "x/Dockerfile")


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("ARG P=linux/amd64\nFROM --platform=$P debian\n", "linux/amd64"),
        ("ARG P=linux/amd64\nFROM --platform=${P} debian\n", "linux/amd64"),
        ("ARG OS=linux\nFROM --platform=${OS}/amd64 debian\n", "linux/amd64"),
        ("ARG P\nFROM --platform=$P debian\n", None),  # given at build time
        ("ARG P=\nFROM --platform=$P debian\n", None),
        ("FROM --platform=$TARGETPLATFORM debian\n", None),
        ("ARG BUILDPLATFORM\nFROM --platform=$BUILDPLATFORM debian\n", None),
        ("ARG P=$BUILDPLATFORM\nFROM --platform=$P debian\n", None),
    ],
)
def test_a_platform_fixed_through_an_arg_default_is_constant(
    text: str, flagged: str | None
) -> None:
    parsed = df.parse(text)
    found = df.check_constant_platform(parsed, df.reachable(parsed))
    assert [(f.rule, f.line) for f in found] == ([("GVD002", 2)] if flagged else [])
    if flagged:
        assert flagged in found[0].message
        # and the stage's base image is then not read for linux/arm64 (GVD002 says it all)
        assert df.external_images(parsed, df.reachable(parsed)) == []


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ("FROM --platform linux/amd64 debian\n", 1, "--platform=VALUE"),
        ("FROM debian\nFOO bar\n", 2, "unknown instruction 'FOO'"),
        ("FROM debian\nRUN a \\\n&& b\n  && c\n", 4, "unknown instruction '&&'"),
        ("FROM --platfrm=linux/arm64 debian\n", 1, "unknown flag --platfrm"),
        ("FROM debian AS\n", 1, "IMAGE AS NAME"),
        ("FROM debian base\n", 1, "IMAGE AS NAME"),
        ("FROM\n", 1, "IMAGE AS NAME"),
        ("ENV A=1\nFROM debian\n", 1, "no FROM before this ENV"),
    ],
)
def test_a_dockerfile_buildx_rejects_is_an_input_error(text: str, line: int, why: str) -> None:
    with pytest.raises(df.InputError) as err:
        df.parse(text, "x/Dockerfile")
    assert err.value.line == line and why in str(err.value)
    assert err.value.exit_code == 2
