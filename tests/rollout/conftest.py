"""Fixtures for the shift tests: one moto server process per session, reset per test, the
example cluster built on it over HTTP, and a fault proxy in front of it (graviton and the test
helpers talk to ``cluster["endpoint_url"]``, the proxy; ``cluster["moto_url"]`` is moto itself)
whose UpdateService answers come after the service's tasks were placed (:mod:`ecs_sim`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so `tests.support` imports however pytest is started
    sys.path.insert(0, str(ROOT))

from tests.rollout.ecs_sim import Scheduler  # noqa: E402
from tests.support.cluster import make_cluster  # noqa: E402
from tests.support.fault_proxy import FaultProxy  # noqa: E402
from tests.support.moto_server import FAKE_CREDENTIALS, moto_server, reset  # noqa: E402

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    with FaultProxy(moto_url) as fault:
        yield fault


def simulated_cluster(moto_url: str, proxy: FaultProxy, **kw: Any) -> dict[str, Any]:
    c = make_cluster(moto_url, REGION, **kw)
    c["moto_url"] = moto_url
    scheduler = Scheduler(c)
    for service in c["services"]:
        scheduler.place(service)
    scheduler.on_update_service(proxy)
    c["scheduler"] = scheduler
    c["proxy"] = proxy
    c["endpoint_url"] = proxy.url
    return c


@pytest.fixture
def cluster(moto_url: str, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fresh example cluster (x86 m6i + Graviton m6g providers, service ``orders``), reached
    through the fault proxy."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    reset(moto_url)
    return simulated_cluster(moto_url, proxy)
