"""A client for the simple repository API: PEP 691 JSON first, PEP 503 HTML as a fallback.

Only file lists are read (never a wheel). Pages are fetched concurrently through one pooled
session, kept in an on-disk cache that honours ``Cache-Control: max-age`` and revalidates with
``ETag``, and retried with backoff on 5xx, 429 and timeouts. A project the index does not have
(404) is ``None``; an index that cannot be read is :class:`IndexUnavailable` (exit 3), never a
verdict.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit, urlunsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from graviton import __version__
from graviton.errors import ServiceUnavailable, one_line

PYPI = "https://pypi.org/simple/"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
CACHE_FORMAT = 3
DEFAULT_MAX_AGE = 600  # seconds, when the index sends no Cache-Control
DEFAULT_JOBS = 6  # requests in flight: each holds its page (up to ~7 MB on PyPI) in memory
BIG_PAGE = 256 * 1024  # bytes of JSON above which a page is parsed in a worker process


class IndexUnavailable(ServiceUnavailable):
    """The index could not be read (network, 5xx after retries, malformed answer, offline miss)."""


class DistFile(NamedTuple):
    """One file of a release as the index lists it (a tuple: there are hundreds of thousands)."""

    filename: str
    requires_python: str | None = None
    yanked: bool = False

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


Packed = str  # one release's files: "filename\trequires-python\tyanked" rows joined by "\n"


def pack(files: Iterable[DistFile]) -> Packed:
    return "\n".join(_row(f.filename, f.requires_python, f.yanked) for f in files)


def _row(filename: str, requires_python: str | None, yanked: object) -> str:
    rp = (requires_python or "").replace("\t", " ").replace("\n", " ")
    return f"{filename}\t{rp}\t{'y' if yanked else ''}"


def unpack(packed: Packed) -> tuple[DistFile, ...]:
    out = []
    for line in packed.split("\n"):
        filename, rp, yanked = line.split("\t")
        out.append(DistFile(filename, rp or None, bool(yanked)))
    return tuple(out)


@dataclass(frozen=True)
class Project:
    """A project's files on one or more indexes, grouped by normalised version.

    Each release is kept packed in one string until it is asked for: a verdict reads one or two
    releases of a project that may list thousands of files, and strings are cheap to cache,
    load and pass between processes.
    """

    name: str
    releases: Mapping[str, Packed]  # str(Version) -> packed files
    index_url: str  # the index (credentials removed) that answered; several joined by ", "

    def versions(self) -> list[Version]:
        return sorted(Version(v) for v in self.releases)

    def files(self, version: str) -> tuple[DistFile, ...]:
        packed = self.releases.get(normal_version(version) or version)
        return unpack(packed) if packed else ()


def redact(url: str) -> str:
    """The URL without user:password, for messages and reports."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@cache
def normal_version(text: str) -> str | None:
    """PEP 440 normal form, or None for a legacy version pip would not consider."""
    try:
        return str(Version(text))
    except InvalidVersion:
        return None


_SDIST_EXTS = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")


def file_version(filename: str) -> str | None:
    """The normalised version a distribution filename carries, or None if pip would skip it.

    Split by hand (wheel: the second dash-separated field; sdist: after the last dash), since a
    page can list thousands of files and only the version is needed here.
    """
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return normal_version(parts[1]) if len(parts) in (5, 6) else None
    for ext in _SDIST_EXTS:
        if filename.endswith(ext):
            _, dash, version = filename[: -len(ext)].rpartition("-")
            return normal_version(version) if dash else None
    return None  # .egg, .exe, .msi, .rpm: pip ignores them


def group_files(files: Iterable[DistFile]) -> dict[str, Packed]:
    grouped: dict[str, list[DistFile]] = {}
    for f in files:
        version = file_version(f.filename)
        if version is not None:
            grouped.setdefault(version, []).append(f)
    return {v: pack(fs) for v, fs in grouped.items()}


_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _skip(text: str, i: int, expected: str) -> int:
    i = _WS.match(text, i).end()  # type: ignore[union-attr]
    if text[i : i + 1] != expected:
        raise ValueError(f"expected {expected!r} at offset {i}")
    return _WS.match(text, i + 1).end()  # type: ignore[union-attr]


