"""The request handler the test servers and proxies build on."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class QuietHandler(BaseHTTPRequestHandler):
    """A :class:`BaseHTTPRequestHandler` without its line on stderr for every request (pytest
    shows them all under a failing test, and hides the line that says why)."""

    def log_message(self, format: str, *args: object) -> None:
        pass
