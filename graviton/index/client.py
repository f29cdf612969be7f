"""The simple-repository client: PEP 691 JSON first, PEP 503 HTML as a fallback.

Only file lists are read (never a wheel). Pages are fetched concurrently through one pooled
``requests`` session whose adapter retries (urllib3 ``Retry``: connection errors, timeouts,
429 and 5xx, honouring ``Retry-After`` up to 30 s), kept in :class:`PageCache`, and read under
three bounds: a size cap per page, a deadline per page and a deadline per run. A project the
index does not have (404/410) is ``None``; anything else the client cannot prove is
:class:`IndexUnavailable` (exit 3), never a verdict.

A batch of pages is read by worker processes when the client is given some (the CLI does) and
the platform forks: parsing a page is CPU work, and threads of one process parse one page at a
time under its GIL, so on a 2-core runner half the machine sat idle. The workers are forked
before any thread starts, each reads one project at a time with the same code a thread runs and
keeps only the releases asked for (``since``); the parent gets a small :class:`Project` back with
its cache entries, and is the cache's one writer. Otherwise (one page, macOS, a caller's own
session) threads read them.

Fetch threads are daemons with SIGINT/SIGTERM blocked: the main thread alone handles a signal,
stops waiting, kills the worker processes and leaves; nothing joins a thread stuck on a slow
server. Worker processes ignore SIGINT and exit when their parent is gone (even SIGKILLed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import os
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from urllib3.util.retry import Retry

from graviton import __version__
from graviton.errors import UsageError, one_line
from graviton.index.cache import CacheEntry, InspectionCache, PageCache, max_age
from graviton.index.model import (
    IndexUnavailable,
    Packed,
    Project,
    ProjectRequest,
    normal_version,
)
from graviton.index.parse import ACCEPT, parse_page
from graviton.index.urls import PYPI, check_index_url, page_url, redact
from graviton.index.workers import ForkPool, WorkerDied
from graviton.interrupts import SIGNALS, block_signals, signals_held

if TYPE_CHECKING:
    from graviton.index.remote_zip import WheelInspection


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# worker processes reading pages (each holds up to two pages, ~7 MB each on PyPI, in memory).
# Reading a page is CPU work, and one connection carries ~50 MB/s here: a small batch is bound
# by the CPU, where more than two workers per CPU only contend, a big one by the network, where
# a third per CPU pays (measured on 2 vCPUs: 150 projects, 4 workers 0.74 s, 6 workers 0.80 s;
# 500 projects, 4 workers 1.72 s, 6 workers 1.55 s)
DEFAULT_JOBS = max(2, min(8, 3 * _cpus()))  # the most, and the request threads of other reads
PROJECTS_PER_WORKER = 80  # beyond two workers per CPU, one more per this many projects


def auto_processes(projects: int) -> int:
    """Worker processes for a batch of ``projects`` when ``-j`` is not given."""
    wanted = max(2 * _cpus(), -(-projects // PROJECTS_PER_WORKER))
    return max(1, min(DEFAULT_JOBS, projects, wanted))


INSPECTIONS = 32  # wheels looked into at once: small range requests, bound by latency
DEFAULT_MAX_PAGE_BYTES = 64 * 1024 * 1024  # PyPI's biggest project pages are ~10x smaller
MAX_PAGE_ENV = "GRAVITON_MAX_PAGE_SIZE"
DEFAULT_RUN_TIMEOUT = 600.0  # seconds for all the index reads of one run (--timeout)
DEFAULT_PAGE_TIMEOUT = 60.0  # seconds for one page: connect, retries, headers and body
DUE = 0.5  # seconds: at the run deadline, a page this close to its own deadline is named
# projects queued per worker process: the next one waits in its pipe, so it never idles while
# this process (busy with wheel inspections, under the GIL) is slow to hand it more
QUEUED = 2
WRITE_BATCH = 64  # cache entries written per transaction by the parent (one each cost ~0.15 ms)
WORKER_GRACE = 10.0  # seconds a worker process gets beyond the page deadline it enforces itself
SOCKET_TIMEOUT = 15.0  # seconds for a connect or a single read
RETRY_AFTER_CAP = 30.0
_CHUNK = 256 * 1024

_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2}
_SIZE_UNITS |= {"mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


def parse_size(text: str, what: str = MAX_PAGE_ENV) -> int:
    """``"64MB"`` -> 64000000, ``"64MiB"``, ``"512k"``, ``"1000000"``; at least 1 KiB."""
    raw = text.strip().lower().replace(" ", "")
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    try:
        size = int(float(number) * _SIZE_UNITS[raw[len(number) :]])
    except (KeyError, ValueError):
        raise UsageError(f"{what}: not a size: {text!r} (examples: 64MB, 200MiB)") from None
    if size < 1024:
        raise UsageError(f"{what}: {text!r} is too small (at least 1KiB)")
    return size


def default_max_page_bytes() -> int:
    env = os.environ.get(MAX_PAGE_ENV)
    return parse_size(env) if env else DEFAULT_MAX_PAGE_BYTES


def _size_text(size: int) -> str:
    return f"{size / 1024**2:g} MiB" if size >= 1024**2 else f"{size / 1024:g} KiB"


class _Retry(Retry):
    """urllib3's Retry, with a server's ``Retry-After`` capped (the run has a deadline)."""

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, RETRY_AFTER_CAP)


class _Batch:
    """What the fetch threads of one :meth:`IndexClient.projects` call share."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.inflight: dict[int, tuple[str, float, Any]] = {}  # thread -> (page, start, response)

    def enter(self, url: str, response: Any = None) -> None:
        with self.lock:
            start = self.inflight.get(threading.get_ident(), (url, time.monotonic(), None))[1]
            self.inflight[threading.get_ident()] = (url, start, response)

    def leave(self) -> None:
        with self.lock:
            self.inflight.pop(threading.get_ident(), None)

    def late(self, now: float, limit: float) -> tuple[str | None, float]:
        """(the first page over ``limit`` seconds, or None; seconds until the next one is)."""
        with self.lock:
            pages = list(self.inflight.values())
        wait = limit
        for url, start, _ in pages:
            if now - start >= limit:
                return url, 0.0
            wait = min(wait, start + limit - now)
        return None, wait

    def abandon(self) -> None:
        """Stop taking work and cut the connections still reading (their threads then end)."""
        self.stop.set()
        with self.lock:
            responses = [r for _, _, r in self.inflight.values() if r is not None]
        for response in responses:
            with contextlib.suppress(Exception):
                response.raw.connection.sock.shutdown(socket.SHUT_RDWR)