def parse_json_page(data: bytes | str, page_url: str) -> dict[str, Packed]:
    """PEP 691 (``{"meta": {"api-version": "1.x"}, "files": [...]}``) to releases by version.

    The ``files`` array is decoded one entry at a time (the C scanner behind ``raw_decode``), so
    a 7 MB page never becomes 7 MB of dicts at once: memory holds the text and one entry.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        grouped: dict[str, list[str]] = {}
        meta: Any = {}
        seen_files = False
        i = _skip(text, 0, "{")
        while text[i : i + 1] != "}":
            key, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i, ":")
            if key == "files":
                seen_files = True
                i = _skip(text, i, "[")
                while text[i : i + 1] != "]":
                    entry, i = _DECODER.raw_decode(text, i)
                    _add_entry(grouped, entry)
                    i = _WS.match(text, i).end()  # type: ignore[union-attr]
                    if text[i : i + 1] == ",":
                        i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
                i += 1
            else:
                value, i = _DECODER.raw_decode(text, i)
                if key == "meta":
                    meta = value
            i = _WS.match(text, i).end()  # type: ignore[union-attr]
            if text[i : i + 1] == ",":
                i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        if _WS.match(text, i + 1).end() != len(text):  # type: ignore[union-attr]
            raise ValueError("data after the JSON object")
        if not seen_files:
            raise KeyError("files")
        version = str((meta or {}).get("api-version", "1.0"))
        if not version.startswith("1."):
            raise ValueError(f"unsupported api-version {version!r}")
        return {v: "\n".join(rows) for v, rows in grouped.items()}
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise IndexUnavailable(f"{redact(page_url)}: malformed PEP 691 answer ({exc})") from None


def _add_entry(grouped: dict[str, list[str]], entry: Any) -> None:
    filename = entry["filename"]
    version = file_version(filename)
    if version is None:
        return
    row = _row(filename, entry.get("requires-python"), entry.get("yanked"))
    rows = grouped.get(version)
    if rows is None:
        grouped[version] = [row]
    else:
        rows.append(row)


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.files: list[DistFile] = []
        self._attrs: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._attrs = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._attrs is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._attrs is None:
            return
        href = self._attrs.get("href") or ""
        # PEP 503: the anchor text is the filename; the URL's last segment is the fallback
        filename = "".join(self._text).strip() or urlsplit(href).path.rpartition("/")[2]
        self.files.append(
            DistFile(
                filename=filename,
                requires_python=self._attrs.get("data-requires-python") or None,
                yanked="data-yanked" in self._attrs,
            )
        )
        self._attrs = None


def parse_html_page(data: bytes | str) -> list[DistFile]:
    """PEP 503 HTML: one anchor per file, ``data-requires-python`` and ``data-yanked``."""
    parser = _AnchorParser()
    parser.feed(data.decode("utf-8", "replace") if isinstance(data, bytes) else data)
    return parser.files


def _max_age(cache_control: str | None) -> int:
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

    def fresh(self, now: float) -> bool:
        return now - self.fetched < self.max_age


class PageCache:
    """One JSON file per (index, project) under ``root``; written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, page_url: str) -> Path:
        digest = hashlib.sha256(page_url.encode()).hexdigest()[:24]
        return self.root / digest[:2] / f"{digest}.json"

    def get(self, page_url: str) -> CacheEntry | None:
        try:
            raw = json.loads(self._path(page_url).read_bytes())
            if raw.get("format") != CACHE_FORMAT or raw.get("url") != page_url:
                return None
            return CacheEntry(
                releases=raw["releases"],
                etag=raw.get("etag"),
                fetched=float(raw["fetched"]),
                max_age=int(raw["max_age"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, page_url: str, entry: CacheEntry) -> None:
        path = self._path(page_url)
        tmp: str | None = None
        doc = {
            "format": CACHE_FORMAT,
            "url": page_url,
            "etag": entry.etag,
            "fetched": entry.fetched,
            "max_age": entry.max_age,
            "releases": entry.releases,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as fh:  # dumps: json.dump to a file is the pure-Python encoder
                fh.write(json.dumps(doc, separators=(",", ":")))
            os.replace(tmp, path)
        except OSError:  # a cache that cannot be written only costs speed
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def touch(self, page_url: str, entry: CacheEntry, now: float, max_age: int) -> CacheEntry:
        fresh = CacheEntry(entry.releases, entry.etag, now, max_age)
        self.put(page_url, fresh)
        return fresh


_NOT_FOUND = object()


class IndexClient:
    """Reads project pages from one or more indexes, concurrently, through one connection pool."""

    def __init__(
        self,
        index_urls: Iterable[str] = (PYPI,),
        *,
        cache: PageCache | None = None,
        offline: bool = False,
        timeout: float = 15.0,
        retries: int = 3,
        backoff: float = 0.5,
        workers: int = DEFAULT_JOBS,
        session: Any = None,
        parse_processes: int = 0,
    ) -> None:
        self.index_urls = tuple(u if u.endswith("/") else u + "/" for u in index_urls)
        if not self.index_urls:
            raise ValueError("at least one index URL is needed")
        self.cache = cache
        self.offline = offline
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.workers = max(1, workers)
        self._session = session
        self._lock = threading.Lock()
        self._parsing = threading.BoundedSemaphore(2)
        self.parse_processes = parse_processes
        self._pool: ProcessPoolExecutor | None = None

    # -- HTTP -----------------------------------------------------------------------------------
    def _http(self) -> Any:
        with self._lock:
            if self._session is None:
                import requests
                from requests.adapters import HTTPAdapter

                session = requests.Session()
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.workers, max_retries=0)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["User-Agent"] = f"graviton/{__version__}"
                self._session = session
            return self._session

    def _fetch(self, page_url: str, etag: str | None) -> tuple[int, Any]:
        import requests

        headers = {"Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        last_error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                resp = self._http().get(page_url, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                last_error = type(exc).__name__ + (f": {exc}" if str(exc) else "")
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                last_error = f"HTTP {resp.status_code}"
                retry_after = resp.headers.get("Retry-After", "")
                if retry_after.isdigit() and attempt < self.retries:
                    time.sleep(min(float(retry_after), 30.0))
                continue
            return resp.status_code, resp
        raise IndexUnavailable(
            f"{redact(page_url)}: {one_line(last_error, 160)} (after {self.retries + 1} attempts)"
        )

    # -- one page -------------------------------------------------------------------------------
    def _page(self, index_url: str, name: str) -> dict[str, Packed] | None:
        """The page's files grouped by version; None on 404/410."""
        page_url = urljoin(index_url, canonicalize_name(name) + "/")
        now = time.time()
        cached = self.cache.get(page_url) if self.cache else None
        if self.offline:
            if cached is None:
                raise IndexUnavailable(f"--offline: {name} from {redact(index_url)} is not cached")
            return cached.releases
        if cached is not None and cached.fresh(now):
            return cached.releases
        status, resp = self._fetch(page_url, cached.etag if cached else None)
        if status == 304 and cached is not None and self.cache is not None:
            max_age = _max_age(resp.headers.get("Cache-Control"))
            return self.cache.touch(page_url, cached, now, max_age).releases
        if status in (404, 410):
            return None
        if status != 200:
            raise IndexUnavailable(f"{redact(page_url)}: HTTP {status}")
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        etag, max_age = resp.headers.get("ETag"), _max_age(resp.headers.get("Cache-Control"))
        body = resp.content
        del resp  # only the grouped form is kept: a big page's bytes go now
        with self._parsing:  # two pages at a time: parsed together, big pages cost memory
            if ctype == JSON_TYPE or ctype.endswith("+json") or ctype == "application/json":
                releases = self._parse_json(body, page_url)
            elif "html" in ctype or not ctype:
                releases = group_files(parse_html_page(body))
            else:
                raise IndexUnavailable(f"{redact(page_url)}: unexpected content type {ctype!r}")
            del body
        if self.cache is not None:
            self.cache.put(page_url, CacheEntry(releases, etag, now, max_age))
        return releases

    def _parse_json(self, body: bytes, page_url: str) -> dict[str, Packed]:
        """Big pages are parsed in a worker process, so parsing runs on the second core while
        this process keeps downloading (both are CPU work under one GIL otherwise). Any trouble
        with the workers falls back to parsing here: the pool only ever buys speed."""
        if len(body) < BIG_PAGE or self.parse_processes < 1 or not _spawn_safe():
            return parse_json_page(body, page_url)
        with self._lock:
            if self._pool is None:
                import multiprocessing

                context = multiprocessing.get_context("spawn")  # no fork from a threaded process
                self._pool = ProcessPoolExecutor(self.parse_processes, mp_context=context)
            pool = self._pool
        try:
            return pool.submit(parse_json_page, body, page_url).result()
        except (BrokenExecutor, OSError, RuntimeError):
            self.parse_processes = 0
            return parse_json_page(body, page_url)

    def close(self) -> None:
        """Stop the parsing processes, if any were started."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    def project(self, name: str, index_urls: Iterable[str] | None = None) -> Project | None:
        """The union of ``name``'s files on every index (pip's behaviour); None if none has it."""
        urls = tuple(index_urls) if index_urls else self.index_urls
        releases: dict[str, Packed] = {}
        found: list[str] = []
        for url in urls:
            page = self._page(url if url.endswith("/") else url + "/", name)
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

    def projects(
        self, requests_: Iterable[tuple[str, tuple[str, ...]]]
    ) -> Iterator[tuple[str, tuple[str, ...], Project | None]]:
        """Fetch many ``(name, index_urls)`` concurrently; yields as each one completes."""
        todo = list(dict.fromkeys(requests_))
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=min(self.workers, len(todo))) as pool:
            futures = {pool.submit(self.project, n, urls or None): (n, urls) for n, urls in todo}
            try:
                for fut in as_completed(futures):
                    name, urls = futures[fut]
                    yield name, urls, fut.result()
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
            finally:
                self.close()


def _spawn_safe() -> bool:
    """A spawned worker re-imports ``__main__``; that works for a module or a script file, not
    for code read from stdin or typed into a REPL."""
    import sys

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    path = getattr(main, "__file__", None)
    return spec is not None or (path is not None and os.path.isfile(path))


def default_cache_dir() -> Path:
    env = os.environ.get("GRAVITON_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("graviton")) / "simple"
