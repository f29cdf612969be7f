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

import contextlib
import itertools
import queue
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
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
    """Inspections of wheels on at most ``workers`` daemon threads, each wheel read once.

    Every change happens holding :attr:`changed` (re-entrant); ``on_done`` runs there after each
    wheel is read or given up, and may add wheels."""

    def __init__(
        self, reader: Any, budget: int | None, workers: int | None, on_done: Callable[[], None]
    ) -> None:
        self.reader = reader
        self.budget = budget
        self.workers = max(1, workers or getattr(reader, "inspections", 0) or 4)
        self.on_done = on_done
        self.jobs: dict[str, DistFile] = {}
        self.done: dict[str, WheelInspection] = {}
        # (0 for a fix's wheel: a search waits on it, else 1; order; None: stop)
        self.todo: queue.PriorityQueue[tuple[int, int, DistFile | None]] = queue.PriorityQueue()
        self.order = itertools.count()
        self.changed = threading.Condition(threading.RLock())
        self.stop = threading.Event()
        self.threads = 0
        # one wheel gets what one index page gets: a server that drips bytes ends the read
        self.limit = float(getattr(reader, "page_timeout", 60.0))
        self.started: dict[str, float] = {}  # wheel key -> when a thread began reading it

    def add(self, file: DistFile, first: bool = False) -> str:
        """Read ``file`` (once; ``first``: before the others waiting); a file without a URL is
        done at once, as not read."""
        from graviton.index.remote_zip import not_read

        key = _key(file)
        with self.changed:
            if key in self.jobs:
                return key
            self.jobs[key] = file
            if file.url is None:
                self.done[key] = not_read(file.filename, self.budget or 0, "the index gives no URL")
                return key
            self.todo.put((0 if first else 1, next(self.order), file))
            if self.threads < min(self.workers, len(self.jobs)):  # threads live until abandon()
                self._thread()
        return key

    def _thread(self) -> None:
        self.threads += 1
        threading.Thread(target=self._work, name="graviton-inspect", daemon=True).start()

    def _work(self) -> None:
        from graviton.interrupts import block_signals

        block_signals()
        while not self.stop.is_set():
            file = self.todo.get()[2]
            if file is None:
                return
            with self.changed:
                self.started[_key(file)] = time.monotonic()
            result = self._inspect(file)
            with self.changed:
                if _key(file) not in self.done:  # a late one was given up already
                    self.done[_key(file)] = result
                    self.advance()
                self.changed.notify_all()

    def advance(self) -> None:
        """``on_done``, which must not end a thread: a search it leaves unsettled gives no fix
        (:meth:`Inspector.fixes`)."""
        with contextlib.suppress(Exception):
            self.on_done()

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

    def give_up(self, key: str) -> None:
        """A late wheel is not read; a fresh thread takes over the queue from the stuck one."""
        from graviton.index.remote_zip import not_read

        with self.changed:
            why = f"not read within {self.limit:g}s (--timeout)"
            self.done[key] = not_read(self.jobs[key].url or key, self.budget or 0, why)
            self._thread()
            self.advance()

    def abandon(self) -> None:
        """Let the threads go: each takes one ``None`` and ends (a read in flight finishes)."""
        self.stop.set()
        with self.changed:
            for _ in range(self.threads):
                self.todo.put((-1, next(self.order), None))
            self.threads = 0


@dataclass
class _Search:
    """One finding's fix search: started at once (a fix by tags), or when the pin's own wheel
    turns out to carry x86-only code (``after``: that wheel's key)."""

    finding: Finding
    candidates: tuple[FixCandidate, ...]
    after: str | None = None
    eager: bool = False  # ask for every wheel at once (see search_fix)
    waiting: tuple[str, ...] = ()  # the wheels it asked for
    result: FixSearch | None = None  # settled


