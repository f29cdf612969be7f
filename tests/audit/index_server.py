"""A real PEP 691 index on 127.0.0.1, served from tests/fixtures/index by a thread.

Routes: /simple/<name>/ serves <name>.json (PEP 691 JSON, with ETag and If-None-Match -> 304)
or <name>.html (PEP 503 HTML); every wheel URL of a JSON page points at ``self.files``, a
:class:`RangeServer` on 127.0.0.1 that serves a clean ``py3-none-any`` wheel for any name not
added with ``self.files.add("/files/<filename>", data)`` (the audit looks inside pure wheels);
/simple/broken-500/ always answers 500; /simple/malformed/
answers invalid JSON; /simple/slow*/ answer after 2 s. Every request is counted per path.

Faults, each a project name under /simple/ (or, for a whole index, a first path segment:
/login/<name>/ answers every project with the login page, /denied/<name>/ with "Access denied"):

- ``login-page``: 200 text/html, a sign-in form; ``access-denied``: 200 text/html "Access denied";
- ``untyped-binary``: 200 with no Content-Type and a binary body;
- ``huge``: 200 JSON of ``huge_bytes`` bytes, streamed without a Content-Length;
- ``drip``: 200 JSON headers, then one byte every ``drip_interval`` seconds, never finishing;
- ``drip-head``: the status line and headers themselves, one byte every ``drip_interval`` s;
- ``hold``: answers nothing until the server stops (a run is then reliably mid-run);
- ``bigpage``: a valid PEP 691 page of ``big_files`` files (several hundred KB).
"""

from __future__ import annotations

import collections
import hashlib
import json
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

from tests.support import native_headers
from tests.support.quiet_http import QuietHandler
from tests.support.range_server import RangeServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "index"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"

LOGIN_PAGE = b"""<!DOCTYPE html><html><head><title>Sign in - Artifactory</title></head>
<body><form action="/login" method="post"><input name="user"><input type="password" name="pw">
<a href="/forgot">Forgot password?</a></form></body></html>"""
ACCESS_DENIED = b"<html><body><h1>Access denied</h1><p>You do not have access.</p></body></html>"
INDEX_ALIASES = {"login": "login-page", "denied": "access-denied"}


def big_page(name: str, files: int) -> bytes:
    entries = [
        {
            "filename": f"{name}-1.{i}.0-cp311-cp311-manylinux_2_17_aarch64.whl",
            "url": f"https://files.example/{name}-1.{i}.0.whl",
            "hashes": {"sha256": f"{i:064x}"},
            "requires-python": ">=3.8",
        }
        for i in range(files)
    ]
    doc = {"meta": {"api-version": "1.1"}, "name": name, "files": entries}
    return json.dumps(doc).encode()


def clean_wheel(path: str) -> bytes | None:
    """A small pure wheel with no native member, for any /files/<name>.whl."""
    if not (path.startswith("/files/") and path.endswith(".whl")):
        return None
    name, version = path.rpartition("/")[2].split("-")[:2]
    return native_headers.wheel([], name=name, version=version)


class IndexServer:
    def __init__(
        self,
        root: Path = FIXTURES,
        max_age: int = 0,
        *,
        drip_interval: float = 5.0,
        huge_bytes: int = 4 * 1024 * 1024,
        big_files: int = 3000,
    ) -> None:
        self.root = root
        self.max_age = max_age
        self.drip_interval = drip_interval
        self.huge_bytes = huge_bytes
        self.big_files = big_files
        self.hits: collections.Counter[str] = collections.Counter()
        self.headers_seen: list[dict[str, str]] = []
        self.stopping = threading.Event()
        self.files = RangeServer()
        self.files.fallback = clean_wheel
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                server.hits[self.path] += 1
                server.headers_seen.append(dict(self.headers))
                parts = [p for p in self.path.split("?")[0].split("/") if p]
                if len(parts) == 2 and parts[0] in INDEX_ALIASES:
                    parts = ["simple", INDEX_ALIASES[parts[0]]]
                if len(parts) != 2 or parts[0] != "simple":
                    self._send(404, "text/plain", b"not found")
                    return
                name = parts[1]
                if self._fault(name):
                    return
                if name.startswith("slow"):
                    time.sleep(2)
                json_file = server.root / f"{name}.json"
                html_file = server.root / f"{name}.html"
                if json_file.exists():
                    body, ctype = server.local_files(json_file.read_bytes()), JSON_TYPE
                elif html_file.exists():
                    body, ctype = html_file.read_bytes(), "text/html"
                else:
                    self._send(404, "text/plain", b"not found")
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Cache-Control", f"max-age={server.max_age}")
                    self.end_headers()
                    return
                self._send(200, ctype, body, {"ETag": etag})

            def _fault(self, name: str) -> bool:
                if name == "broken-500":
                    self._send(500, "text/plain", b"internal error")
                elif name == "malformed":
                    self._send(200, JSON_TYPE, b'{"meta": {"api-version": "1.1"}, "files": [')
                elif name == "login-page":
                    self._send(200, "text/html; charset=utf-8", LOGIN_PAGE)
                elif name == "access-denied":
                    self._send(200, "text/html", ACCESS_DENIED)
                elif name == "untyped-binary":
                    self._send(200, None, bytes(range(256)) * 64)
                elif name == "bigpage":
                    self._send(200, JSON_TYPE, big_page(name, server.big_files))
                elif name == "huge":
                    self._headers(200, JSON_TYPE, None)
                    self.end_headers()
                    self._write(b'{"meta": {"api-version": "1.1"}, "files": [')
                    block = b" " * 65536
                    for _ in range(server.huge_bytes // len(block)):
                        if not self._write(block):
                            break
                elif name == "drip":
                    self._headers(200, JSON_TYPE, None)
                    self.end_headers()
                    self._drip(b'{"meta": {"api-version": "1.1"}, "files": []}' * 1000)
                elif name == "drip-head":
                    self._drip(f"HTTP/1.0 200 OK\r\nContent-Type: {JSON_TYPE}\r\n\r\n".encode())
                elif name == "hold":
                    server.stopping.wait()
                else:
                    return False
                return True

            def _drip(self, data: bytes) -> None:
                for i in range(len(data)):
                    if not self._write(data[i : i + 1]) or server.stopping.wait(
                        server.drip_interval
                    ):
                        return

            def _write(self, data: bytes) -> bool:
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                    return True
                except OSError:
                    return False

            def _headers(self, code: int, ctype: str | None, length: int | None) -> None:
                self.send_response(code)
                if ctype is not None:
                    self.send_header("Content-Type", ctype)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.send_header("Cache-Control", f"max-age={server.max_age}")

            def _send(
                self,
                code: int,
                ctype: str | None,
                body: bytes,
                extra: dict[str, str] | None = None,
            ) -> None:
                self._headers(code, ctype, len(body))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self._write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/simple/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def local_files(self, page: bytes) -> bytes:
        """The page with each wheel's URL on :attr:`files` (nothing leaves 127.0.0.1)."""
        doc = json.loads(page)
        for entry in doc.get("files", []):
            if entry.get("filename", "").endswith(".whl"):
                entry["url"] = f"{self.files.url}/files/{entry['filename']}"
        return json.dumps(doc).encode()

    def __enter__(self) -> IndexServer:
        self.files.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.files.stop()
        self._httpd.shutdown()
        self._httpd.server_close()

    def requests_for(self, name: str) -> int:
        return self.hits[f"/simple/{name}/"]
