"""graviton's requests session: the environment's proxies and CA bundle as requests reads them,
read once per host; a plain GET reaches the server exactly as requests would send it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from graviton.trust import SteadySession
from tests.support.quiet_http import QuietHandler

URLS = [
    "https://pypi.example/simple/demo/",
    "https://files.example/packages/ab/demo-1.0-py3-none-any.whl",
    "http://127.0.0.1:8080/simple/demo/",
    "https://files.example/other",
]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3129")
    monkeypatch.setenv("NO_PROXY", "files.example,127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/some/bundle.pem")


@pytest.mark.usefixtures("environment")
def test_the_settings_are_what_requests_reads_from_the_environment() -> None:
    plain, steady = requests.Session(), SteadySession()
    for url in URLS * 2:
        for stream, verify in ((False, True), (True, True), (True, False), (False, "/ca.pem")):
            want = plain.merge_environment_settings(url, {}, stream, verify, None)
            assert steady.merge_environment_settings(url, {}, stream, verify, None) == want
    mine = {"https": "http://mine.example:1"}
    assert steady.merge_environment_settings(URLS[1], mine, False, True, None)["proxies"] == mine


@pytest.mark.usefixtures("environment")
def test_the_environment_is_read_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    steady = SteadySession()
    first = steady.merge_environment_settings(URLS[0], {}, False, True, None)
    assert first["proxies"]["https"] == "http://proxy.example:3128"
    first["proxies"]["https"] = "changed by a caller"  # the kept settings are not shared
    monkeypatch.setenv("HTTPS_PROXY", "http://later.example:1")
    again = steady.merge_environment_settings(URLS[0], {}, False, True, None)
    assert again["proxies"]["https"] == "http://proxy.example:3128"
    other = steady.merge_environment_settings("https://new.example/", {}, False, True, None)
    assert other["proxies"]["https"] == "http://later.example:1"
    steady.trust_env = False  # told not to read it: nothing from it
    assert (
        "https" not in steady.merge_environment_settings(URLS[0], {}, False, True, None)["proxies"]
    )


# -- plain GETs sent without requests' per-request preparation ------------------------------------


class _Recorder(QuietHandler):
    """Records each request (path and headers); answers by path (see :class:`_Host`)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed ACK)
    server: _Host

    def do_GET(self) -> None:
        self.server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        status, extra = self.server.answers.get(self.path, (200, {}))
        body = b"ok " + self.path.encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Host(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.answers: dict[str, tuple[int, dict[str, str]]] = {}
        self.base = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def hosts(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[_Host, _Host]]:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "NETRC"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    servers = (_Host(), _Host())
    for server in servers:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def _fetch(session: requests.Session, url: str, headers: dict[str, Any]) -> tuple[int, bytes]:
    with session.get(url, headers=headers, timeout=5, stream=True) as resp:
        return resp.status_code, resp.raw.read()


# what each request asks for: (path, headers); the server must see the same from both sessions
ASKED: list[tuple[str, dict[str, Any]]] = [
    ("/simple/demo/", {"Accept": "application/vnd.pypi.simple.v1+json"}),
    ("/simple/demo/", {"Accept": "application/json", "If-None-Match": '"abc"'}),
    ("/files/demo-1.0.whl", {"Range": "bytes=-100", "Accept-Encoding": "identity"}),
    ("/files/demo-1.0.whl#sha256=ab", {"Range": "bytes=0-9"}),
    ("/files/demo-1.0.whl?x=1&y=(2)", {"User-Agent": "mine", "Accept": None}),
    ("/files/demo 1.0.whl", {}),  # requests quotes the space: its path
    ("/files/%41bc.whl", {}),  # requests decodes %41 to A: its path
    ("/files/d\u00e9mo.whl", {}),  # requests encodes it: its path
    ("/simple/demo/", {"Authorization": "Bearer t"}),  # the session's auth, if any, wins
]


def _as_seen(server: _Host) -> list[tuple[str, dict[str, str]]]:
    seen = list(server.seen)
    server.seen.clear()
    return seen


def test_a_plain_get_reaches_the_server_as_requests_sends_it(
    hosts: tuple[_Host, _Host], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, _ = hosts
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password from-netrc\n")
    netrc.chmod(0o600)
    for case in ("netrc", "url credentials", "session auth", "no auth"):
        monkeypatch.setenv("NETRC", str(netrc) if case == "netrc" else str(tmp_path / "none"))
        base = (
            host.base.replace("http://", "http://who:pw%21@")
            if case == "url credentials"
            else host.base
        )
        want: list[tuple[str, dict[str, str]]] = []
        got: list[tuple[str, dict[str, str]]] = []
        plain, steady = requests.Session(), SteadySession()
        if case == "session auth":
            plain.auth = steady.auth = ("sess", "ion")
        for session, into in ((plain, want), (steady, got)):
            for path, headers in ASKED * 2:  # the second time from what was kept
                assert _fetch(session, base + path, headers)[0] == 200
            into.extend(_as_seen(host))
        assert got == want, case
        if case != "no auth":
            assert all("authorization" in h for _, h in got), case


def test_a_redirect_is_followed_by_requests_and_auth_does_not_cross_hosts(
    hosts: tuple[_Host, _Host],
) -> None:
    first, second = hosts
    first.answers["/simple/demo/"] = (302, {"Location": second.base + "/elsewhere/demo/"})
    steady = SteadySession()
    steady.auth = ("user", "secret")
    status, body = _fetch(steady, first.base + "/simple/demo/", {"Accept": "text/html"})
    assert (status, body) == (200, b"ok /elsewhere/demo/")
    (asked,) = _as_seen(first)[-1:]
    assert "authorization" in asked[1]
    (landed,) = _as_seen(second)
    assert landed[0] == "/elsewhere/demo/" and "authorization" not in landed[1]


def test_cookies_a_server_sets_are_sent_back(hosts: tuple[_Host, _Host]) -> None:
    host, _ = hosts
    host.answers["/login/"] = (200, {"Set-Cookie": "session=s1; Path=/"})
    steady = SteadySession()
    _fetch(steady, host.base + "/simple/a/", {})
    _fetch(steady, host.base + "/login/", {})
    _fetch(steady, host.base + "/simple/b/", {})
    cookies = [h.get("cookie") for _, h in _as_seen(host)]
    assert cookies == [None, None, "session=s1"]


def test_session_hooks_still_run(hosts: tuple[_Host, _Host]) -> None:
    host, _ = hosts
    steady = SteadySession()
    called: list[str] = []
    _fetch(steady, host.base + "/simple/a/", {})  # before any hook: kept for reuse
    steady.hooks["response"].append(lambda r, *a, **k: called.append(r.url))
    _fetch(steady, host.base + "/simple/b/", {})
    assert called == [host.base + "/simple/b/"]


def test_an_auth_object_signs_every_request(hosts: tuple[_Host, _Host]) -> None:
    host, _ = hosts

    class Stamp(requests.auth.AuthBase):
        count = 0

        def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
            self.count += 1
            r.headers["X-Stamp"] = str(self.count)
            return r

    steady = SteadySession()
    steady.auth = Stamp()
    for _ in range(3):
        _fetch(steady, host.base + "/simple/a/", {})
    assert [h["x-stamp"] for _, h in _as_seen(host)] == ["1", "2", "3"]


def test_a_header_requests_refuses_is_refused(hosts: tuple[_Host, _Host]) -> None:
    host, _ = hosts
    steady = SteadySession()
    _fetch(steady, host.base + "/simple/a/", {})
    for bad in ("etag\r\nX-Injected: 1", " leading space"):
        with pytest.raises(requests.exceptions.InvalidHeader):
            _fetch(steady, host.base + "/simple/a/", {"If-None-Match": bad})
    assert len(_as_seen(host)) == 1


def test_each_scheme_and_host_is_prepared_once(
    hosts: tuple[_Host, _Host], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = hosts
    steady = SteadySession()
    prepared: list[str] = []
    real = steady.prepare_request

    def counting(request: requests.Request) -> requests.PreparedRequest:
        prepared.append(request.url)
        return real(request)

    monkeypatch.setattr(steady, "prepare_request", counting)
    for _ in range(3):
        for server in hosts:
            assert _fetch(steady, server.base + "/simple/a/", {"Accept": "text/html"})[0] == 200
    assert prepared == [first.base + "/", second.base + "/"]
    steady.headers["User-Agent"] = "changed"  # the session's settings changed: prepared again
    _fetch(steady, first.base + "/simple/a/", {})
    assert prepared[-1] == first.base + "/"
    assert _as_seen(first)[-1][1]["user-agent"] == "changed"
    _fetch(steady, first.base + "/a b/", {})  # a URL requests rewrites: prepared by requests
    assert prepared[-1] == first.base + "/a b/"
    rewritten = first.base.replace("http://", "http://%41:b@")  # requests decodes the %41
    for _ in range(2):
        _fetch(steady, rewritten + "/simple/a/", {})
    assert prepared[-3:] == [rewritten + "/", rewritten + "/simple/a/", rewritten + "/simple/a/"]
