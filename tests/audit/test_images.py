from __future__ import annotations

from pathlib import Path

import pytest

from graviton.audit.images import target_for_dockerfile, target_for_image
from graviton.errors import UsageError


@pytest.mark.parametrize(
    ("image", "python", "libc", "version"),
    [
        ("python:3.12-slim-bookworm", (3, 12), "glibc", (2, 36)),
        ("python:3.11-alpine3.20", (3, 11), "musl", (1, 2)),
        ("python:3.10.14-slim-bullseye", (3, 10), "glibc", (2, 31)),
        ("docker.io/library/python:3.13-trixie", (3, 13), "glibc", (2, 41)),
        ("public.ecr.aws/docker/library/python:3.12-slim-bookworm", (3, 12), "glibc", (2, 36)),
        ("public.ecr.aws/lambda/python:3.11", (3, 11), "glibc", (2, 26)),
        ("public.ecr.aws/lambda/python:3.12", (3, 12), "glibc", (2, 34)),
        ("amazonlinux:2023", (3, 9), "glibc", (2, 34)),
        ("amazonlinux:2", (3, 9), "glibc", (2, 26)),
        ("ubuntu:22.04", (3, 9), "glibc", (2, 35)),
        ("debian:bookworm-slim", (3, 9), "glibc", (2, 36)),
    ],
)
def test_known_images(
    image: str, python: tuple[int, int], libc: str, version: tuple[int, int]
) -> None:
    target = target_for_image(image, (3, 9))
    assert target is not None
    assert (target.python, target.libc, target.libc_version) == (python, libc, version)


@pytest.mark.parametrize("image", ["mycorp/base:1", "python", "python:latest", "centos:7"])
def test_unknown_images_are_not_guessed(image: str) -> None:
    assert target_for_image(image, (3, 12)) is None


def test_final_stage_through_stage_aliases(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG PY=3.12\n"
        "FROM python:${PY}-slim-bookworm AS base\n"
        "FROM golang:1.22 AS tools\n"
        "FROM base AS final\n"
        "COPY --from=tools /go/bin/x /x\n"
    )
    target = target_for_dockerfile(dockerfile, (3, 9))
    assert (target.python, target.libc_version) == ((3, 12), (2, 36))


def test_unknown_base_is_a_usage_error(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM mycorp/python-base:7\n")
    with pytest.raises(UsageError, match="Dockerfile:1: base image 'mycorp/python-base:7'"):
        target_for_dockerfile(dockerfile, (3, 12))
