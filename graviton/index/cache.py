"""The on-disk cache of project pages, in their derived (grouped, packed) form.

Re-parsing a multi-MB page is the cost it saves, so the parsed releases are stored, not the
page; and only the releases the run asked for (``since``: a lock pins one release of a project
that may list thousands of files, and packing them all was the slowest part of a cold run). An
entry answers a later run that needs no older release; one that does reads the page again.

Entries are JSON documents in one SQLite file (``cache.sqlite3``, write-ahead log) under the
cache directory, keyed and labelled by the URL without credentials: a cold run writes hundreds,
and a file each (create, write, rename) cost ~0.8 ms of system time apiece; a row costs tens of
microseconds. SQLite makes each write atomic (a run killed mid-write leaves the old entry or
none) and lets concurrent runs and forked workers share the file (each process opens its own
connection; a write that waits over 5 s is skipped). An entry of the wrong shape, or a file that
is not a database, is a miss, never a crash: the cache only ever costs speed.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from packaging.version import Version

from graviton.index.model import Packed, is_packed, normal_version
from graviton.index.urls import redact

CACHE_FORMAT = 5  # 5: the releases from ``since`` on (4: every release; rows with sha256, URL)
INSPECTION_FORMAT = 1
DEFAULT_MAX_AGE = 600  # seconds, when the index sends no Cache-Control


def max_age(cache_control: str | None) -> int:
    """Seconds an answer stays fresh, from its ``Cache-Control``."""
    if cache_control:
        if "no-store" in cache_control or "no-cache" in cache_control:
            return 0
        m = re.search(r"max-age=(\d+)", cache_control)
        if m:
            return int(m[1])
    return DEFAULT_MAX_AGE


@dataclass(frozen=True)
class CacheEntry:
    releases: dict[str, Packed]
    etag: str | None
    fetched: float
    max_age: int
    since: str | None = None  # the releases below it were not kept (None: all were)

    def fresh(self, now: float) -> bool:
        return now - self.fetched < self.max_age

    def covers(self, since: str | None) -> bool:
        """True if every release from ``since`` on is here."""
        if self.since is None:
            return True
        return since is not None and Version(since) >= Version(self.since)


DB_NAME = "cache.sqlite3"


class _Store:
    """The cache's SQLite file: one connection per process (a connection must not cross a
    fork), shared by that process's threads under a lock."""

    _opened: dict[tuple[Path, int], tuple[Any, threading.Lock] | None] = {}
    _guard = threading.Lock()

    def __init__(self, root: Path) -> None:
        self.root = root

    def _connection(self) -> tuple[Any, threading.Lock] | None:
        key = (self.root, os.getpid())
        with self._guard:
            if key not in self._opened:
                self._opened[key] = self._open()
            return self._opened[key]

    def _open(self) -> tuple[Any, threading.Lock] | None:
        try:
            import sqlite3
        except ImportError:  # a Python built without it: no cache, only slower
            return None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.root / DB_NAME, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries "
                "(kind TEXT, key TEXT, doc TEXT, PRIMARY KEY (kind, key)) WITHOUT ROWID"
            )
        except (OSError, sqlite3.Error):
            return None
        return db, threading.Lock()

    def get(self, kind: str, key: str) -> Any:
        """The JSON document stored under (kind, key); None if none, or unreadable."""
        opened = self._connection()
        if opened is None:
            return None
        db, lock = opened
        try:
            with lock:
                row = db.execute(
                    "SELECT doc FROM entries WHERE kind = ? AND key = ?", (kind, key)
                ).fetchone()
            return None if row is None else orjson.loads(row[0])
        except Exception:  # sqlite3.Error, a doc that is not JSON: a miss
            return None

    def put(self, kind: str, key: str, doc: object) -> None:
        self.put_many(kind, [(key, doc)])

    def put_many(self, kind: str, docs: list[tuple[str, object]]) -> None:
        """Store every (key, document) in one transaction."""
        opened = self._connection()
        if opened is None or not docs:
            return
        db, lock = opened
        try:
            rows = [(kind, key, orjson.dumps(doc).decode()) for key, doc in docs]
        except TypeError:  # not JSON-ready: not kept (only speed is lost)
            return
        try:
            with lock:
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.executemany(
                        "INSERT OR REPLACE INTO entries (kind, key, doc) VALUES (?, ?, ?)", rows
                    )
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except Exception:  # locked for over 5 s, disk full, not a database: only speed lost
            return


