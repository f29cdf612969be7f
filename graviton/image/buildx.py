"""Drive ``docker buildx build`` and ``docker buildx bake``: argument lists (never a shell),
progress streamed line by line, the digest read from ``--metadata-file``.

docker-py cannot drive BuildKit/buildx (docker/docker-py#2230), so buildx runs as the docker CLI
plugin. The argument lists are built by pure functions so they can be tested without an engine.
"""

from __future__ import annotations

import collections
import json
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graviton.errors import GravitonError
from graviton.image.failure import FailureKind, PushWatch, RegistryFailed, classify, tidy
from graviton.interrupts import shield
from graviton.oci.engine import docker_binary

LineSink = Callable[[str], None]
DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64")
DEFAULT_PUSH_TIMEOUT = 1800.0  # seconds a push may go without a word from buildx
_CANCEL_GRACE = 30.0  # after SIGINT buildx cancels the build in the engine, then exits


class BuildFailed(GravitonError):
    """buildx ran and failed: a RUN step, a missing file, a base image that does not exist."""

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


def _run(
    args: list[str],
    on_line: LineSink | None,
    what: str,
    refs: Sequence[str] = (),
    push_timeout: float | None = None,
) -> None:
    """Run ``docker <args>``; stream its output to ``on_line`` or, without one, to our stderr
    (buildx draws its own progress on a terminal). Raise :class:`RegistryFailed` when a registry
    failed it, or when a push (of ``refs``) went ``push_timeout`` seconds without a word from
    buildx (the run is cancelled), else :class:`BuildFailed` on failure."""
    cmd = [docker_binary(), *args]
    tail: collections.deque[str] = collections.deque(maxlen=40)
    stalled: str | None = None
    if on_line is None:
        code = _run_on_terminal(cmd, tail)
    else:
        with subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as popen:
            stalled = _follow(popen, on_line, tail, push_timeout)
            code = popen.wait()
    where = f"{what} ({', '.join(refs)})" if refs else what
    if stalled is not None:
        raise RegistryFailed(
            f"{where}: registry error: the push made no progress for {push_timeout:g}s "
            f"(stalled at: {tidy(stalled)}); cancelled (raise --push-timeout for a slow link)"
        )
    if code != 0:
        reason = _reason(list(tail))
        if classify(reason) is FailureKind.REGISTRY:
            raise RegistryFailed(f"{where}: registry error: {tidy(reason)}")
        raise BuildFailed(f"{what} failed (exit {code}): {reason}")


_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]")


def _run_on_terminal(cmd: list[str], tail: collections.deque[str]) -> int:
    """buildx on a pseudo-terminal of our terminal's size: it draws its own progress, copied to
    our stderr byte for byte, and graviton still reads how it ended (its ``ERROR:`` line, to tell
    a failed step from a failed registry). No stall watch here: the display redraws all along."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    try:
        size = struct.pack("HHHH", 24, 80, 0, 0)
        if os.isatty(2):
            size = fcntl.ioctl(2, termios.TIOCGWINSZ, size)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    finally:
        os.close(slave)
    text = ""
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every end of the terminal's other side is closed
                break
            if not chunk:
                break
            os.write(2, chunk)
            text = (text + chunk.decode(errors="replace"))[-32768:]
    except BaseException:  # Ctrl-C, SIGTERM: the build must not go on in the engine
        shield()
        _cancel(proc)
        raise
    finally:
        os.close(master)
    code = proc.wait()
    tail.extend(re.split(r"[\r\n]+", _TERMINAL_CODES.sub("", text)))
    return code


def _follow(
    popen: subprocess.Popen[str],
    on_line: LineSink,
    tail: collections.deque[str],
    push_timeout: float | None,
) -> str | None:
    """Pass buildx's lines on until it ends. buildx says nothing while a push waits on the
    registry, so when a step is pushing and no line came for ``push_timeout`` seconds the run
    is cancelled (SIGINT, as Ctrl-C would; killed if it does not end) and what the stalled step
    said last is returned."""
    assert popen.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(popen.stdout, lines), daemon=True)
    reader.start()
    watch = PushWatch()
    last = time.monotonic()
    try:
        while True:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                pushing = watch.current
                if pushing and push_timeout and time.monotonic() - last >= push_timeout:
                    _cancel(popen)
                    return pushing
                continue
            if line is None:
                return None
            last = time.monotonic()
            tail.append(line)
            watch.feed(line)
            on_line(line)
    except BaseException:  # Ctrl-C, SIGTERM: the build must not go on in the engine
        shield()
        _cancel(popen)
        raise


def _read_lines(stream: Any, lines: queue.Queue[str | None]) -> None:
    try:
        for raw in stream:
            lines.put(raw.rstrip("\n"))
    except (OSError, ValueError):  # the pipe closed under us (the run was interrupted)
        pass
    finally:
        lines.put(None)


def _cancel(popen: subprocess.Popen[Any]) -> None:
    """SIGINT, as Ctrl-C: buildx cancels the build in the engine and exits; killed if not."""
    popen.send_signal(signal.SIGINT)
    try:
        popen.wait(timeout=_CANCEL_GRACE)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait()


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
    req: BuildRequest,
    *,
    metadata_file: str | None = None,
    on_line: LineSink | None = None,
    push_timeout: float | None = DEFAULT_PUSH_TIMEOUT,
) -> BuildResult:
    """Run the build; the digest comes from the metadata file (``containerimage.digest``)."""
    with _metadata_path(metadata_file) as path:
        progress = "auto" if on_line is None else "plain"
        what = "docker buildx build --push" if req.push else "docker buildx build"
        args = build_args(req, path, progress)
        _run(args, on_line, what, req.tags, push_timeout)
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
    push_timeout: float | None = DEFAULT_PUSH_TIMEOUT,
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
            what = "docker buildx bake --push" if push else "docker buildx bake"
            refs = [tag for t in targets for tag in t.tags]
            _run(args, on_line, what, refs, push_timeout)
            data = _read_metadata(path)
    out = {}
    for t in targets:
        meta = data.get(t.name) or {}
        digest = meta.get("containerimage.digest")
        out[t.name] = BuildResult(digest=str(digest) if digest else None, metadata=meta)
    return out
