"""The on-disk cache of project pages, in their derived (grouped, packed) form.

Re-parsing a multi-MB page is the cost it saves, so the parsed releases are stored, not the
page; and only the releases the run asked for (``since``: a lock pins one release of a project
that may list thousands of files, and packing them all was the slowest part of a cold run). An
entry answers a later run that needs no older release; one that does reads the page again.
One JSON file per (index, project), keyed and labelled by the URL without credentials,
written atomically (a temp file, then ``os.replace``): a run killed mid-write leaves at most a
``.tmp`` file, which is never read. An entry of the wrong shape is a miss, never a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

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


def write_json(path: Path, doc: object) -> None:
    """Write ``doc`` to ``path`` atomically (a temp file, then ``os.replace``); a cache that
    cannot be written only costs speed."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:  # dumps: json.dump to a file is the pure-Python encoder
            fh.write(json.dumps(doc, separators=(",", ":")))
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _key_path(root: Path, key: str) -> Path:
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return root / digest[:2] / f"{digest}.json"


class InspectionCache:
    """Complete wheel inspections (``WheelInspection.to_dict``) under ``root/wheels``, keyed by
    the file's sha256 (content never changes under it) or else its URL without credentials.
    Only complete inspections are kept: a timeout must be retried, never remembered."""

    def __init__(self, root: Path) -> None:
        self.root = root / "wheels"

    @staticmethod
    def key(url: str, sha256: str | None, budget: int) -> str:
        return f"{INSPECTION_FORMAT}:{budget}:" + (f"sha256:{sha256}" if sha256 else redact(url))

    def get(self, key: str) -> dict[str, object] | None:
        try:
            raw = json.loads(_key_path(self.root, key).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(raw, dict) or raw.get("key") != key:
            return None
        data = raw.get("inspection")
        return data if isinstance(data, dict) else None

    def put(self, key: str, inspection: dict[str, object]) -> None:
        write_json(_key_path(self.root, key), {"key": key, "inspection": inspection})


class PageCache:
    """One JSON file per (index, project) under ``root``; written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return _key_path(self.root, key)

    def get(self, page_url: str) -> CacheEntry | None:
        key = redact(page_url)
        try:
            raw = json.loads(self._path(key).read_bytes())
        except (OSError, ValueError):
            return None
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
        key = redact(page_url)
        path = self._path(key)
        doc = {
            "format": CACHE_FORMAT,
            "url": key,
            "etag": entry.etag,
            "fetched": entry.fetched,
            "max_age": entry.max_age,
            "since": entry.since,
            "releases": entry.releases,
        }
        write_json(path, doc)

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
