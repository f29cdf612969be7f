"""Small helpers for the shift scenario tests (reads against the moto server)."""

from __future__ import annotations

from typing import Any

from tests.support.cluster import client

REGION = "eu-west-1"


def ecs(c: dict[str, Any]) -> Any:
    return client("ecs", c["endpoint_url"], REGION)


def strategy(c: dict[str, Any], service: str = "orders") -> dict[str, int]:
    svc = ecs(c).describe_services(cluster=c["cluster"], services=[service])["services"][0]
    return {i["capacityProvider"]: i["weight"] for i in svc.get("capacityProviderStrategy", [])}


def weights(c: dict[str, Any], arm: int) -> dict[str, int]:
    return {c["x86_provider"]: 100 - arm, c["arm_provider"]: arm}


def tags(c: dict[str, Any], service: str = "orders") -> dict[str, str]:
    arn = f"arn:aws:ecs:{REGION}:123456789012:service/{c['cluster']}/{service}"
    resp = ecs(c).list_tags_for_resource(resourceArn=arn)
    return {t["key"]: t["value"] for t in resp["tags"]}


def snapshot(c: dict[str, Any], service: str = "orders") -> Any:
    """Everything describe_services says about the service, tags included."""
    resp = ecs(c).describe_services(cluster=c["cluster"], services=[service], include=["TAGS"])
    return resp["services"], resp["failures"]


def shift_args(c: dict[str, Any], *extra: str, service: str = "orders") -> list[str]:
    alarms = [a for name in c["alarms"][service] for a in ("--alarm", name)]
    return [
        "shift", "--cluster", c["cluster"], "--service", service,
        "--endpoint-url", c["endpoint_url"], *alarms,
        "--step", "25", "--bake", "1s", "--poll", "0.2s", "--format", "json", *extra,
    ]  # fmt: skip


def set_alarm(c: dict[str, Any], name: str, state: str) -> None:
    cw = client("cloudwatch", c["endpoint_url"], REGION)
    cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"test set {state}")


def default_strategy_to_arm(c: dict[str, Any]) -> None:
    """What an operator does before decommissioning x86: the cluster default names Graviton."""
    ecs(c).put_cluster_capacity_providers(
        cluster=c["cluster"],
        capacityProviders=[c["x86_provider"], c["arm_provider"]],
        defaultCapacityProviderStrategy=[{"capacityProvider": c["arm_provider"], "weight": 1}],
    )
