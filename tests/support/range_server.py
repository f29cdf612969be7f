"""A file host on 127.0.0.1 that answers HTTP range requests, as PyPI's file host does.

``RangeServer().add("/files/x.whl", data)`` serves ``data`` at that path: a ``Range: bytes=a-b``
or suffix ``bytes=-n`` request gets 206 with ``Content-Range``; without ``Range`` the whole body
comes with 200. ``ignore_range = True`` makes it answer every request with 200 and the whole body
(a server that does not do ranges); ``fallback(path)`` may answer paths not added;
``drip = s`` writes bodies one byte every ``s`` seconds; ``omit_length = True`` sends bodies
without Content-Length, ended by closing the connection. Requests are recorded (path and Range
header); when a response is over, ``finished[path]`` holds the bytes the server managed to write.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

from tests.support.quiet_http import QuietHandler

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Hit:
    path: str
    range: str | None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up mid-body (as the inspection does) is not an error here


class RangeServer:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.ignore_range = False
        self.hits: list[Hit] = []
        self.omit_length = False
        self.finished: dict[str, int] = {}
        self.fallback: Callable[[str], bytes | None] | None = None  # bytes for unknown paths
        self.drip = 0.0  # seconds between bytes of a body (0: all at once)
        self._lock = threading.Lock()
        server = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                byte_range = self.headers.get("Range")
                with server._lock:
                    server.hits.append(Hit(path, byte_range))
                data = server.files.get(path)
                if data is None and server.fallback is not None:
                    data = server.fallback(path)
                if data is None:
                    self._send(404, b"not found", {})
                    return
                m = _RANGE.match(byte_range or "")
                if server.ignore_range or m is None:
                    self._send(200, data, {})
                    return
                first, last = m.groups()
                if first:
                    start, end = int(first), min(int(last) + 1 if last else len(data), len(data))
                else:
                    start, end = max(0, len(data) - int(last or 0)), len(data)
                if start >= len(data) or end <= start:
                    self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                    return
                crange = f"bytes {start}-{end - 1}/{len(data)}"
                self._send(206, data[start:end], {"Content-Range": crange}, path)

            def _send(
                self, code: int, body: bytes, headers: dict[str, str], path: str = ""
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/octet-stream")
                if server.omit_length:
                    self.close_connection = True
                    self.send_header("Connection", "close")
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "none" if server.ignore_range else "bytes")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                path = path or self.path.split("?")[0]
                sent = 0
                step = 1 if server.drip else 16 * 1024
                try:
                    for at in range(0, len(body), step):
                        self.wfile.write(body[at : at + step])
                        sent += len(body[at : at + step])
                        if server.drip:
                            self.wfile.flush()
                            time.sleep(server.drip)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                with server._lock:
                    server.finished[path] = sent

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, path: str, data: bytes) -> str:
        """Serve ``data`` at ``path``; returns its URL."""
        self.files[path] = data
        return self.url + path

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def start(self) -> RangeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
