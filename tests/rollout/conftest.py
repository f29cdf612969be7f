"""Fixtures for the shift tests: one moto server process per session, reset per test, and the
example cluster built on it over HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so `tests.support` imports however pytest is started
    sys.path.insert(0, str(ROOT))

from tests.support.cluster import make_cluster  # noqa: E402
from tests.support.moto_server import FAKE_CREDENTIALS, moto_server, reset  # noqa: E402

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def cluster(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fresh example cluster (x86 m6i + Graviton m6g providers, service ``orders``)."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    reset(moto_url)
    return make_cluster(moto_url, REGION)
