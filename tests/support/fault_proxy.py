"""A fault-injecting HTTP proxy between graviton and a moto server.

moto never fails and enforces few limits, so the fault tests point graviton's ``--endpoint-url``
at this proxy instead: it forwards every request to moto unchanged, except for operations a test
chose to reject (with the error code AWS would send), delay, hold until released, or whose
response it rewrites. It records every operation it saw, in order, so a test can assert what
graviton sent and what it did not.

The operation is read the way AWS routes it: ``X-Amz-Target`` (JSON protocol: ECS, DynamoDB,
ECR, SSM, and CloudWatch with the botocore installed here), ``/service/<svc>/operation/<Op>``
(smithy RPC v2 CBOR: CloudWatch with some botocore releases) or the form field
``Action`` (query protocol: Auto Scaling, EC2, STS). Errors are rendered in the protocol of the
request, so botocore raises the same ``ClientError`` it would for the real service.

    with FaultProxy(moto_url) as proxy:
        proxy.reject("TagResource", "InvalidParameterException", "too many tags")
        ... graviton ... --endpoint-url proxy.url
        assert "UpdateService" in proxy.operations()
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from tests.support.moto_server import free_port
from tests.support.quiet_http import QuietHandler

Rewrite = Callable[[bytes], bytes]

# headers that describe one hop, not the message
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "date", "server"}


@dataclass
class _Rule:
    operation: str
    times: int | None  # None: every call; otherwise how many calls it still applies to
    error: tuple[int, str, str] | None = None  # (status, code, message)
    delay: float = 0.0
    gate: threading.Event | None = None  # hold the call until set
    rewrite: Rewrite | None = None
    after: int = 0  # let this many matching calls through first
    answer: tuple[int, str, bytes] | None = None  # (status, content type, body): moto not asked
    lose: bool = False  # forward to moto, then close the connection without an answer

    def take(self) -> bool:
        """Whether this call is the rule's to act on (consumes one use)."""
        if self.after > 0:
            self.after -= 1
            return False
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


@dataclass
class _Seen:
    operation: str
    body: bytes
    faulted: bool


