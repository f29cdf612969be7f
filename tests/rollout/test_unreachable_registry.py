"""An image whose registry does not answer from here (Docker Hub from an isolated network) is
reported unverified, not passed silently and not fatal; --strict-images makes it exit 3."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.rollout.helpers import REGION, ecs, shift_args, snapshot
from tests.support.cli import graviton

pytestmark = pytest.mark.moto


def _dead_registry_image() -> str:
    with socket.socket() as s:  # a loopback port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"127.0.0.1:{port}/library/nginx:1.27"


def _use_image(c: dict[str, Any], image: str) -> None:
    api = ecs(c)
    td = api.describe_task_definition(taskDefinition="orders-td")["taskDefinition"]
    containers = [dict(d, image=image) if d["name"] == "app" else d
                  for d in td["containerDefinitions"]]  # fmt: skip
    api.register_task_definition(
        family="orders-td", containerDefinitions=containers,
        requiresCompatibilities=td.get("requiresCompatibilities", ["EC2"]),
    )  # fmt: skip
    api.update_service(cluster="prod", service="orders", taskDefinition="orders-td:2")


def test_unverified_image_is_a_warning(cluster: dict[str, Any]) -> None:
    image = _dead_registry_image()
    _use_image(cluster, image)
    result = graviton([*shift_args(cluster), "--dry-run"], REGION)
    assert result.code == 0, result.stderr
    (check,) = [c for c in result.of("check") if c["check"] == "image app"]
    assert check["ok"] and check["warning"] and "UNVERIFIED" in check["detail"]
    assert image in check["detail"]


def test_strict_images_makes_it_an_error(cluster: dict[str, Any]) -> None:
    _use_image(cluster, _dead_registry_image())
    before = snapshot(cluster)
    result = graviton([*shift_args(cluster), "--strict-images"], REGION)
    assert result.code == 3, (result.stdout, result.stderr)
    assert "registry unreachable" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(cluster) == before
