"""Looking inside the wheels judged ``pure``, while the index pages are still being read.

A ``py3-none-any`` wheel can carry an x86-64 program (chromedriver-py ships one): for each wheel
a ``pure`` verdict chose, the index client reads its zip directory and the first bytes of the
members that can be native (HTTP range requests, a byte budget per wheel), and
:func:`graviton.checks.binaries.judge_natives` decides. Each wheel is read once per run (several
targets share it), by a few daemon threads started as the first pure verdict arrives. A direct
reference to a pure wheel is read the same way from its URL (a local path: from the disk).

An inspection that did not complete proves nothing, and a ``pure`` verdict it would have had to
confirm is not given: the audit stops with :class:`InspectionUnavailable` (exit 3), one line
naming the pin and why. ``--no-inspect`` skips the step.

The fix of a finding is looked into as well (:func:`prove_fixes`): a newer release whose chosen
wheel is pure is offered only once its inside is proven free of x86-only code. There the pin's
own verdict is already proven, so a candidate that cannot be read costs the fix, not the run:
the finding says ``not proven`` and why (:func:`graviton.audit.verdicts.search_fix`).
"""

from __future__ import annotations

import queue
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from graviton.audit.verdicts import (
    FIX_INSPECTIONS,
    FixCandidate,
    FixSearch,
    Look,
    search_fix,
)
from graviton.checks.binaries import (
    MAX_HEAD_BYTES,
    Arch,
    NativeCheck,
    classify,
    header_bytes_needed,
    judge_natives,
)
from graviton.errors import ServiceUnavailable, one_line
from graviton.findings import Finding, Pin
from graviton.index import DistFile

if TYPE_CHECKING:
    from graviton.index.remote_zip import WheelInspection

NO_INSPECT = "--no-inspect skips looking inside pure wheels"
NO_READER = "this index reader cannot read wheels"


class InspectionUnavailable(ServiceUnavailable):
    """A wheel that had to be looked into could not be (exit 3): never a pass."""


def _key(file: DistFile) -> str:
    return file.sha256 or file.url or file.filename


class _Pool:
    """Inspections of wheels on at most ``workers`` daemon threads, each wheel read once."""

    def __init__(self, reader: Any, budget: int | None, workers: int | None) -> None:
        self.reader = reader
        self.budget = budget
        self.workers = max(1, workers or getattr(reader, "workers", 4))
        self.jobs: dict[str, DistFile] = {}
        self.done: dict[str, WheelInspection] = {}
        self.todo: queue.SimpleQueue[DistFile | None] = queue.SimpleQueue()  # None: stop
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.threads = 0
        # one wheel gets what one index page gets: a server that drips bytes ends the read
        self.limit = float(getattr(reader, "page_timeout", 60.0))
        self.started: dict[str, float] = {}  # wheel key -> when a thread began reading it

    def add(self, file: DistFile) -> str:
        key = _key(file)
        if key in self.jobs:
            return key
        self.jobs[key] = file
        self.todo.put(file)
        if self.threads < min(self.workers, len(self.jobs)):  # threads live until abandon()
            self._thread()
        return key

    def _thread(self) -> None:
        self.threads += 1
        threading.Thread(target=self._work, name="graviton-inspect", daemon=True).start()

    def _work(self) -> None:
        from graviton.index.client import _block_signals

        _block_signals()
        while not self.stop.is_set():
            file = self.todo.get()
            if file is None:
                return
            with self.changed:
                self.started[_key(file)] = time.monotonic()
            result = self._inspect(file)
            with self.changed:
                self.done.setdefault(_key(file), result)  # a late one was given up already
                self.changed.notify_all()

    def _inspect(self, file: DistFile) -> WheelInspection:
        from graviton.index.remote_zip import not_read

        assert file.url is not None
        budget = self.budget or 0
        try:
            if urlsplit(file.url).scheme not in ("http", "https"):
                return read_local(file.url, budget)
            if not callable(getattr(self.reader, "inspect", None)):
                return not_read(file.url, budget, NO_READER)
            result: WheelInspection = self.reader.inspect(
                file.url, file.sha256, budget=self.budget, needs=header_bytes_needed
            )
        except Exception as exc:
            return not_read(file.url, budget, f"inspection failed: {exc}")
        return result

    def late(self) -> list[str]:
        """The wheels read for longer than :attr:`limit` seconds (call holding ``changed``)."""
        now = time.monotonic()
        return [
            key
            for key, start in self.started.items()
            if key not in self.done and now - start > self.limit
        ]

    def wait(self) -> None:
        """Until every wheel is read or given up: a late one is recorded as not read, and a
        fresh thread takes over the queue from the one still stuck in it."""
        from graviton.index.remote_zip import not_read

        with self.changed:
            while len(self.done) < len(self.jobs):
                for key in self.late():
                    url = self.jobs[key].url or key
                    why = f"not read within {self.limit:g}s (--timeout)"
                    self.done[key] = not_read(url, self.budget or 0, why)
                    self._thread()
                self.changed.wait(0.2)

    def abandon(self) -> None:
        """Let the threads go: each takes one ``None`` and ends (a read in flight finishes)."""
        self.stop.set()
        for _ in range(self.threads):
            self.todo.put(None)
        self.threads = 0


