"""Ctrl-C and SIGTERM, the same way for every command.

SIGTERM is what CI runners, ECS and Kubernetes send on cancel. Its default action ends the
process at once, leaving behind whatever graviton was in the middle of: a container under
emulation, half a capacity twin, a shift's lease, a parse worker. While a command runs,
:func:`sigterm_raises` turns SIGTERM into :class:`Terminated`, raised in the main thread as
Ctrl-C raises ``KeyboardInterrupt``: not an ``Exception``, so nothing swallows it, and every
clean-up that runs on Ctrl-C (a ``finally``, an ``except BaseException``) runs on SIGTERM too.
``graviton.cli`` then prints one line and exits 143 (130 for Ctrl-C).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})  # the two a user or a runner sends


class Terminated(BaseException):
    """SIGTERM arrived; ``note`` (optional) says what was left how, for the one line printed."""

    def __init__(self, note: str = "") -> None:
        super().__init__(note)
        self.note = note


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` in the main thread (signals
    reach only the main thread; elsewhere this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def block_signals() -> None:
    """SIGINT and SIGTERM blocked in the calling (worker) thread for good: they go to the main
    thread, which alone handles them (and stay blocked in processes this thread forks)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back in this thread while the block runs, delivered when it ends:
    an exception raised by a handler inside concurrent or multiprocessing code can leave one of
    its locks taken (and a thread waiting on it then hangs the exit)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def shield() -> None:
    """A clean-up has started: a second Ctrl-C or SIGTERM must not cut it short (SIGKILL still
    can). Call from the ``except`` that cleans up; :func:`sigterm_raises` restores SIGTERM."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def terminated_line(exc: Terminated) -> str:
    return "graviton: terminated" + (f" (SIGTERM): {exc.note}" if exc.note else "")
