"""Read the first bytes of a remote wheel's members that can be native code, with HTTP ranges.

A wheel is a zip file whose central directory (the list of members) sits at its end. This adapter
reads that directory with a suffix range request (``Range: bytes=-N``, ZIP64 too), picks the
members that can be native code (:func:`may_be_native`), and reads each one's first bytes through
its local file header (deflated members: a bounded compressed prefix through
``zlib.decompressobj``). Reads of nearby members are coalesced into one request.

Every byte received counts against a per-wheel ``budget``. Nothing here passes by default: a read
the budget cannot pay for, a server that ignores ``Range`` (answers 200 with the whole body), an
HTTP error, a timeout, a file that is not a zip, or a member compressed with a method other than
stored/deflate ends the inspection as *incomplete* (``WheelInspection.complete`` is False and
``why`` says why in one line, e.g. "inspection incomplete: read 65536 bytes of budget 65536 ...").
An incomplete inspection proves nothing: callers must report it as not proven, never as clean.

What the bytes are is not decided here (adapters sit below the checks):
``graviton.checks.binaries.classify`` turns ``MemberHead.head`` into a classification, and its
``header_bytes_needed`` can be passed as ``needs`` so that PE files get their header read too::

    from graviton.checks import binaries
    result = inspect_wheel(url, session, needs=binaries.header_bytes_needed)
    members = [(h.path, binaries.classify(h.head)) for h in result.heads]
    check = binaries.judge_natives(members)  # only meaningful when result.complete
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from graviton.errors import one_line

if TYPE_CHECKING:
    import requests

DEFAULT_BUDGET = 4 * 1024 * 1024  # bytes per wheel; a 16,000-member central directory is ~2 MB
HEAD_BYTES = 64  # first bytes read of each candidate member
TAIL_BYTES = 16 * 1024  # the first (suffix) read: the end record and most wheels' whole directory
COALESCE_GAP = 8 * 1024  # reads closer than this go out as one request
PREFIX = 512  # bytes read past the head of each member (deflate needs them; PE headers sit there)
MAX_KEEP = 4096  # the most bytes of a member kept for ``needs`` without asking for them
LOCAL_SLACK = 64  # local headers may carry a longer extra field than the central directory's
_CHUNK = 64 * 1024

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_STORED, _DEFLATED = 0, 8


class Status(Enum):
    COMPLETE = "complete"
    BUDGET = "budget"  # the next read would have gone over the byte budget
    NO_RANGE = "no-range"  # the server ignored Range and the body is larger than the budget
    HTTP_ERROR = "http-error"  # an HTTP error status, a timeout, a refused connection
    NOT_A_ZIP = "not-a-zip"  # no end record, a bad signature, offsets outside the file
    UNSUPPORTED = "unsupported"  # an encrypted member, a compression method other than 0 or 8


@dataclass(frozen=True)
class MemberHead:
    """One inspected member and its first bytes."""

    path: str
    size: int  # uncompressed size
    compressed_size: int
    method: int  # 0 stored, 8 deflate
    mode: int | None  # Unix mode from external_attr, when the zip was made on Unix
    head: bytes  # the first bytes (HEAD_BYTES, more when ``needs`` asked, fewer for small files)

    @property
    def executable(self) -> bool:
        return bool(self.mode is not None and self.mode & 0o111)


@dataclass(frozen=True)
class WheelInspection:
    """What was read of one remote wheel; ``complete`` False means nothing is proven."""

    url: str
    status: Status
    why: str  # one line; "" when complete
    members: int  # entries in the central directory (0 if it was not read)
    candidates: tuple[str, ...]  # members that can be native code
    heads: tuple[MemberHead, ...]  # the candidates read so far (all of them when complete)
    bytes_read: int
    requests: int
    budget: int
    size: int | None  # the wheel's size when the server said it

    @property
    def complete(self) -> bool:
        return self.status is Status.COMPLETE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (heads as hex), for a cache next to the index pages."""
        data = {f.name: getattr(self, f.name) for f in _INSPECTION_FIELDS}
        data["status"] = self.status.value
        data["candidates"] = list(self.candidates)
        data["heads"] = [
            {f.name: getattr(h, f.name) for f in _HEAD_FIELDS} | {"head": h.head.hex()}
            for h in self.heads
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WheelInspection:
        heads = tuple(MemberHead(**dict(h, head=bytes.fromhex(h["head"]))) for h in data["heads"])
        return cls(
            **dict(
                data,
                status=Status(data["status"]),
                candidates=tuple(data["candidates"]),
                heads=heads,
            )
        )


_INSPECTION_FIELDS = fields(WheelInspection)  # dataclasses.asdict deep-copies: ~20x slower
_HEAD_FIELDS = fields(MemberHead)


# -- which members can be native ------------------------------------------------------------------

_NATIVE_SUFFIX = re.compile(
    r"\.(so(\.\d+)*|dylib|pyd|dll|exe|bin|node|elf|out|run|appimage|x64|amd64|arm64|aarch64)$",
    re.IGNORECASE,
)
_SUFFIX = re.compile(r"\.([A-Za-z][A-Za-z0-9]{0,9})$")  # "json"; not "1" nor "0-amd64"
_TEXT_SUFFIX = re.compile(  # text, source, data and archives: not run as native code
    r"py|pyi|pyc|pyo|pyx|pxd|pxi|c|h|cc|cpp|cxx|hpp|hxx|rs|go|java|class|jar|txt|md|rst|json"
    r"|toml|yaml|yml|cfg|ini|conf|csv|tsv|xml|html?|css|js|mjs|cjs|ts|map|svg|png|jpe?g|gif|ico"
    r"|bmp|webp|ttf|otf|woff2?|eot|sh|bash|zsh|fish|ps1|bat|cmd|pl|pm|rb|lua|tcl|r|sql|typed|pem"
    r"|crt|cer|der|key|mo|po|pot|gz|bz2|xz|zst|zip|whl|tar|tgz|lock|ipynb|tmpl|jinja|j2|in|pth",
    re.IGNORECASE,
)
_TEXT_NAMES = re.compile(
    r"^(license|licence|copying|notice|authors|readme|changelog|changes|history|makefile"
    r"|dockerfile|manifest|contributors|patents)",
    re.IGNORECASE,
)


# the commonest members of a wheel, answered before any regular expression: text suffixes
_PLAIN = frozenset({"py", "pyi", "pyc", "typed", "txt", "json", "md", "rst", "html", "js"})


def may_be_native(path: str, mode: int | None) -> bool:
    """Whether a member can be native code and its first bytes are worth reading.

    Yes: a native suffix (``.so``, ``.so.N``, ``.dylib``, ``.pyd``, ``.dll``, ``.exe``, ``.bin``,
    ...), no suffix at all (``chromedriver_linux64``; not ``LICENSE``, ``README``...), or the
    executable bit with a suffix that is not a known text/data one. No: directories, anything in
    a ``*.dist-info/`` or ``*.egg-info/`` folder (vendored ones too), and suffixes such as
    ``.py``, ``.pyi``, ``.txt``, ``.json``.
    """
    dot = path.rfind(".")
    if dot > 0 and path[dot - 1] != "/" and path[dot + 1 :] in _PLAIN:
        return False  # "x.py", never ".py" alone (a name without a suffix, judged below)
    if path.endswith("/"):
        return False
    *folders, name = path.split("/")
    if any(f.endswith((".dist-info", ".egg-info")) for f in folders):
        return False  # metadata, also of vendored distributions
    if _NATIVE_SUFFIX.search(name):
        return True
    suffix = _SUFFIX.search(name)
    if suffix is None or suffix.start() == 0:  # no suffix; ".gitignore" is a name, not a suffix
        return suffix is None and not _TEXT_NAMES.match(name)
    return bool(mode and mode & 0o111) and not _TEXT_SUFFIX.fullmatch(suffix.group(1))


# -- reading ---------------------------------------------------------------------------------------


class _Stop(Exception):
    def __init__(self, status: Status, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


class _Entry(NamedTuple):  # a tuple: a big wheel's directory has tens of thousands
    path: str
    offset: int  # of the local header
    compressed_size: int
    size: int
    method: int
    flags: int
    extra_len: int
    name_len: int
    mode: int | None


class _Reader:
    """Range reads of one URL with a byte budget, a request count and a cache of what was read."""

    def __init__(self, url: str, session: requests.Session, timeout: float, budget: int) -> None:
        self.url = url
        self.session = session
        self.timeout = timeout
        self.budget = budget
        self.bytes_read = 0
        self.requests = 0
        self.size: int | None = None
        self._spans: list[tuple[int, bytes]] = []

    def _budget_stop(self, need: int, what: str) -> _Stop:
        return _Stop(
            Status.BUDGET,
            f"inspection incomplete: read {self.bytes_read} bytes of budget {self.budget};"
            f" {what} needs {need} more",
        )

    def cached_prefix(self, start: int, end: int) -> bytes:
        """The longest run of bytes from ``start`` (up to ``end``) that was already read."""
        runs = [
            data[start - at : end - at] for at, data in self._spans if at <= start < at + len(data)
        ]
        return max(runs, key=len, default=b"")

    def cached(self, start: int, end: int) -> bytes | None:
        for at, data in self._spans:
            if at <= start and end <= at + len(data):
                return data[start - at : end - at]
        return None

    def get(self, start: int, end: int, what: str) -> bytes:
        """Bytes [start, end) of the file, from the cache or one range request."""
        if self.size is not None:
            end = min(end, self.size)
        if end <= start:
            return b""
        hit = self.cached(start, end)
        if hit is not None:
            return hit
        if self.bytes_read + (end - start) > self.budget:
            raise self._budget_stop(end - start, what)
        at, data = self._request(f"bytes={start}-{end - 1}", end - start)
        self._spans.append((at, data))
        hit = self.cached(start, end)
        if hit is None:
            raise _Stop(
                Status.HTTP_ERROR,
                f"inspection failed: the server sent other bytes than {start}-{end - 1}",
            )
        return hit

    def tail(self, length: int) -> tuple[int, bytes]:
        """The last ``length`` bytes (a suffix range): their offset and the bytes."""
        length = min(length, self.budget - self.bytes_read)
        if length <= 0:
            raise self._budget_stop(1, "the end of the zip file")
        at, data = self._request(f"bytes=-{length}", length)
        self._spans.append((at, data))
        return at, data

    def _request(self, byte_range: str, want: int) -> tuple[int, bytes]:
        import requests

        self.requests += 1
        headers = {"Range": byte_range, "Accept-Encoding": "identity"}
        try:
            resp = self.session.get(self.url, headers=headers, timeout=self.timeout, stream=True)
        except requests.RequestException as exc:
            raise self._failed(exc) from exc
        try:
            self.requests += len(resp.history)
            if resp.status_code == 206:
                start, size = _content_range(resp.headers.get("Content-Range", ""))
                if size is not None:
                    self.size = size
                return start, self._body(resp, want)
            if resp.status_code == 200:
                room = self.budget - self.bytes_read
                header = resp.headers.get("Content-Length", "")
                length = int(header) if header.isdigit() else None
                body = b"" if length is not None and length > room else self._body(resp, room)
                if (length is None and len(body) >= room) or (length or 0) > room:
                    raise _Stop(
                        Status.NO_RANGE,
                        f"inspection incomplete: the server ignored Range (HTTP 200); read"
                        f" {self.bytes_read} bytes of budget {self.budget} and stopped",
                    )
                self.size = len(body)  # the whole file fit in the budget: use it
                return 0, body
            raise _Stop(
                Status.HTTP_ERROR,
                f"inspection failed: HTTP {resp.status_code} for a range of the wheel",
            )
        except requests.RequestException as exc:
            raise self._failed(exc) from exc
        finally:
            resp.close()  # never drain the rest of a body we did not ask for

    def _failed(self, exc: Exception) -> _Stop:
        """One line without the URL (it may carry a token): what went wrong, and with which host."""
        import requests

        host = urlsplit(self.url).hostname or "the file host"
        if isinstance(exc, requests.Timeout):
            what = f"{host} did not answer within {self.timeout:g} s"
        elif isinstance(exc, requests.ConnectionError):
            what = f"could not read from {host} ({type(exc).__name__})"
        else:
            what = f"{type(exc).__name__} reading from {host}"
        return _Stop(Status.HTTP_ERROR, f"inspection failed: {what}")

    def _body(self, resp: requests.Response, limit: int) -> bytes:
        """At most ``limit`` bytes of the body, counted as they arrive."""
        parts: list[bytes] = []
        got = 0
        if limit <= 0:
            return b""
        for chunk in resp.iter_content(min(_CHUNK, limit)):
            take = chunk[: limit - got]
            parts.append(take)
            got += len(take)
            self.bytes_read += len(take)
            if got >= limit:
                break
        return b"".join(parts)


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def _content_range(value: str) -> tuple[int, int | None]:
    m = _CONTENT_RANGE.match(value)
    if not m:
        raise _Stop(
            Status.HTTP_ERROR,
            f"inspection failed: a 206 without a usable Content-Range ({one_line(value, 80)!r})",
        )
    return int(m.group(1)), None if m.group(3) == "*" else int(m.group(3))


def _directory(reader: _Reader, tail_bytes: int) -> tuple[int, list[_Entry]]:
    """(the number of members, those that can be native)"""
    at, tail = reader.tail(tail_bytes)
    size = reader.size if reader.size is not None else at + len(tail)
    pos = tail.rfind(_EOCD)
    while pos >= 0 and (
        pos + 22 > len(tail) or pos + 22 + struct.unpack_from("<H", tail, pos + 20)[0] != len(tail)
    ):
        pos = tail.rfind(_EOCD, 0, pos)
    if pos < 0:
        if at > 0 and len(tail) < 22 + 65535:
            raise _Stop(
                Status.NOT_A_ZIP,
                "inspection failed: no zip end record in the last"
                f" {len(tail)} bytes (a comment longer than the first read?)",
            )
        raise _Stop(Status.NOT_A_ZIP, "inspection failed: not a zip file (no end record)")
    eocd_at = at + pos
    count, cd_size, cd_offset = struct.unpack_from("<HII", tail, pos + 10)
    if (
        count == 0xFFFF
        or cd_size == 0xFFFFFFFF
        or cd_offset == 0xFFFFFFFF
        or (
            eocd_at >= 20
            and reader.get(eocd_at - 20, eocd_at - 16, "the ZIP64 locator") == _ZIP64_LOCATOR
        )
    ):
        locator = reader.get(eocd_at - 20, eocd_at, "the ZIP64 locator")
        if locator[:4] != _ZIP64_LOCATOR:
            raise _Stop(Status.NOT_A_ZIP, "inspection failed: ZIP64 fields without a ZIP64 locator")
        (record_at,) = struct.unpack_from("<Q", locator, 8)
        record = reader.get(record_at, record_at + 56, "the ZIP64 end record")
        if record[:4] != _ZIP64_EOCD or len(record) < 56:
            raise _Stop(Status.NOT_A_ZIP, "inspection failed: a bad ZIP64 end record")
        count, cd_size, cd_offset = struct.unpack_from("<QQQ", record, 32)
    if cd_offset + cd_size > size:
        raise _Stop(
            Status.NOT_A_ZIP, "inspection failed: the central directory lies outside the file"
        )
    data = reader.get(cd_offset, cd_offset + cd_size, "the central directory")
    return count, _candidates(data, count)


_CENTRAL_LENGTHS = struct.Struct("<4s24xHHH")  # signature; name, extra and comment lengths
_CENTRAL_FIELDS = struct.Struct("<HHHHHHIIIHHHHHII")  # the rest of a central directory entry
_PLAIN_BYTES = frozenset(suffix.encode() for suffix in _PLAIN)


def _candidates(data: bytes, count: int) -> list[_Entry]:
    """The entries of a central directory that :func:`may_be_native` keeps, every entry checked.

    A wheel lists thousands of ``.py`` files and a few that can be native: an entry with a
    plain suffix is skipped on its bytes (the suffix and the byte before the dot read the same
    in UTF-8 and cp437), before it is decoded or unpacked whole."""
    entries: list[_Entry] = []
    lengths = _CENTRAL_LENGTHS.unpack_from
    pos = 0
    for _ in range(count):
        if pos + 46 > len(data):
            raise _Stop(Status.NOT_A_ZIP, "inspection failed: a bad central directory entry")
        signature, name_len, extra_len, comment_len = lengths(data, pos)
        if signature != _CENTRAL:
            raise _Stop(Status.NOT_A_ZIP, "inspection failed: a bad central directory entry")
        at, start = pos, pos + 46
        pos = start + name_len + extra_len + comment_len
        name_raw = data[start : start + name_len]
        dot = name_raw.rfind(b".")
        if dot > 0 and name_raw[dot - 1] != 0x2F and name_raw[dot + 1 :] in _PLAIN_BYTES:
            continue  # what may_be_native answers first, without decoding the name
        (
            made_by,
            _need,
            flags,
            method,
            _t,
            _d,
            _crc,
            csize,
            usize,
            _name_len,
            _extra_len,
            _comment_len,
            _disk,
            _internal,
            external,
            offset,
        ) = _CENTRAL_FIELDS.unpack_from(data, at + 4)
        if name_raw.isascii():  # the common case: ASCII reads the same in UTF-8 and cp437
            path = name_raw.decode("ascii")
        else:
            path = name_raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        mode = ((external >> 16) & 0xFFFF if made_by >> 8 == 3 else None) or None
        if not may_be_native(path, mode):
            continue
        if _ZIP64 in (usize, csize, offset):
            extra = data[start + name_len : start + name_len + extra_len]
            usize, csize, offset = _zip64_fields(extra, usize, csize, offset)
        entries.append(_Entry(path, offset, csize, usize, method, flags, extra_len, name_len, mode))
    return entries


_ZIP64 = 0xFFFFFFFF  # a 32-bit field with this value is in the zip64 extra field


def _zip64_fields(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == 0x0001:
            values = iter(struct.unpack_from(f"<{length // 8}Q", extra, pos + 4))
            if usize == 0xFFFFFFFF:
                usize = next(values, usize)
            if csize == 0xFFFFFFFF:
                csize = next(values, csize)
            if offset == 0xFFFFFFFF:
                offset = next(values, offset)
            break
        pos += 4 + length
    return usize, csize, offset


def _span(entry: _Entry, want: int) -> tuple[int, int]:
    """The bytes to read first for a member: its local header and a prefix of its data."""
    data = min(entry.compressed_size, PREFIX + want)
    return entry.offset, entry.offset + 30 + entry.name_len + entry.extra_len + LOCAL_SLACK + data


def _coalesce(spans: Iterable[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _head(reader: _Reader, entry: _Entry, want: int, keep: int) -> bytes:
    """The first ``want`` bytes of a member's data (fewer if it is smaller), and up to ``keep``
    when the bytes already read hold more (no request is made for those)."""
    if entry.flags & 0x1:
        raise _Stop(Status.UNSUPPORTED, f"inspection incomplete: {entry.path} is encrypted")
    if entry.method not in (_STORED, _DEFLATED):
        raise _Stop(
            Status.UNSUPPORTED,
            f"inspection incomplete: {entry.path} uses zip compression method {entry.method}",
        )
    local = reader.get(entry.offset, entry.offset + 30, f"the local header of {entry.path}")
    if local[:4] != _LOCAL or len(local) < 30:
        raise _Stop(Status.NOT_A_ZIP, f"inspection failed: no local header for {entry.path}")
    name_len, extra_len = struct.unpack_from("<HH", local, 26)
    start = entry.offset + 30 + name_len + extra_len
    want, keep = min(want, entry.size), min(max(want, keep), entry.size)
    if entry.method == _STORED:
        head = reader.get(start, start + want, f"the header of {entry.path}")
        return max(head, reader.cached_prefix(start, start + keep), key=len)
    out = zlib.decompressobj(-15)
    head = b""
    at, step = start, PREFIX + want
    end = start + entry.compressed_size
    try:
        while len(head) < want and at < end:
            chunk = reader.get(at, min(at + step, end), f"the header of {entry.path}")
            at += len(chunk)
            head += out.decompress(out.unconsumed_tail + chunk, keep - len(head))
            step *= 4
        while len(head) < keep and out.unconsumed_tail:
            head += out.decompress(out.unconsumed_tail, keep - len(head))
    except zlib.error as exc:
        raise _Stop(Status.NOT_A_ZIP, f"inspection failed: {entry.path}: {exc}") from exc
    return head


def not_read(url: str, budget: int, why: str) -> WheelInspection:
    """An inspection that read nothing (``http-error``: e.g. offline and not cached)."""
    return WheelInspection(url, Status.HTTP_ERROR, why, 0, (), (), 0, 0, budget, None)


def inspect_wheel(
    url: str,
    session: requests.Session,
    *,
    timeout: float = 15.0,
    budget: int = DEFAULT_BUDGET,
    head_bytes: int = HEAD_BYTES,
    needs: Callable[[bytes], int] | None = None,
    coalesce_gap: int = COALESCE_GAP,
    tail_bytes: int = TAIL_BYTES,
) -> WheelInspection:
    """List a remote wheel's members and read the first bytes of those that can be native.

    ``session`` is used as given (its retries, auth and headers apply); ``timeout`` is per request.
    ``needs(head)`` may ask for more than ``head_bytes`` of a member (at most once per member).
    Never raises for what the server or the file does: the result says complete or why not.
    """
    reader = _Reader(url, session, timeout, budget)
    members = 0
    candidates: list[_Entry] = []
    read: dict[str, bytes] = {}
    status, why = Status.COMPLETE, ""
    try:
        members, candidates = _directory(reader, tail_bytes)
        wants = {e.path: head_bytes for e in candidates}
        keep = MAX_KEEP if needs is not None else head_bytes
        for _round in range(2 if needs is not None else 1):
            todo = [e for e in candidates if len(read.get(e.path, b"")) < wants[e.path]]
            spans = (_span(e, wants[e.path]) for e in todo)
            for start, end in _coalesce(spans, coalesce_gap):
                reader.get(start, end, "the member headers")
            for e in todo:
                head = _head(reader, e, wants[e.path], keep)
                if needs is not None:
                    wants[e.path] = min(max(wants[e.path], needs(head)), e.size)
                read[e.path] = head[: max(wants[e.path], min(head_bytes, e.size))]
    except _Stop as stop:
        status, why = stop.status, stop.why
    heads = [
        MemberHead(e.path, e.size, e.compressed_size, e.method, e.mode, read[e.path])
        for e in candidates
        if e.path in read
    ]
    return WheelInspection(
        url=url,
        status=status,
        why=why,
        members=members,
        candidates=tuple(e.path for e in candidates),
        heads=tuple(heads),
        bytes_read=reader.bytes_read,
        requests=reader.requests,
        budget=budget,
        size=reader.size,
    )