class Inspector:
    """Inspections of the wheels behind ``pure`` findings, on at most ``workers`` threads."""

    def __init__(self, reader: Any, budget: int | None = None, workers: int | None = None) -> None:
        self.pool = _Pool(reader, budget, workers)
        self.wanted: list[tuple[int, Finding, str]] = []  # (finding index, finding, wheel key)
        self.problems: list[str] = []

    @property
    def reader(self) -> Any:
        return self.pool.reader

    @property
    def budget(self) -> int | None:
        return self.pool.budget

    @property
    def workers(self) -> int:
        return self.pool.workers

    def submit(self, index: int, finding: Finding, files: Sequence[DistFile]) -> None:
        """Look inside the wheel ``finding`` chose (one of ``files``)."""
        pin = finding.pin
        file = next((f for f in files if f.filename == finding.wheel), None)
        if file is None or file.url is None:
            self.problems.append(
                f"{pin.name}{pin.pinned}: the index gives no URL for {finding.wheel}, so it "
                f"cannot be looked into ({NO_INSPECT})"
            )
            return
        if not callable(getattr(self.reader, "inspect", None)):
            self.problems.append(f"{pin.name}{pin.pinned}: {NO_READER} ({NO_INSPECT})")
            return
        self.submit_file(index, finding, file)

    def submit_direct(self, index: int, finding: Finding) -> None:
        """Look inside the wheel a direct reference (``name @ URL`` or a path) names."""
        self.submit_file(index, finding, direct_file(finding.pin))

    def submit_file(self, index: int, finding: Finding, file: DistFile) -> None:
        self.wanted.append((index, finding, self.pool.add(file)))

    def _check_late(self) -> None:
        """A wheel read for longer than the limit is not proven (exit 3)."""
        for key in self.pool.late():
            _, finding, _ = next(w for w in self.wanted if w[2] == key)
            raise InspectionUnavailable(
                f"{_label(finding)}: not read within {self.pool.limit:g}s (--timeout); {NO_INSPECT}"
            )

    def abandon(self) -> None:
        self.pool.abandon()

    def results(self) -> Iterator[tuple[int, NativeCheck]]:
        """(finding index, the check of its wheel) for every submitted finding; the first
        inspection that did not complete is :class:`InspectionUnavailable`."""
        if self.problems:
            self.abandon()
            raise InspectionUnavailable(self.problems[0])
        pool = self.pool
        try:
            with pool.changed:
                while len(pool.done) < len(pool.jobs):
                    self._check_late()
                    pool.changed.wait(0.2)
        finally:
            self.abandon()
        for index, finding, key in self.wanted:
            result = pool.done[key]
            if not result.complete:
                raise InspectionUnavailable(
                    f"{_label(finding)}: {result.why} (not proven free of x86 code; {NO_INSPECT})"
                )
            yield index, _judge(result, finding)


def _label(finding: Finding) -> str:
    """``name==1.0: name-1.0-py3-none-any.whl``; ``name @ name-1.0-py3-none-any.whl``."""
    pin = finding.pin
    if pin.url is None:
        return f"{pin.name}{pin.pinned}: {finding.wheel}"
    return f"{pin.name} @ {finding.wheel}"


def _judge(result: WheelInspection, finding: Finding) -> NativeCheck:
    members = [(h.path, classify(h.head)) for h in result.heads]
    return judge_natives(members, _arch(finding.target.arch))


def _arch(name: str) -> Arch:
    try:
        return Arch(name)
    except ValueError:
        return Arch.AARCH64


# -- direct references -----------------------------------------------------------------------------


