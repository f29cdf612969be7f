"""Project pages to releases: PEP 691 JSON (streamed) and PEP 503 HTML, and nothing else.

A page that does not prove it is an index page (a login form, an "Access denied" page, a binary
body, an unknown content type) is :class:`IndexUnavailable`: read as "no files" it would turn
every pin into ``unknown`` and let the audit pass on an index it never read.
"""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson

from graviton.errors import one_line
from graviton.index.model import (
    DistFile,
    IndexUnavailable,
    Packed,
    group_files,
    is_distribution,
    releases_from,
    row,
)
from graviton.index.urls import redact

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
ACCEPT = f"{JSON_TYPE}, {HTML_TYPE};q=0.2, text/html;q=0.01"


try:  # pysimdjson (where it ships wheels): validates a page whole, builds only what is read
    import simdjson
except ImportError:  # pragma: no cover - exercised by forcing JSON_BACKEND in the tests
    simdjson = None  # type: ignore[assignment]

JSON_BACKEND = "simdjson" if simdjson is not None else "orjson"
_parsers = threading.local()


def _decode(data: bytes | bytearray | str) -> Any:
    """The page as a JSON document: simdjson's lazy view (a page lists thousands of files and
    only the file names of most are read), else orjson's objects. Invalid JSON: ValueError."""
    if JSON_BACKEND == "simdjson":
        raw = data.encode() if isinstance(data, str) else bytes(data)
        parser = getattr(_parsers, "parser", None)
        if parser is not None:
            try:
                return parser.parse(raw)  # one parser per thread, reused
            except RuntimeError:  # the last page's document is still held (by a traceback)
                pass
        parser = _parsers.parser = simdjson.Parser()
        return parser.parse(raw)
    return orjson.loads(data)


def _is_object(value: object) -> bool:
    return isinstance(value, dict) or (simdjson is not None and isinstance(value, simdjson.Object))


def _is_array(value: object) -> bool:
    return isinstance(value, list) or (simdjson is not None and isinstance(value, simdjson.Array))


def parse_json_page(
    data: bytes | bytearray | str, page_url: str, since: str | None = None
) -> dict[str, Packed]:
    """PEP 691 (``{"meta": {"api-version": "1.x"}, "files": [...]}``) to releases by version;
    from ``since`` on, when given. The whole page is validated as JSON; only the files of the
    releases kept become packed rows.
    """
    try:
        doc = _decode(data)
        if not _is_object(doc):
            raise TypeError("not a JSON object")
        meta = doc.get("meta") or {}
        version = str(meta.get("api-version", "1.0"))
        if not version.startswith("1."):
            raise ValueError(f"unsupported api-version {version!r}")
        files = doc["files"]
        if not _is_array(files):
            raise TypeError("'files' is not a list")
        release_of = releases_from(since)
        grouped: dict[str, list[str]] = {}
        for entry in files:
            filename = entry["filename"]
            release = release_of(filename)
            if release is None:
                continue
            hashes = entry.get("hashes")
            sha256 = hashes.get("sha256") if _is_object(hashes) else None
            link = entry.get("url")
            url = file_url(page_url, link) if isinstance(link, str) else None
            packed = row(filename, entry.get("requires-python"), entry.get("yanked"), sha256, url)
            rows = grouped.get(release)
            if rows is None:
                grouped[release] = [packed]
            else:
                rows.append(packed)
        return {v: "\n".join(rows) for v, rows in grouped.items()}
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise IndexUnavailable(
            f"{redact(page_url)}: malformed PEP 691 answer ({one_line(str(exc), 120)})"
        ) from None


class _PageParser(HTMLParser):
    """Anchors (PEP 503 files), plus what tells an index page from any other HTML page."""

    def __init__(self, page_url: str = "") -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.files: list[DistFile] = []
        self.repository_version: str | None = None  # PEP 629 <meta name=pypi:repository-version>
        self.password_field = False
        self.title = ""
        self._attrs: dict[str, str | None] | None = None
        self._text: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._attrs = dict(attrs)
            self._text = []
        elif tag == "meta":
            named = dict(attrs)
            if (named.get("name") or "").lower() == "pypi:repository-version":
                self.repository_version = named.get("content") or ""
        elif tag == "input":
            self.password_field |= (dict(attrs).get("type") or "").lower() == "password"
        elif tag in ("title", "h1") and not self.title:
            self._in_title = True

    def handle_data(self, data: str) -> None:
        if self._attrs is not None:
            self._text.append(data)
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("title", "h1"):
            self._in_title = False
        if tag != "a" or self._attrs is None:
            return
        href = self._attrs.get("href") or ""
        # PEP 503: the anchor text is the filename; the URL's last segment is the fallback
        filename = "".join(self._text).strip() or urlsplit(href).path.rpartition("/")[2]
        fragment = urlsplit(href).fragment
        algo, _, digest = fragment.partition("=")
        self.files.append(
            DistFile(
                filename=filename,
                requires_python=self._attrs.get("data-requires-python") or None,
                yanked="data-yanked" in self._attrs,
                sha256=digest if algo == "sha256" else None,
                url=file_url(self.page_url, href) if href else None,
            )
        )
        self._attrs = None