class Inspector:
    """Inspections of the wheels behind ``pure`` findings and of the pure wheels a fix would
    take, on at most ``workers`` threads. A fix search moves on as soon as the wheels it asked
    for are read (in the thread that read the last one), so it overlaps the rest of the run."""

    def __init__(
        self,
        reader: Any,
        budget: int | None = None,
        workers: int | None = None,
        limit: int = FIX_INSPECTIONS,
    ) -> None:
        self.pool = _Pool(reader, budget, workers, self._advance)
        self.limit = limit
        self.wanted: list[tuple[int, Finding, str]] = []  # (finding index, finding, wheel key)
        self.problems: list[str] = []
        self.searches: dict[int, _Search] = {}

    @property
    def reader(self) -> Any:
        return self.pool.reader

    def submit(
        self,
        index: int,
        finding: Finding,
        files: Sequence[DistFile],
        candidates: Sequence[FixCandidate] = (),
    ) -> None:
        """Look inside the wheel ``finding`` chose (one of ``files``); if it carries x86-only
        code, search a fix among ``candidates``."""
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
        key = self.submit_file(index, finding, file)
        if candidates:
            with self.pool.changed:
                self.searches[index] = _Search(finding, tuple(candidates), key, eager=True)
                self.pool.advance()

    def submit_direct(self, index: int, finding: Finding) -> None:
        """Look inside the wheel a direct reference (``name @ URL`` or a path) names."""
        self.submit_file(index, finding, direct_file(finding.pin))

    def submit_file(self, index: int, finding: Finding, file: DistFile) -> str:
        key = self.pool.add(file)
        self.wanted.append((index, finding, key))
        return key

    def prove(self, index: int, finding: Finding, candidates: Sequence[FixCandidate]) -> None:
        """Search the fix of ``finding`` (blocked or source) among ``candidates``, looking
        inside the pure wheels among them."""
        with self.pool.changed:
            self.searches[index] = _Search(finding, tuple(candidates))
            self.pool.advance()

    def _advance(self) -> None:
        """Move every search on that can move (holding the pool's lock)."""
        done = self.pool.done
        moved = True
        while moved:
            moved = False
            for index, search in list(self.searches.items()):
                if search.result is not None or any(k not in done for k in search.waiting):
                    continue
                if search.after is not None:
                    own = done.get(search.after)
                    if own is None:
                        continue
                    if not own.complete or not _judge(own, search.finding).blocked:
                        del self.searches[index]  # stays pure, or the run stops (exit 3)
                        continue
                    search.after = None
                looks = {
                    c.file: _look(done[_key(c.file)], search.finding)
                    for c in search.candidates
                    if _key(c.file) in done
                }
                version = search.finding.pin.version or ""
                state = search_fix(
                    version, search.candidates, looks, self.limit, eager=search.eager
                )
                if not state.inspect:
                    search.result = state
                    continue
                search.waiting = tuple(self.pool.add(f, first=True) for f in state.inspect)
                moved = moved or all(k in done for k in search.waiting)

    def _wait(self) -> None:
        """Until every wheel is read: a pin's wheel read for too long is exit 3; a fix
        candidate's is given up (the fix is then not proven)."""
        pool = self.pool
        pins = {key for _, _, key in self.wanted}
        with pool.changed:
            pool.advance()
            while len(pool.done) < len(pool.jobs):
                for key in pool.late():
                    if key in pins:
                        _, finding, _ = next(w for w in self.wanted if w[2] == key)
                        raise InspectionUnavailable(
                            f"{_label(finding)}: not read within {pool.limit:g}s (--timeout); "
                            f"{NO_INSPECT}"
                        )
                    pool.give_up(key)
                pool.changed.wait(0.2)

    def abandon(self) -> None:
        self.pool.abandon()

    def results(self) -> Iterator[tuple[int, NativeCheck]]:
        """(finding index, the check of its wheel) for every submitted finding; the first
        inspection that did not complete is :class:`InspectionUnavailable`."""
        if self.problems:
            self.abandon()
            raise InspectionUnavailable(self.problems[0])
        try:
            self._wait()
        finally:
            self.abandon()
        for index, finding, key in self.wanted:
            result = self.pool.done[key]
            if not result.complete:
                raise InspectionUnavailable(
                    f"{_label(finding)}: {result.why} (not proven free of x86 code; {NO_INSPECT})"
                )
            yield index, _judge(result, finding)

    def fixes(self) -> dict[int, FixSearch]:
        """The settled fix search of each finding that needed one (after :meth:`results`):
        the blocked/source findings given to :meth:`prove`, and the pure ones whose wheel
        turned out to carry x86-only code."""
        unsettled = FixSearch(note="not proven (the search did not finish)")
        with self.pool.changed:
            return {i: s.result or unsettled for i, s in self.searches.items() if s.after is None}


def _look(result: WheelInspection, finding: Finding) -> Look:
    return _judge(result, finding) if result.complete else result.why


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