class InspectionCache:
    """Complete wheel inspections (``WheelInspection.to_dict``), keyed by the file's sha256
    (content never changes under it) or else its URL without credentials. Only complete
    inspections are kept: a timeout must be retried, never remembered."""

    def __init__(self, root: Path) -> None:
        self.store = _Store(root)

    @staticmethod
    def key(url: str, sha256: str | None, budget: int) -> str:
        return f"{INSPECTION_FORMAT}:{budget}:" + (f"sha256:{sha256}" if sha256 else redact(url))

    def get(self, key: str) -> dict[str, object] | None:
        raw = self.store.get("wheel", key)
        if not isinstance(raw, dict) or raw.get("key") != key:
            return None
        data = raw.get("inspection")
        return data if isinstance(data, dict) else None

    def put_many(self, inspections: list[tuple[str, dict[str, Any]]]) -> None:
        """Store every (key, inspection) in one transaction."""
        self.store.put_many("wheel", [(k, {"key": k, "inspection": i}) for k, i in inspections])


class PageCache:
    """One entry per (index, project) page, in the cache directory's SQLite file."""

    held: list[tuple[str, CacheEntry]] | None = None  # see hold_writes

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = _Store(root)

    def get(self, page_url: str) -> CacheEntry | None:
        key = redact(page_url)
        raw = self.store.get("page", key)
        if not isinstance(raw, dict) or raw.get("format") != CACHE_FORMAT or raw.get("url") != key:
            return None
        releases, etag = raw.get("releases"), raw.get("etag")
        fetched, age, since = raw.get("fetched"), raw.get("max_age"), raw.get("since")
        if (
            not isinstance(releases, dict)
            or not all(
                isinstance(v, str) and normal_version(v) == v and is_packed(p)
                for v, p in releases.items()
            )
            or not (etag is None or isinstance(etag, str))
            or not (since is None or (isinstance(since, str) and normal_version(since) == since))
            or not isinstance(fetched, int | float)
            or isinstance(fetched, bool)
            or not isinstance(age, int)
            or isinstance(age, bool)
        ):
            return None
        return CacheEntry(releases, etag, float(fetched), age, since)

    def put(self, page_url: str, entry: CacheEntry) -> None:
        if self.held is not None:
            self.held.append((page_url, entry))
        else:
            self.put_many([(page_url, entry)])

    def hold_writes(self) -> None:
        """From now on, :meth:`put` only collects (for :meth:`take_held`): a forked worker hands
        its writes to the parent, the one writer, instead of queueing for the file's lock."""
        self.held = []

    def take_held(self) -> list[tuple[str, CacheEntry]]:
        held = self.held or []
        if self.held is not None:
            self.held = []
        return held

    def put_many(self, entries: list[tuple[str, CacheEntry]]) -> None:
        """Store every (page URL, entry) in one transaction."""
        self.store.put_many("page", [(redact(url), self._doc(url, e)) for url, e in entries])

    @staticmethod
    def _doc(page_url: str, entry: CacheEntry) -> dict[str, object]:
        return {
            "format": CACHE_FORMAT,
            "url": redact(page_url),
            "etag": entry.etag,
            "fetched": entry.fetched,
            "max_age": entry.max_age,
            "since": entry.since,
            "releases": entry.releases,
        }

    def touch(self, page_url: str, entry: CacheEntry, now: float, max_age: int) -> CacheEntry:
        fresh = CacheEntry(entry.releases, entry.etag, now, max_age, entry.since)
        self.put(page_url, fresh)
        return fresh


def default_cache_dir() -> Path:
    env = os.environ.get("GRAVITON_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("graviton")) / "simple"