def direct_file(pin: Pin) -> DistFile:
    """The wheel a direct reference names: its URL without the fragment, and the sha256 the
    fragment (``#sha256=``) or the lock's one sha256 gives (a cache key only). A local path
    becomes an absolute ``file:`` location, found beside the input file or in the current
    directory as pip does."""
    url = pin.url or ""
    parts = urlsplit(url)
    fragment = dict(p.partition("=")[::2] for p in parts.fragment.split("&") if p)
    sha256 = fragment.get("sha256") or None
    locked = [h.removeprefix("sha256:") for h in pin.hashes if h.startswith("sha256:")]
    if sha256 is None and len(locked) == 1:
        sha256 = locked[0]
    bare = parts._replace(fragment="").geturl()
    filename = unquote(parts.path).rpartition("/")[2]
    if parts.scheme in ("http", "https", "file") or (parts.scheme and len(parts.scheme) > 1):
        return DistFile(filename, sha256=sha256, url=bare)
    path = Path(unquote(bare))
    for found in (Path(pin.location.path).parent / path, Path.cwd() / path):
        if found.is_file():
            return DistFile(filename, sha256=sha256, url=found.resolve().as_uri())
    return DistFile(filename, sha256=sha256, url=(Path.cwd() / path).as_uri())


def read_local(url: str, budget: int) -> WheelInspection:
    """What :func:`remote_zip.inspect_wheel` reads of a remote wheel, from a ``file:`` URL."""
    from graviton.index.remote_zip import (
        HEAD_BYTES,
        MemberHead,
        Status,
        WheelInspection,
        may_be_native,
        not_read,
    )

    parts = urlsplit(url)
    if parts.scheme != "file":
        return not_read(url, budget, f"cannot read a {parts.scheme}: URL")
    path = Path(unquote(parts.path))
    heads: list[MemberHead] = []
    try:
        with zipfile.ZipFile(path) as wheel:
            infos = wheel.infolist()
            candidates = [
                i for i in infos if may_be_native(i.filename, (i.external_attr >> 16) or None)
            ]
            for info in candidates:
                with wheel.open(info) as member:
                    head = member.read(HEAD_BYTES)
                    want = min(header_bytes_needed(head), MAX_HEAD_BYTES)
                    if want > len(head):
                        head += member.read(want - len(head))
                mode = (info.external_attr >> 16) or None
                heads.append(
                    MemberHead(
                        info.filename,
                        info.file_size,
                        info.compress_size,
                        info.compress_type,
                        mode,
                        head,
                    )
                )
    except OSError as exc:
        return not_read(url, budget, f"{path}: {exc.strerror or type(exc).__name__}")
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError) as exc:
        return not_read(url, budget, f"{path}: {one_line(str(exc) or type(exc).__name__)}")
    return WheelInspection(
        url=url,
        status=Status.COMPLETE,
        why="",
        members=len(infos),
        candidates=tuple(i.filename for i in candidates),
        heads=tuple(heads),
        bytes_read=0,
        requests=0,
        budget=budget,
        size=path.stat().st_size,
    )


# -- fixes -----------------------------------------------------------------------------------------


def prove_fixes(
    reader: Any,
    searches: Mapping[int, tuple[Finding, Sequence[FixCandidate]]],
    *,
    budget: int | None = None,
    workers: int | None = None,
    limit: int = FIX_INSPECTIONS,
) -> dict[int, FixSearch]:
    """The settled fix search of each finding (by index): rounds of :func:`search_fix`, each
    round reading the wheels every unsettled search asks for, together."""
    looked: dict[DistFile, WheelInspection] = {}
    settled: dict[int, FixSearch] = {}
    pending = dict(searches)
    while pending:
        wanted: list[DistFile] = []
        for index, (finding, candidates) in list(pending.items()):
            state = search_fix(
                finding.pin.version or "", candidates, _looks(looked, finding, candidates), limit
            )
            if state.inspect:
                wanted.extend(state.inspect)
            else:
                settled[index] = state
                del pending[index]
        if wanted:
            looked.update(_read_all(reader, dict.fromkeys(wanted), budget, workers))
    return settled


def _looks(
    looked: Mapping[DistFile, WheelInspection], finding: Finding, candidates: Iterable[FixCandidate]
) -> dict[DistFile, Look]:
    out: dict[DistFile, Look] = {}
    for c in candidates:
        result = looked.get(c.file)
        if result is not None:
            out[c.file] = _judge(result, finding) if result.complete else result.why
    return out


def _read_all(
    reader: Any, files: Iterable[DistFile], budget: int | None, workers: int | None
) -> dict[DistFile, WheelInspection]:
    """Every file read (or why not), never raising: a file without a URL is not read."""
    from graviton.index.remote_zip import not_read

    out: dict[DistFile, WheelInspection] = {}
    pool = _Pool(reader, budget, workers)
    keys: dict[DistFile, str] = {}
    try:
        for file in files:
            if file.url is None:
                out[file] = not_read(file.filename, budget or 0, "the index gives no URL for it")
            else:
                keys[file] = pool.add(file)
        pool.wait()
    finally:
        pool.abandon()
    out.update({file: pool.done[key] for file, key in keys.items()})
    return out
