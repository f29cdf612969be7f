from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.audit.index_server import IndexServer


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        yield server


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (the port is bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple/"
