"""The fork pool behind the index workers: answers, errors, and a worker that dies mid-task
(the case that hung concurrent.futures' exit: a partial answer in a pipe nobody can finish)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from graviton.index.workers import ForkPool, WorkerDied


def _square(n: int) -> int:
    if n < 0:
        raise ValueError(f"negative: {n}")
    if n == 99:
        os.kill(os.getpid(), signal.SIGKILL)
    if n == 98:
        time.sleep(60)
    return n * n


def _collect(pool: ForkPool[int, int], tasks: list[int]) -> dict[int, object]:
    got: dict[int, object] = {}
    todo = list(tasks)
    while len(got) < len(tasks):
        while todo and pool.idle():
            pool.submit(todo.pop())
        for task, ok, value in pool.wait(5.0):
            got[task] = value if ok else repr(value)
    return got


def test_tasks_are_answered_and_errors_come_back_as_exceptions() -> None:
    pool: ForkPool[int, int] = ForkPool(2, _square, lambda: None)
    try:
        got = _collect(pool, [1, 2, 3, -4, 5])
    finally:
        pool.close()
    assert got == {1: 1, 2: 4, 3: 9, -4: "ValueError('negative: -4')", 5: 25}
    assert not multiprocessing.active_children()


def test_a_worker_that_dies_is_an_error_at_once_and_kill_leaves_nothing() -> None:
    pool: ForkPool[int, int] = ForkPool(2, _square, lambda: None)
    started = time.monotonic()
    try:
        with pytest.raises(WorkerDied, match="ended"):
            _collect(pool, [98, 99])
    finally:
        pool.kill()
    assert time.monotonic() - started < 10
    assert not multiprocessing.active_children()


def test_a_worker_holds_the_next_tasks_and_answers_them_in_order() -> None:
    pool: ForkPool[int, int] = ForkPool(1, _square, lambda: None, depth=3)
    try:
        assert pool.idle() == 3
        for n in (1, 2, 3):
            pool.submit(n)
        assert pool.idle() == 0
        with pytest.raises(RuntimeError, match="no worker has room"):
            pool.submit(4)
        assert [task for task, _ in pool.busy()] == [1]  # the one it works on
        order: list[int] = []
        deadline = time.monotonic() + 10
        while len(order) < 3 and time.monotonic() < deadline:
            order += [task for task, ok, _ in pool.wait(1.0) if ok]
        assert order == [1, 2, 3]
        assert pool.idle() == 3 and pool.busy() == []
    finally:
        pool.close()
    assert not multiprocessing.active_children()


def test_a_worker_that_dies_with_tasks_queued_is_an_error() -> None:
    pool: ForkPool[int, int] = ForkPool(1, _square, lambda: None, depth=2)
    try:
        pool.submit(99)  # kills its worker
        pool.submit(2)
        with pytest.raises(WorkerDied, match="ended"):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                pool.wait(1.0)
    finally:
        pool.kill()
    assert not multiprocessing.active_children()
