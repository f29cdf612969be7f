"""A real PEP 691 index on 127.0.0.1, served from tests/fixtures/index by a thread.

Routes: /simple/<name>/ serves <name>.json (PEP 691 JSON, with ETag and If-None-Match -> 304)
or <name>.html (PEP 503 HTML); /simple/broken-500/ always answers 500; /simple/malformed/
answers invalid JSON; /simple/slow/ answers after 2 s. Every request is counted per path.
"""

from __future__ import annotations

import collections
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "index"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class IndexServer:
    def __init__(self, root: Path = FIXTURES, max_age: int = 0) -> None:
        self.root = root
        self.max_age = max_age
        self.hits: collections.Counter[str] = collections.Counter()
        self.headers_seen: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.hits[self.path] += 1
                server.headers_seen.append(dict(self.headers))
                parts = [p for p in self.path.split("?")[0].split("/") if p]
                if len(parts) != 2 or parts[0] != "simple":
                    self._send(404, "text/plain", b"not found")
                    return
                name = parts[1]
                if name == "broken-500":
                    self._send(500, "text/plain", b"internal error")
                    return
                if name == "malformed":
                    self._send(200, JSON_TYPE, b'{"meta": {"api-version": "1.1"}, "files": [')
                    return
                if name == "slow":
                    time.sleep(2)
                json_file = server.root / f"{name}.json"
                html_file = server.root / f"{name}.html"
                if json_file.exists():
                    body, ctype = json_file.read_bytes(), JSON_TYPE
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

            def _send(
                self, code: int, ctype: str, body: bytes, extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", f"max-age={server.max_age}")
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/simple/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> IndexServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def requests_for(self, name: str) -> int:
        return self.hits[f"/simple/{name}/"]
