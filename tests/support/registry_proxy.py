"""A fault-injecting HTTP proxy in front of a real registry (the docker test env's 127.0.0.1:5000).

It forwards every request unchanged (the ``Host`` header too, so the upload ``Location`` URLs the
registry hands out point back at the proxy), except those a test chose to break: answer an HTTP
status of its choice (500, 502, 503, 401, 403...) without asking the registry, close the
connection without an answer, or hold the request without ever answering (a registry that times
out mid-push). Every request is recorded with what the proxy did to it.

    with RegistryProxy() as proxy:
        proxy.fail("PUT", "/manifests/", status=500)      # the push's manifest PUT
        ... graviton build --push -t {proxy.host}/app:1 ...
        assert ("PUT", ...) in proxy.seen

buildx's ``docker`` driver (containerd's resolver) pushes to a loopback registry over https first
and falls back to plain http when the answer to its TLS hello is an HTTP one; the proxy answers
it as Go's http server does, so no daemon configuration is needed.
"""

from __future__ import annotations

import enum
import re
import socket
import threading
from dataclasses import dataclass
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from tests.support.quiet_http import QuietHandler

# headers that describe one hop, not the message
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


class Action(enum.Enum):
    STATUS = "status"  # answer ``status`` with a registry-style JSON error body
    DROP = "drop"  # close the connection without an answer
    HANG = "hang"  # never answer (until the proxy stops)


@dataclass
class Fault:
    methods: frozenset[str]
    path: re.Pattern[str]
    action: Action
    status: int = 500
    agent: str | None = None  # only requests whose User-Agent contains this

    def matches(self, method: str, path: str, agent: str) -> bool:
        return (
            method in self.methods
            and self.path.search(path) is not None
            and (self.agent is None or self.agent in agent)
        )


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    outcome: str  # the upstream status ("201"), or "500 (injected)", "dropped", "held"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gives up on a held or dropped request is the point of the test


class RegistryProxy:
    def __init__(self, upstream: str = "127.0.0.1:5000") -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def fail(
        self,
        methods: str,
        path: str,
        *,
        status: int = 500,
        action: Action = Action.STATUS,
        agent: str | None = None,
    ) -> None:
        """Break requests whose method is one of ``methods`` (space-separated) and whose path
        matches the regular expression ``path`` (and, with ``agent``, whose User-Agent has it:
        graviton's own reads, not the engine's)."""
        fault = Fault(frozenset(methods.split()), re.compile(path), action, status, agent)
        with self._lock:
            self.faults.append(fault)

    def injected(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if not s.outcome.isdigit()]

    def __enter__(self) -> RegistryProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    # -- HTTP ------------------------------------------------------------------------------------
    def _fault_for(self, method: str, path: str, agent: str) -> Fault | None:
        with self._lock:
            return next((f for f in self.faults if f.matches(method, path, agent)), None)

    def _record(self, method: str, path: str, outcome: str) -> None:
        with self._lock:
            self.seen.append(Seen(method, path, outcome))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def handle(self) -> None:
                # containerd tries https first even on loopback and falls back to http only when
                # the answer to its TLS hello starts with "HTTP/", as Go's http server's does
                if self.connection.recv(1, socket.MSG_PEEK) == b"\x16":
                    self.connection.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nnot TLS\n")
                    return
                super().handle()

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                method, path = self.command, self.path
                body = self._body()
                fault = proxy._fault_for(method, path, self.headers.get("User-Agent", ""))
                if fault is not None and fault.action is Action.DROP:
                    proxy._record(method, path, "dropped")
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None and fault.action is Action.HANG:
                    proxy._record(method, path, "held")
                    proxy._stop.wait()
                    self.close_connection = True
                    return
                if fault is not None:
                    proxy._record(method, path, f"{fault.status} (injected)")
                    self._answer_error(fault.status)
                    return
                self._forward(method, path, body)

            def _answer_error(self, status: int) -> None:
                code = {401: "UNAUTHORIZED", 403: "DENIED"}.get(status, "UNKNOWN")
                data = (
                    f'{{"errors":[{{"code":"{code}","message":"injected by the test proxy"}}]}}\n'
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="registry-proxy"')
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _forward(self, method: str, path: str, body: bytes) -> None:
                conn = HTTPConnection(proxy.upstream, timeout=120)
                try:
                    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                    for key, value in self.headers.items():  # repeated ones too (Accept)
                        if key.lower() not in _HOP and key.lower() != "content-length":
                            conn.putheader(key, value)
                    conn.putheader("Content-Length", str(len(body)))
                    conn.endheaders(body)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                proxy._record(method, path, str(resp.status))
                self.send_response(resp.status, resp.reason)
                for key, value in resp.getheaders():
                    if key.lower() not in _HOP and key.lower() not in ("date", "server"):
                        if key.lower() == "content-length" and method != "HEAD":
                            continue
                        self.send_header(key, value)
                if method != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

        return Handler
