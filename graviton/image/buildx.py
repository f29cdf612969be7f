"""Drive ``docker buildx build`` and ``docker buildx bake``: argument lists (never a shell),
progress streamed line by line, the digest read from ``--metadata-file``.

docker-py cannot drive BuildKit/buildx (docker/docker-py#2230), so buildx runs as the docker CLI
plugin. The argument lists are built by pure functions so they can be tested without an engine.
"""

from __future__ import annotations

import collections
import json
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graviton.errors import GravitonError
from graviton.oci.engine import docker_binary

LineSink = Callable[[str], None]
DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64")


class BuildFailed(GravitonError):
    """buildx ran and failed (a RUN step, a missing file, a push refused...)."""

    exit_code = 1


@dataclass(frozen=True)
class BuildRequest:
    """One ``docker buildx build``, as plain data."""

    context: str
    tags: tuple[str, ...]
    dockerfile: str | None = None
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    push: bool = False
    builder: str | None = None
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    build_args: tuple[tuple[str, str], ...] = ()
    provenance: bool | None = None  # None: buildx's default
    target: str | None = None


@dataclass(frozen=True)
class BuildResult:
    digest: str | None  # containerimage.digest: the index digest for a multi-platform build
    metadata: Mapping[str, Any] = field(default_factory=dict)


def build_args(req: BuildRequest, metadata_file: str, progress: str = "plain") -> list[str]:
    """Pure: the arguments after ``docker`` for ``req``."""
    args = ["buildx", "build", "--progress", progress, "--metadata-file", metadata_file]
    if req.builder:
        args += ["--builder", req.builder]
    if req.dockerfile:
        args += ["--file", req.dockerfile]
    if req.platforms:
        args += ["--platform", ",".join(req.platforms)]
    for tag in req.tags:
        args += ["--tag", tag]
    if req.target:
        args += ["--target", req.target]
    for key, value in req.build_args:
        args += ["--build-arg", f"{key}={value}"]
    for ref in req.cache_from:
        args += ["--cache-from", ref]
    for ref in req.cache_to:
        args += ["--cache-to", ref]
    if req.provenance is not None:
        args.append(f"--provenance={'true' if req.provenance else 'false'}")
    if req.push:
        args.append("--push")
    args.append(req.context)
    return args


@dataclass(frozen=True)
class BakeTarget:
    """One image of ``[tool.graviton.images]``."""

    name: str
    context: str
    tags: tuple[str, ...]
    dockerfile: str | None = None
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    args: tuple[tuple[str, str], ...] = ()
    target: str | None = None
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()


def bake_definition(targets: Sequence[BakeTarget]) -> dict[str, Any]:
    """Pure: a bake file (JSON form) building every target in the ``default`` group."""
    out: dict[str, Any] = {}
    for t in targets:
        spec: dict[str, Any] = {"context": t.context, "tags": list(t.tags)}
        spec["platforms"] = list(t.platforms)
        if t.dockerfile:
            spec["dockerfile"] = t.dockerfile
        if t.args:
            spec["args"] = dict(t.args)
        if t.target:
            spec["target"] = t.target
        if t.cache_from:
            spec["cache-from"] = list(t.cache_from)
        if t.cache_to:
            spec["cache-to"] = list(t.cache_to)
        out[t.name] = spec
    return {"group": {"default": {"targets": [t.name for t in targets]}}, "target": out}


def bake_args(
    bake_file: str,
    metadata_file: str,
    *,
    push: bool,
    builder: str | None = None,
    provenance: bool | None = None,
    progress: str = "plain",
) -> list[str]:
    """Pure: the arguments after ``docker`` for ``docker buildx bake``."""
    args = ["buildx", "bake", "--file", bake_file, "--progress", progress]
    args += ["--metadata-file", metadata_file]
    if builder:
        args += ["--builder", builder]
    if provenance is not None:
        args.append(f"--provenance={'true' if provenance else 'false'}")
    if push:
        args.append("--push")
    return args


@contextmanager
def _metadata_path(user_path: str | None) -> Iterator[str]:
    if user_path:
        yield user_path
        return
    with tempfile.TemporaryDirectory(prefix="graviton-build-") as tmp:
        yield str(Path(tmp) / "metadata.json")


def _run(args: list[str], on_line: LineSink | None, what: str) -> None:
    """Run ``docker <args>``; stream its output to ``on_line`` or, without one, to our stderr
    (buildx draws its own progress on a terminal). Raise :class:`BuildFailed` on failure."""
    cmd = [docker_binary(), *args]
    tail: collections.deque[str] = collections.deque(maxlen=40)
    if on_line is None:
        proc = subprocess.run(cmd, check=False)
        code = proc.returncode
    else:
        with subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as popen:
            assert popen.stdout is not None
            for raw in popen.stdout:
                line = raw.rstrip("\n")
                tail.append(line)
                on_line(line)
            code = popen.wait()
    if code != 0:
        raise BuildFailed(f"{what} failed (exit {code}): {_reason(list(tail))}")


def _reason(lines: list[str]) -> str:
    for line in reversed(lines):
        text = line.strip()
        if text.startswith("ERROR:") or text.startswith("error:"):
            return text.split(":", 1)[1].strip()
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return "see the output above"


def _read_metadata(path: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise BuildFailed(f"buildx wrote no readable metadata file {path}: {exc}") from None
    return data


def build(
    req: BuildRequest, *, metadata_file: str | None = None, on_line: LineSink | None = None
) -> BuildResult:
    """Run the build; the digest comes from the metadata file (``containerimage.digest``)."""
    with _metadata_path(metadata_file) as path:
        progress = "auto" if on_line is None else "plain"
        _run(build_args(req, path, progress), on_line, "docker buildx build")
        data = _read_metadata(path)
    digest = data.get("containerimage.digest")
    return BuildResult(digest=str(digest) if digest else None, metadata=data)


def bake(
    targets: Sequence[BakeTarget],
    *,
    push: bool,
    builder: str | None = None,
    provenance: bool | None = None,
    metadata_file: str | None = None,
    on_line: LineSink | None = None,
) -> dict[str, BuildResult]:
    """Build every target with one ``docker buildx bake``; one result per target name."""
    with tempfile.TemporaryDirectory(prefix="graviton-bake-") as tmp:
        bake_file = Path(tmp) / "docker-bake.json"
        bake_file.write_text(json.dumps(bake_definition(targets), indent=2))
        with _metadata_path(metadata_file) as path:
            progress = "auto" if on_line is None else "plain"
            args = bake_args(
                str(bake_file),
                path,
                push=push,
                builder=builder,
                provenance=provenance,
                progress=progress,
            )
            _run(args, on_line, "docker buildx bake")
            data = _read_metadata(path)
    out = {}
    for t in targets:
        meta = data.get(t.name) or {}
        digest = meta.get("containerimage.digest")
        out[t.name] = BuildResult(digest=str(digest) if digest else None, metadata=meta)
    return out