class IndexClient:
    """Reads project pages from one or more indexes, concurrently, through one connection pool."""

    def __init__(
        self,
        index_urls: Iterable[str] = (PYPI,),
        *,
        cache: PageCache | None = None,
        offline: bool = False,
        timeout: float = SOCKET_TIMEOUT,
        retries: int = 3,
        backoff: float = 0.5,
        workers: int = DEFAULT_JOBS,
        session: Any = None,
        processes: int | None = 0,
        inspections: int = INSPECTIONS,
        page_timeout: float = DEFAULT_PAGE_TIMEOUT,
        run_timeout: float = DEFAULT_RUN_TIMEOUT,
        max_page_bytes: int | None = None,
    ) -> None:
        self.index_urls = tuple(check_index_url(u) for u in index_urls)
        if not self.index_urls:
            raise ValueError("at least one index URL is needed")
        self.cache = cache
        self.offline = offline
        self.run_timeout = run_timeout
        self.page_timeout = min(page_timeout, run_timeout)
        self.timeout = min(timeout, self.page_timeout)
        self.retries = retries
        self.backoff = backoff
        self.workers = max(1, workers)
        self.max_page_bytes = max_page_bytes or default_max_page_bytes()
        self._session = session
        self._own_session = session is None
        # worker processes reading a batch of pages (0: threads; None: auto_processes)
        self.processes = processes
        self.inspections = max(1, inspections)
        self._pool: ForkPool[_Task, _Answer] | None = None
        self._alarmed = False  # True in a worker process: SIGALRM keeps the page deadline
        self._fresh_locks()

    def _fresh_locks(self) -> None:
        self._lock = threading.Lock()
        self._inspecting = 0  # inspections running (under _lock)
        self._unwritten_inspections: list[tuple[str, dict[str, Any]]] = []
        self._parsing = threading.BoundedSemaphore(2)  # pages decoded at once (memory)
        self._local = threading.local()

    # -- HTTP -----------------------------------------------------------------------------------
    def _http(self) -> Any:
        with self._lock:
            if self._session is None:
                from graviton.trust import SteadySession, TrustAdapter

                retry = _Retry(
                    total=self.retries,
                    backoff_factor=self.backoff,
                    backoff_max=10,
                    status_forcelist=(429, *range(500, 600)),
                    allowed_methods=frozenset({"GET"}),
                    raise_on_status=False,
                    respect_retry_after_header=True,
                )
                session = SteadySession()
                adapter = TrustAdapter(
                    pool_connections=4,
                    pool_maxsize=max(self.workers, self.inspections),
                    max_retries=retry,
                )
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["User-Agent"] = f"graviton/{__version__}"
                self._session = session
            return self._session

    def _batch(self) -> _Batch:
        batch: _Batch | None = getattr(self._local, "batch", None)
        return batch if batch is not None else _Batch()

    def _fetch(self, url: str, etag: str | None) -> tuple[int, Any, bytes]:
        """(status, headers, body) of one GET, retried by the session's adapter; the body of a
        200 is read under the size cap and the page deadline."""
        import requests

        headers = {"Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        batch = self._batch()
        batch.enter(url)
        deadline = time.monotonic() + self.page_timeout
        try:
            try:
                resp = self._http().get(url, headers=headers, timeout=self.timeout, stream=True)
            except requests.RequestException as exc:
                raise IndexUnavailable(
                    f"{redact(url)}: {_describe(exc)} (after {self.retries + 1} attempts)"
                ) from None
            batch.enter(url, resp)
            with resp:
                status = resp.status_code
                if status == 429 or status >= 500:
                    history = getattr(getattr(resp.raw, "retries", None), "history", ())
                    raise IndexUnavailable(
                        f"{redact(url)}: HTTP {status} (after {len(history) + 1} attempts)"
                    )
                body = self._read_body(resp, url, deadline) if status == 200 else b""
                return status, resp.headers, body
        finally:
            batch.leave()

    def _read_body(self, resp: Any, url: str, deadline: float) -> bytes:
        import requests
        import urllib3.exceptions

        cap = self.max_page_bytes
        too_big = (
            f"{redact(url)}: page is larger than the {_size_text(cap)} cap "
            f"(raise it with {MAX_PAGE_ENV}, e.g. {MAX_PAGE_ENV}=256MiB)"
        )
        length = resp.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > cap:
            raise IndexUnavailable(too_big)
        raw = resp.raw
        # read1 returns what has arrived, so the deadline is checked often; a worker process,
        # whose alarm ends a late read wherever it blocks, reads in whole chunks (less CPU)
        read = (None if self._alarmed else getattr(raw, "read1", None)) or raw.read
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise IndexUnavailable(self._late_message(url))
                chunk = read(_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise IndexUnavailable(too_big)
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise IndexUnavailable(f"{redact(url)}: reading the page: {_describe(exc)}") from None
        return b"".join(chunks)

    def _late_message(self, url: str) -> str:
        return f"{redact(url)}: no complete answer within {self.page_timeout:g}s (--timeout)"

    # -- one page -------------------------------------------------------------------------------
    def _page(
        self, index_url: str, name: str, since: str | None = None
    ) -> dict[str, Packed] | None:
        """The page's files grouped by version (from ``since`` on); None on 404/410."""
        url = page_url(index_url, name)
        since = normal_version(since) if since is not None else None
        now = time.time()
        cached = self.cache.get(url) if self.cache else None
        if cached is not None and not cached.covers(since):
            cached = None  # it lacks releases this run needs: read the whole page again
        if self.offline:
            if cached is None:
                raise IndexUnavailable(f"--offline: {name} from {redact(index_url)} is not cached")
            return cached.releases
        if cached is not None and cached.fresh(now):
            return cached.releases
        status, headers, body = self._fetch(url, cached.etag if cached else None)
        if status == 304 and cached is not None and self.cache is not None:
            return self.cache.touch(
                url, cached, now, max_age(headers.get("Cache-Control"))
            ).releases
        if status in (404, 410):
            return None
        if status in (401, 403):
            raise IndexUnavailable(
                f"{redact(url)}: HTTP {status}: the index refused the credentials "
                "(user:password@ in the URL, or ~/.netrc)"
            )
        if status != 200:
            raise IndexUnavailable(f"{redact(url)}: HTTP {status}")
        with self._parsing:  # two pages at a time: a decoded page costs ~4x its size
            releases = parse_page(body, headers.get("Content-Type"), url, since)
            del body
        if self.cache is not None:
            self.cache.put(
                url,
                CacheEntry(
                    releases,
                    headers.get("ETag"),
                    now,
                    max_age(headers.get("Cache-Control")),
                    since,
                ),
            )
        return releases

    # -- wheels ---------------------------------------------------------------------------------
    def inspect(
        self,
        url: str,
        sha256: str | None = None,
        *,
        budget: int | None = None,
        needs: Callable[[bytes], int] | None = None,
    ) -> WheelInspection:
        """What :func:`remote_zip.inspect_wheel` reads of one wheel, through this client's session
        (its retries; credentials of the index the file sits under), cached next to the pages
        when complete. Never raises for what the server does: the result says why not."""
        from graviton.index import remote_zip

        budget = budget or remote_zip.DEFAULT_BUDGET
        cache = InspectionCache(self.cache.root) if self.cache is not None else None
        key = InspectionCache.key(url, sha256, budget)
        cached = cache.get(key) if cache is not None else None
        if cached is not None:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                return remote_zip.WheelInspection.from_dict(cached)
        if self.offline:
            return remote_zip.not_read(url, budget, "--offline: the inspection is not cached")
        with self._lock:
            self._inspecting += 1
        result: WheelInspection | None = None
        try:
            result = remote_zip.inspect_wheel(
                self._with_credentials(url),
                self._http(),
                timeout=self.timeout,
                budget=budget,
                needs=needs,
            )
            result = dataclasses.replace(result, url=redact(result.url))
            return result
        finally:
            self._keep_inspection(cache, key, result)

    def _keep_inspection(
        self, cache: InspectionCache | None, key: str, result: WheelInspection | None
    ) -> None:
        """Queue a complete inspection for the cache; written WRITE_BATCH at a time, and all of
        them as soon as no inspection is running (so the last one of a run writes the rest)."""
        complete = cache is not None and result is not None and result.complete
        doc = result.to_dict() if complete and result is not None else None  # outside the lock
        with self._lock:
            self._inspecting -= 1
            if doc is not None:
                self._unwritten_inspections.append((key, doc))
            writes: list[tuple[str, dict[str, Any]]] = []
            if self._inspecting == 0 or len(self._unwritten_inspections) >= WRITE_BATCH:
                writes, self._unwritten_inspections = self._unwritten_inspections, []
        if cache is not None and writes:
            cache.put_many(writes)

    def _with_credentials(self, url: str) -> str:
        """``url`` with the user:password of the index on the same scheme, host and port, if any
        (PEP 503 links are often relative to a private index's page)."""
        target = urlsplit(url)
        for index in self.index_urls:
            parts = urlsplit(index)
            if (
                "@" in parts.netloc
                and (parts.scheme, parts.hostname, parts.port)
                == (target.scheme, target.hostname, target.port)
                and "@" not in target.netloc
            ):
                userinfo = parts.netloc.rpartition("@")[0]
                return urlunsplit(target._replace(netloc=f"{userinfo}@{target.netloc}"))
        return url

    def close(self, kill: bool = False) -> None:
        """Stop the worker processes, if any run; ``kill``: at once, even mid-read (a slow
        server must not hold the run, and nothing may outlive it)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            if kill:
                pool.kill()
            else:
                pool.close()

    # -- projects -------------------------------------------------------------------------------
    def _project(
        self, name: str, index_urls: tuple[str, ...], since: str | None = None
    ) -> Project | None:
        releases: dict[str, Packed] = {}
        found: list[str] = []
        for url in index_urls or self.index_urls:
            page = self._page(url, name, since)
            if page is None:
                continue
            found.append(redact(url))
            if not releases:
                releases = page
            else:
                for version, packed in page.items():
                    have = releases.get(version)
                    releases[version] = f"{have}\n{packed}" if have else packed
        if not found:
            return None
        return Project(name=name, releases=releases, index_url=", ".join(found))

    def project(
        self, name: str, index_urls: Iterable[str] | None = None, since: str | None = None
    ) -> Project | None:
        """The union of ``name``'s files on every index (pip's behaviour); None if none has it.
        ``since``: only the releases from that version on are needed."""
        for _, _, project in self.projects([(name, tuple(index_urls or ()))], {name: since}):
            return project
        return None

    def projects(
        self,
        requests_: Iterable[ProjectRequest],
        since: Mapping[str, str | None] | None = None,
    ) -> Iterator[tuple[str, tuple[str, ...], Project | None]]:
        """Fetch many ``(name, index_urls)`` concurrently (empty ``index_urls``: this client's
        own); yields each as it completes. ``since`` maps a name to the lowest release the
        caller needs (older ones are skipped while parsing). A page over the page deadline, or
        a batch over the run deadline, is :class:`IndexUnavailable` at once: nothing waits for
        a slow server."""
        todo = list(dict.fromkeys(requests_))
        if not todo:
            return
        floors = dict(since or {})
        if self.processes != 0 and len(todo) > 1 and self._own_session and _can_fork():
            yield from self._in_processes(todo, floors)
        else:
            yield from self._in_threads(todo, floors)

    def _run_late(self, todo: list[ProjectRequest], done: int) -> IndexUnavailable:
        indexes = sorted({redact(u) for _, us in todo for u in us or self.index_urls})
        return IndexUnavailable(
            f"{', '.join(indexes)}: the index reads did not finish within "
            f"{self.run_timeout:g}s (--timeout); {done} of {len(todo)} projects read"
        )

    def _in_threads(
        self, todo: list[ProjectRequest], floors: dict[str, str | None]
    ) -> Iterator[tuple[str, tuple[str, ...], Project | None]]:
        batch = _Batch()
        jobs: queue.SimpleQueue[ProjectRequest] = queue.SimpleQueue()
        for item in todo:
            jobs.put(item)
        results: queue.SimpleQueue[tuple[ProjectRequest, Project | None, BaseException | None]]
        results = queue.SimpleQueue()

        def work() -> None:
            block_signals()
            self._local.batch = batch
            while not batch.stop.is_set():
                try:
                    item = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    results.put((item, self._project(*item, floors.get(item[0])), None))
                except BaseException as exc:  # handed to the main thread, which raises it
                    results.put((item, None, exc))

        for _ in range(min(self.workers, len(todo))):
            threading.Thread(target=work, name="graviton-index", daemon=True).start()
        run_deadline = time.monotonic() + self.run_timeout
        try:
            for done in range(len(todo)):
                while True:
                    now = time.monotonic()
                    late, wait_s = batch.late(now, self.page_timeout)
                    if late is None and now >= run_deadline:
                        # a page whose own deadline is due now names itself (the same
                        # --timeout set both): a better line than "the reads did not finish"
                        late, _ = batch.late(now, self.page_timeout - DUE)
                        if late is None:
                            raise self._run_late(todo, done)
                    if late is not None:
                        raise IndexUnavailable(self._late_message(late))
                    try:
                        item, project, error = results.get(
                            timeout=max(0.01, min(wait_s, run_deadline - now, 1.0))
                        )
                        break
                    except queue.Empty:
                        continue
                if error is not None:
                    raise error
                yield item[0], item[1], project
        finally:
            batch.abandon()

    def _in_processes(
        self, todo: list[ProjectRequest], floors: dict[str, str | None]
    ) -> Iterator[tuple[str, tuple[str, ...], Project | None]]:
        """Each project read by a forked worker, one at a time per worker (with the next ones
        queued behind it, see QUEUED); the worker enforces the page deadline itself, this
        process the run deadline and a backstop against a worker that stops answering."""
        with signals_held():
            count = self.processes or auto_processes(len(todo))
            pool = self._start_pool(min(count, len(todo)))
        waiting = list(reversed(todo))
        answered: list[tuple[_Task, bool, Any]] = []
        unwritten: list[tuple[str, CacheEntry]] = []
        failed = False
        run_deadline = time.monotonic() + self.run_timeout
        finished = False

        def refill() -> None:
            """Hand every worker with room its next projects."""
            with signals_held():
                while waiting and pool.idle():
                    item = waiting.pop()
                    pool.submit((item, floors.get(item[0])))

        try:
            for done in range(len(todo)):
                while not answered:
                    refill()
                    now = time.monotonic()
                    if now >= run_deadline:
                        # a worker whose page ran out at the same time is about to say which
                        # page it was: a better line than "the reads did not finish"
                        overdue = any(
                            now - since >= self.page_timeout - DUE for _, since in pool.busy()
                        )
                        if not overdue or now >= run_deadline + 1.0:
                            raise self._run_late(todo, done)
                    for ((name, urls), _), since in pool.busy():
                        limit = self.page_timeout * len(urls or self.index_urls)
                        if now - since > limit + WORKER_GRACE:
                            url = page_url((urls or self.index_urls)[0], name)
                            raise IndexUnavailable(self._late_message(url))
                    next_check = run_deadline if now < run_deadline else run_deadline + 1.0
                    try:
                        answered = pool.wait(max(0.01, min(1.0, next_check - now)))
                    except WorkerDied as exc:
                        raise IndexUnavailable(
                            f"{redact(self.index_urls[0])}: a process reading the index ended "
                            f"unexpectedly ({exc})"
                        ) from None
                    answered.reverse()  # pop() takes them in the order they came
                ((name, urls), _), ok, value = answered.pop()
                if not ok:
                    raise value
                refill()  # before the caller takes its time over this project
                project, writes = value
                unwritten.extend(writes)
                if len(unwritten) >= WRITE_BATCH and self.cache is not None:
                    self.cache.put_many(unwritten)
                    unwritten = []
                yield name, urls, project
            finished = True
        except IndexUnavailable:
            failed = True  # a page failed: what was read stays read (not on Ctrl-C)
            raise
        finally:
            with signals_held():
                self.close(kill=not finished)
            if self.cache is not None and (finished or failed):
                self.cache.put_many(unwritten)

    def _start_pool(self, count: int) -> ForkPool[_Task, _Answer]:
        """``count`` forked workers, started now (before any thread of this batch exists)."""
        from graviton.trust import context_for, environment_bundle

        context_for(environment_bundle())  # the CA bundle, loaded once for every worker
        self.close(kill=True)
        pool: ForkPool[_Task, _Answer] = ForkPool(
            count,
            _read_in_worker,
            functools.partial(_process_init, os.getpid(), self),
            depth=QUEUED,
        )
        with self._lock:
            self._pool = pool
        return pool


_Task = tuple[ProjectRequest, str | None]  # (project, lowest release needed)
_Answer = tuple[Project | None, list[tuple[str, CacheEntry]]]  # (project, its cache writes)


_WORKER_CLIENT: IndexClient | None = None  # in a worker process: the client it was forked from


def _process_init(parent: int, client: IndexClient) -> None:
    """A forked page worker: its own signal handling, its own connections and locks (never the
    parent's sockets), and an exit as soon as the parent is gone."""
    global _WORKER_CLIENT
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # ends the worker quietly
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)  # forked with them held
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    # a decoded page is a million small objects without cycles, freed by reference counts:
    # the cycle collector only walked them (~7% of a cold audit's CPU); a worker's life is short
    gc.disable()
    if client._own_session:
        client._session = None
    client._pool = None
    client._alarmed = True
    client._fresh_locks()
    if client.cache is not None:
        client.cache.hold_writes()
    _WORKER_CLIENT = client


class _PageLate(BaseException):
    """The page deadline passed in a worker (a BaseException: no library's ``except Exception``
    may take it for a connection error)."""


def _read_in_worker(task: _Task) -> _Answer:
    """One project, read in this worker's only thread; SIGALRM ends a read that passes the page
    deadline (per index the project is read from), wherever it is blocked."""
    client = _WORKER_CLIENT
    if client is None:
        raise RuntimeError("not a graviton index worker")
    (name, urls), since = task
    batch = _Batch()
    client._local.batch = batch

    def late(signum: int, frame: object) -> None:
        raise _PageLate

    signal.signal(signal.SIGALRM, late)
    signal.setitimer(signal.ITIMER_REAL, client.page_timeout * len(urls or client.index_urls))
    try:
        project = client._project(name, urls, since)
        return project, client.cache.take_held() if client.cache is not None else []
    except _PageLate:
        reading = [url for url, _, _ in batch.inflight.values()]
        url = reading[0] if reading else page_url((urls or client.index_urls)[0], name)
        raise IndexUnavailable(client._late_message(url)) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        batch.abandon()


def _can_fork() -> bool:
    """Linux only: macOS's system libraries are not fork-safe, Windows has no fork."""
    import sys

    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _describe(exc: BaseException) -> str:
    """``ConnectionError (NewConnectionError: ... Connection refused)``: the cause urllib3 gave
    up on, on one line, without credentials."""
    reason: BaseException | None = None
    for arg in exc.args:
        reason = getattr(arg, "reason", None) or reason
    text = type(exc).__name__
    detail = f"{type(reason).__name__}: {reason}" if reason is not None else str(exc)
    return one_line(f"{text} ({detail})" if detail else text, 240)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)
