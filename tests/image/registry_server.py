"""A tiny OCI distribution API server on 127.0.0.1 that demands a bearer token, like Docker Hub
and most hosted registries: real HTTP, for the registry client's tests."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from graviton.oci.manifest import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from tests.support.quiet_http import QuietHandler

TOKEN = "s3cr3t-token"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryServer:
    """Manifests and blobs in memory; ``/token`` hands out TOKEN (to ``user``/``password`` when
    set), every ``/v2/`` request without ``Bearer TOKEN`` gets a 401 challenge."""

    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        self.user, self.password = user, password
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}  # (repo, ref) -> (type, body)
        self.blobs: dict[str, bytes] = {}
        self.token_requests: list[dict[str, Any]] = []
        self.unauthorized = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RegistryServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- content ---------------------------------------------------------------------------------
    def add_blob(self, data: bytes) -> str:
        digest = digest_of(data)
        self.blobs[digest] = data
        return digest

    def add_manifest(self, repo: str, body: Mapping[str, Any], media_type: str, *tags: str) -> str:
        data = json.dumps(body).encode()
        digest = digest_of(data)
        for ref in (digest, *tags):
            self.manifests[(repo, ref)] = (media_type, data)
        return digest

    def add_image(self, repo: str, os: str, arch: str, config_arch: str | None = None) -> str:
        config = self.add_blob(json.dumps({"os": os, "architecture": config_arch or arch}).encode())
        body = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config},
            "layers": [],
        }
        return self.add_manifest(repo, body, OCI_MANIFEST)

    def add_index(self, repo: str, tag: str, children: list[dict[str, Any]]) -> str:
        body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}
        return self.add_manifest(repo, body, OCI_INDEX, tag)

    # -- HTTP ------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def _send(self, code: int, body: bytes, headers: Mapping[str, str] = {}) -> None:
                self.send_response(code)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path == "/token":
                    return self._token(parse_qs(url.query))
                parts = url.path.split("/")
                # /v2/<repo...>/manifests/<ref>  or  /v2/<repo...>/blobs/<digest>
                kind, ref, repo = parts[-2], parts[-1], "/".join(parts[2:-2])
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    server.unauthorized += 1
                    challenge = (
                        f'Bearer realm="http://{server.host}/token",service="test-registry",'
                        f'scope="repository:{repo}:pull"'
                    )
                    body = b'{"errors":[{"code":"UNAUTHORIZED"}]}'
                    return self._send(401, body, {"WWW-Authenticate": challenge})
                if kind == "manifests" and (repo, ref) in server.manifests:
                    media_type, data = server.manifests[(repo, ref)]
                    accept = self.headers.get("Accept", "")
                    if media_type not in accept and media_type != DOCKER_MANIFEST:
                        return self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
                    headers = {"Content-Type": media_type, "Docker-Content-Digest": digest_of(data)}
                    return self._send(200, data, headers)
                if kind == "blobs" and ref in server.blobs:
                    return self._send(200, server.blobs[ref])
                self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}')

            def _token(self, query: dict[str, list[str]]) -> None:
                auth = self.headers.get("Authorization", "")
                server.token_requests.append({"query": query, "authorization": auth})
                if server.user is not None:
                    expected = base64.b64encode(f"{server.user}:{server.password}".encode())
                    if auth != f"Basic {expected.decode()}":
                        return self._send(401, b'{"details":"bad credentials"}')
                body = json.dumps({"token": TOKEN}).encode()
                self._send(200, body, {"Content-Type": "application/json"})

        return Handler
