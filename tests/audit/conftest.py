from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    """An empty folder of index pages for :class:`IndexServer` (a test writes its own)."""
    root = tmp_path / "pages"
    root.mkdir()
    return root