@dataclass
class FaultProxy:
    upstream: str  # http://127.0.0.1:PORT of the moto server
    port: int = field(default_factory=free_port)
    _rules: list[_Rule] = field(default_factory=list)
    _seen: list[_Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what a test asks for --------------------------------------------------------------------
    def reject(
        self,
        operation: str,
        code: str = "ServerException",
        message: str = "injected by the test's fault proxy",
        *,
        status: int = 400,
        times: int | None = None,
        after: int = 0,
    ) -> None:
        """Answer ``operation`` with an AWS error instead of forwarding it."""
        self._add(_Rule(operation, times, error=(status, code, message), after=after))

    def delay(self, operation: str, seconds: float, *, times: int | None = None) -> None:
        """Forward ``operation`` after ``seconds``."""
        self._add(_Rule(operation, times, delay=seconds))

    def hold(self, operation: str, *, times: int | None = 1) -> threading.Event:
        """Hold ``operation`` until the returned event is set, then forward it."""
        gate = threading.Event()
        self._add(_Rule(operation, times, gate=gate))
        return gate

    def rewrite(
        self, operation: str, change: Rewrite, *, times: int | None = None, after: int = 0
    ) -> None:
        """Forward ``operation`` and pass moto's response body through ``change`` (after the
        first ``after`` calls)."""
        self._add(_Rule(operation, times, rewrite=change, after=after))

    def answer(
        self,
        operation: str,
        body: bytes,
        *,
        content_type: str = "text/xml",
        status: int = 200,
        times: int | None = None,
    ) -> None:
        """Answer ``operation`` with ``body`` instead of forwarding it (for an operation moto
        does not implement, e.g. EC2 DescribeReservedInstances)."""
        self._add(_Rule(operation, times, answer=(status, content_type, body)))

    def lose_answer(self, operation: str, *, times: int | None = 1) -> None:
        """Forward ``operation`` to moto (it is carried out), then close the connection without
        answering: the client cannot tell whether it happened (and botocore retries it)."""
        self._add(_Rule(operation, times, lose=True))

    def clear(self) -> None:
        with self._lock:
            for rule in self._rules:
                if rule.gate is not None:
                    rule.gate.set()
            self._rules.clear()

    def operations(self) -> list[str]:
        """Every operation seen, in order (rejected ones included)."""
        with self._lock:
            return [seen.operation for seen in self._seen]

    def bodies(self, operation: str) -> list[bytes]:
        """The request bodies of every ``operation`` call, in order."""
        with self._lock:
            return [seen.body for seen in self._seen if seen.operation == operation]

    def forwarded(self) -> list[str]:
        """The operations that reached moto."""
        with self._lock:
            return [seen.operation for seen in self._seen if not seen.faulted]

    def reset_log(self) -> None:
        with self._lock:
            self._seen.clear()

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _match(self, operation: str) -> list[_Rule]:
        with self._lock:
            return [r for r in self._rules if r.operation == operation and r.take()]

    def _record(self, operation: str, body: bytes, faulted: bool) -> None:
        with self._lock:
            self._seen.append(_Seen(operation, body, faulted))

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        proxy = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                operation = operation_of(self.path, dict(self.headers.items()), body)
                rules = proxy._match(operation)
                for rule in rules:
                    if rule.gate is not None:
                        rule.gate.wait(timeout=120)
                    if rule.delay:
                        time.sleep(rule.delay)
                error = next((r.error for r in rules if r.error is not None), None)
                proxy._record(operation, body, error is not None)
                if error is not None:
                    self._reply(*render_error(self.headers, self.path, *error))
                    return
                canned = next((r.answer for r in rules if r.answer is not None), None)
                if canned is not None:
                    self._reply(canned[0], [("Content-Type", canned[1])], canned[2])
                    return
                status, headers, payload = proxy._forward(self.command, self.path, self, body)
                if any(rule.lose for rule in rules):
                    self.close_connection = True
                    self.connection.close()
                    return
                for rule in rules:
                    if rule.rewrite is not None:
                        payload = rule.rewrite(payload)
                self._reply(status, headers, payload)

            def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _forward(
        self, method: str, path: str, handler: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        target = urllib.parse.urlsplit(self.upstream)
        conn = HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=120)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
            headers["Host"] = target.netloc
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, list(response.getheaders()), response.read()
        finally:
            conn.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def operation_of(path: str, headers: dict[str, str], body: bytes) -> str:
    """The AWS operation a request asks for, or ``METHOD path`` when it names none."""
    lowered = {k.lower(): v for k, v in headers.items()}
    target = lowered.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    if "/operation/" in path:
        return path.rsplit("/operation/", 1)[1].split("?", 1)[0]
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    action = (form.get("Action") or query.get("Action") or [""])[0]
    return action or path


def render_error(
    headers: object, path: str, status: int, code: str, message: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """An AWS error response in the protocol of the request."""
    get = getattr(headers, "get", lambda _k, _d=None: None)
    request_id = str(uuid.uuid4())
    if get("X-Amz-Target"):
        payload = json.dumps({"__type": code, "message": message}).encode()
        return (
            status,
            [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)],
            payload,
        )
    if "/operation/" in path:
        return (
            status,
            [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")],
            _cbor_map({"__type": code, "message": message}),
        )
    # the query protocol; EC2 wraps errors differently
    if "ec2" in str(get("Authorization") or ""):
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        )
    else:
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        )
    return status, [("Content-Type", "text/xml")], xml.encode()


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 256:
        return bytes([major << 5 | 24, length])
    return bytes([major << 5 | 25]) + length.to_bytes(2, "big")


def _cbor_map(items: dict[str, str]) -> bytes:
    out = _cbor_head(5, len(items))
    for key, value in items.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out
