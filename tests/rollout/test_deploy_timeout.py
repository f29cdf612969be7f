"""A deployment that never settles rolls back after --deploy-timeout (moto server started
with MOTO_ECS_SERVICE_RUNNING=0: its deployments stay IN_PROGRESS)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.rollout.helpers import REGION, shift_args, strategy, tags, weights
from tests.support.cli import graviton
from tests.support.cluster import make_cluster
from tests.support.moto_server import FAKE_CREDENTIALS, moto_server

pytestmark = pytest.mark.moto


@pytest.fixture(scope="module")
def stuck_cluster() -> Iterator[dict[str, Any]]:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in FAKE_CREDENTIALS.items():
            mp.setenv(key, value)
        with moto_server({"MOTO_ECS_SERVICE_RUNNING": "0"}) as url:
            yield make_cluster(url, REGION)


def test_deployment_timeout_rolls_back(stuck_cluster: dict[str, Any]) -> None:
    c = stuck_cluster
    result = graviton(shift_args(c, "--deploy-timeout", "1s"), REGION)
    assert result.code == 1, result.stderr
    (rollback,) = result.of("rollback")
    assert rollback["step"] == "1/4" and "did not settle within 1s" in rollback["reason"]
    assert result.of("deployment")[0]["state"] == "IN_PROGRESS"
    assert not result.of("bake")  # never bakes an unsettled step
    assert strategy(c) == weights(c, 0)
    assert tags(c)["graviton:phase"] == "rolled-back"
    assert "the rollback deployment" in tags(c)["graviton:reason"]
