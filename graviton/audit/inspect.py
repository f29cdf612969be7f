"""Looking inside the wheels judged ``pure``, while the index pages are still being read.

A ``py3-none-any`` wheel can carry an x86-64 program (chromedriver-py ships one): for each wheel
a ``pure`` verdict chose, the index client reads its zip directory and the first bytes of the
members that can be native (HTTP range requests, a byte budget per wheel), and
:func:`graviton.checks.binaries.judge_natives` decides. Each wheel is read once per run (several
targets share it), by a few daemon threads started as the first pure verdict arrives.

An inspection that did not complete proves nothing, and a ``pure`` verdict it would have had to
confirm is not given: the audit stops with :class:`InspectionUnavailable` (exit 3), one line
naming the pin and why. ``--no-inspect`` skips the step.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from graviton.checks.binaries import Arch, NativeCheck, classify, header_bytes_needed, judge_natives
from graviton.errors import ServiceUnavailable
from graviton.findings import Finding
from graviton.index import DistFile

if TYPE_CHECKING:
    from graviton.index.remote_zip import WheelInspection

NO_INSPECT = "--no-inspect skips looking inside pure wheels"


class InspectionUnavailable(ServiceUnavailable):
    """A wheel that had to be looked into could not be (exit 3): never a pass."""


class Inspector:
    """Inspections of the wheels behind ``pure`` findings, on at most ``workers`` threads."""

    def __init__(self, reader: Any, budget: int | None = None, workers: int | None = None) -> None:
        self.reader = reader
        self.budget = budget
        self.workers = max(1, workers or getattr(reader, "inspections", 0) or 4)
        self.wanted: list[tuple[int, Finding, str]] = []  # (finding index, finding, wheel key)
        self.problems: list[str] = []
        self.jobs: dict[str, DistFile] = {}
        self.done: dict[str, WheelInspection] = {}
        self.todo: queue.SimpleQueue[DistFile | None] = queue.SimpleQueue()  # None: stop
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.threads = 0
        # one wheel gets what one index page gets: a server that drips bytes ends the run
        self.limit = float(getattr(reader, "page_timeout", 60.0))
        self.started: dict[str, float] = {}  # wheel key -> when a thread began reading it

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
            self.problems.append(
                f"{pin.name}{pin.pinned}: this index reader cannot read wheels ({NO_INSPECT})"
            )
            return
        key = file.sha256 or file.url
        self.wanted.append((index, finding, key))
        if key in self.jobs:
            return
        self.jobs[key] = file
        self.todo.put(file)
        if self.threads < min(self.workers, len(self.jobs)):  # threads live until results()
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
                self.started[file.sha256 or file.url or ""] = time.monotonic()
            result = self._inspect(file)
            with self.changed:
                self.done[file.sha256 or file.url or ""] = result
                self.changed.notify_all()

    def _inspect(self, file: DistFile) -> WheelInspection:
        from graviton.index.remote_zip import not_read

        assert file.url is not None
        try:
            result: WheelInspection = self.reader.inspect(
                file.url, file.sha256, budget=self.budget, needs=header_bytes_needed
            )
        except Exception as exc:
            return not_read(file.url, self.budget or 0, f"inspection failed: {exc}")
        return result

    def _check_late(self) -> None:
        """A wheel read for longer than :attr:`limit` seconds is not proven (exit 3)."""
        now = time.monotonic()
        for key, start in self.started.items():
            if key not in self.done and now - start > self.limit:
                _, finding, _ = next(w for w in self.wanted if w[2] == key)
                raise InspectionUnavailable(
                    f"{finding.pin.name}{finding.pin.pinned}: {finding.wheel}: not read within "
                    f"{self.limit:g}s (--timeout); {NO_INSPECT}"
                )

    def abandon(self) -> None:
        """Let the threads go: each takes one ``None`` and ends (a read in flight finishes)."""
        self.stop.set()
        for _ in range(self.threads):
            self.todo.put(None)
        self.threads = 0

    def results(self) -> Iterator[tuple[int, NativeCheck]]:
        """(finding index, the check of its wheel) for every submitted finding; the first
        inspection that did not complete is :class:`InspectionUnavailable`."""
        if self.problems:
            self.abandon()
            raise InspectionUnavailable(self.problems[0])
        try:
            with self.changed:
                while len(self.done) < len(self.jobs):
                    self._check_late()
                    self.changed.wait(0.2)
        finally:
            self.abandon()
        for index, finding, key in self.wanted:
            result = self.done[key]
            if not result.complete:
                raise InspectionUnavailable(
                    f"{finding.pin.name}{finding.pin.pinned}: {finding.wheel}: {result.why} "
                    f"(not proven free of x86 code; {NO_INSPECT})"
                )
            members = [(h.path, classify(h.head)) for h in result.heads]
            yield index, judge_natives(members, _arch(finding.target.arch))


def _arch(name: str) -> Arch:
    try:
        return Arch(name)
    except ValueError:
        return Arch.AARCH64