def file_url(page_url: str, href: str) -> str:
    """A file's absolute URL, without its fragment (``#sha256=``) and without credentials:
    relative links are resolved against the page URL as shown (credentials go back on only when
    the file is read, see ``IndexClient.inspect``)."""
    if href.startswith(("https://", "http://")) and "@" not in href and "#" not in href:
        return href  # PyPI's: absolute, nothing to take out (the common case, kept fast)
    return redact(urljoin(redact(page_url), href)).partition("#")[0]


def _parse_html(data: bytes | str, charset: str = "utf-8", page_url: str = "") -> _PageParser:
    parser = _PageParser(page_url)
    parser.feed(data.decode(charset) if isinstance(data, bytes) else data)
    parser.close()
    return parser


def parse_html_page(data: bytes | str, page_url: str = "") -> list[DistFile]:
    """PEP 503 HTML: one anchor per file, ``data-requires-python``, ``data-yanked`` and the
    ``#sha256=`` fragment of its link."""
    return _parse_html(data, page_url=page_url).files


def html_releases(
    data: bytes | str, page_url: str, charset: str = "utf-8", since: str | None = None
) -> dict[str, Packed]:
    """A PEP 503 page's releases (from ``since`` on, when given); a page that is not one is
    :class:`IndexUnavailable`.

    An index page lists distribution files, or declares itself (PEP 629's
    ``pypi:repository-version``, or the customary "Links for <name>" title) when it has none.
    """
    where = redact(page_url)
    try:
        page = _parse_html(data, charset, page_url)
    except (UnicodeDecodeError, LookupError):
        raise IndexUnavailable(f"{where}: HTML page is not {charset} text") from None
    version = page.repository_version
    if version is not None and not version.strip().startswith("1."):
        raise IndexUnavailable(f"{where}: unsupported pypi:repository-version {version!r}")
    title = " ".join(page.title.split())
    listed = any(is_distribution(f.filename) for f in page.files)
    declared = version is not None or title.lower().startswith("links for")
    if page.password_field or not (listed or declared):
        seen = f" (page title {one_line(title, 60)!r})" if title else ""
        raise IndexUnavailable(
            f"{where}: answered an HTML page that is not a PEP 503 project page{seen}: "
            "a login or error page? check the index URL and its credentials"
        )
    return group_files(page.files, since)


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    kind, _, params = (content_type or "").partition(";")
    charset = re.search(r"charset=\"?([\w.:-]+)", params, re.IGNORECASE)
    return kind.strip().lower(), charset[1] if charset else None


def is_json_type(media_type: str) -> bool:
    return media_type in (JSON_TYPE, "application/json") or media_type.endswith("+json")


def page_kind(content_type: str | None, body: bytes, page_url: str) -> str:
    """``"json"`` or ``"html"``: what a 200 answer is, from its type or, untyped, its first byte."""
    media_type, _ = _media_type(content_type)
    if is_json_type(media_type):
        return "json"
    if media_type in ("text/html", HTML_TYPE, "application/xhtml+xml"):
        return "html"
    where = redact(page_url)
    if media_type:
        raise IndexUnavailable(f"{where}: unexpected content type {media_type!r}, not an index")
    start = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"{":
        return "json"
    if start == b"<" and b"\0" not in body[:4096]:
        return "html"
    raise IndexUnavailable(f"{where}: answered without a Content-Type and not with JSON or HTML")


def parse_page(
    body: bytes, content_type: str | None, page_url: str, since: str | None = None
) -> dict[str, Packed]:
    """A 200 answer's releases, from ``since`` on when given; anything that does not prove it
    is an index page is :class:`IndexUnavailable`."""
    if page_kind(content_type, body, page_url) == "json":
        return parse_json_page(body, page_url, since)
    return html_releases(body, page_url, _media_type(content_type)[1] or "utf-8", since)
