"""Worker processes forked from this one, each doing one task at a time, with the next ones
already queued in its pipe (``depth``): a worker never waits for this process to notice its
answer and hand it more work (this process also runs other threads, and waits for the GIL).

Each worker has its own two pipes (tasks in, results out), and only the thread that owns the pool
ever reads or writes them: there is no helper thread. That matters when things go wrong: a worker
killed halfway through sending a result leaves a partial message in its pipe, and a helper thread
blocked on it (``concurrent.futures`` has one) would hold the interpreter's exit forever. Here the
parent holds no copy of a worker's write end, so a dead worker is an end of file at once.

Fork only (Linux): the workers start with everything this process has imported, in microseconds,
instead of importing it again. The pool must be started before the process starts threads that
take locks a worker could need.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class WorkerDied(Exception):
    """A worker process ended (killed, crashed) instead of answering."""


@dataclass
class _Worker(Generic[T]):
    process: Any  # multiprocessing's fork Process
    tasks: multiprocessing.connection.Connection  # the parent's end: send
    results: multiprocessing.connection.Connection  # the parent's end: receive
    # what it was given, in order: the first is the one it is working on
    queue: deque[T] = field(default_factory=deque)
    started: float = 0.0  # time.monotonic() when the first of ``queue`` began (about)


def _serve(
    tasks: multiprocessing.connection.Connection,
    results: multiprocessing.connection.Connection,
    inherited: list[multiprocessing.connection.Connection],
    init: Callable[[], None],
    run: Callable[[Any], Any],
) -> None:
    """A worker: ``init()``, then answer tasks until told to stop (``None``) or orphaned."""
    for conn in inherited:  # the parent's ends of every pipe: never this worker's to hold
        conn.close()
    init()
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            answer: tuple[bool, Any] = (True, run(task))
        except BaseException as exc:  # sent to the parent, which raises it
            answer = (False, exc)
        try:
            results.send(answer)
        except Exception as exc:  # an answer that does not pickle: say what it was
            results.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


class ForkPool(Generic[T, R]):
    """``count`` forked workers running ``run(task)``; ``init()`` runs first in each; each
    holds up to ``depth`` tasks (the one it works on and the next ones)."""

    def __init__(
        self, count: int, run: Callable[[T], R], init: Callable[[], None], depth: int = 1
    ) -> None:
        context = multiprocessing.get_context("fork")
        self.depth = max(1, depth)
        self.workers: list[_Worker[T]] = []
        try:
            for _ in range(count):
                task_in, task_out = context.Pipe(duplex=False)
                result_in, result_out = context.Pipe(duplex=False)
                parents = [conn for w in self.workers for conn in (w.tasks, w.results)]
                process = context.Process(  # type: ignore[attr-defined]
                    target=_serve,
                    args=(task_in, result_out, [*parents, task_out, result_in], init, run),
                    name="graviton-worker",
                    daemon=True,
                )
                process.start()
                task_in.close()
                result_out.close()
                self.workers.append(_Worker(process, task_out, result_in))
        except BaseException:
            self.kill()
            raise

    def idle(self) -> int:
        """How many more tasks the workers can be given now."""
        return sum(self.depth - len(w.queue) for w in self.workers)

    def submit(self, task: T) -> None:
        """Hand ``task`` to the least loaded worker (there must be room: see :meth:`idle`)."""
        worker = min(self.workers, key=lambda w: len(w.queue))
        if len(worker.queue) >= self.depth:
            raise RuntimeError("no worker has room for another task")
        if not worker.queue:
            worker.started = time.monotonic()
        worker.queue.append(task)
        worker.tasks.send(task)

    def busy(self) -> list[tuple[T, float]]:
        """The task each working worker is on, and since when (``time.monotonic()``)."""
        return [(w.queue[0], w.started) for w in self.workers if w.queue]

    def wait(self, timeout: float) -> list[tuple[T, bool, Any]]:
        """``(task, ok, result or exception)`` of every task answered within ``timeout``
        seconds (an empty list if none was); a worker that died is :class:`WorkerDied`."""
        busy = [w for w in self.workers if w.queue]
        watched: list[Any] = [w.results for w in busy] + [w.process.sentinel for w in busy]
        ready = set(multiprocessing.connection.wait(watched, timeout))
        answers: list[tuple[T, bool, Any]] = []
        for worker in busy:
            if worker.results in ready:
                while worker.queue:  # every answer already in the pipe
                    try:
                        ok, value = worker.results.recv()
                    except (EOFError, OSError):
                        raise WorkerDied(f"worker {worker.process.pid} ended mid-answer") from None
                    answers.append((worker.queue.popleft(), ok, value))
                    worker.started = time.monotonic()  # the next one began about now
                    if not worker.results.poll():
                        break
            elif worker.process.sentinel in ready:
                code = worker.process.exitcode
                raise WorkerDied(f"worker {worker.process.pid} ended (exit code {code})")
        return answers

    def close(self) -> None:
        """Let idle workers finish; kill any still at work or not gone within a second."""
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.tasks.send(None)
        for worker in self.workers:
            worker.process.join(1.0)
        self.kill()

    def kill(self) -> None:
        """End every worker now (SIGKILL), mid-task or not, and drop the pipes."""
        for worker in self.workers:
            with contextlib.suppress(Exception):
                if worker.process.is_alive():
                    worker.process.kill()
        for worker in self.workers:
            with contextlib.suppress(Exception):
                worker.process.join(2.0)
            for conn in (worker.tasks, worker.results):
                with contextlib.suppress(Exception):
                    conn.close()
        self.workers = []
