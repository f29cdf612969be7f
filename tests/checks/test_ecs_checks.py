"""Preflight checks on plain ECS/ASG data (shared by shift and the CI gate)."""

from __future__ import annotations

import pytest

from graviton.checks.ecs import (
    ProviderInfo,
    check_arm_capacity,
    check_providers,
    check_service,
    check_tag_room,
    check_task_definition,
    constraint_excludes_arm,
    container_images,
    discover_providers,
)


def info(name: str, *types: str, status: str = "ACTIVE") -> ProviderInfo:
    return ProviderInfo(name, status, f"{name}-asg", frozenset(types))


def test_discover_providers() -> None:
    assert discover_providers([info("a", "m6i.large"), info("b", "m6g.large")]) == ("a", "b")


def test_discover_ambiguity_is_an_error_unless_the_strategy_settles_it() -> None:
    many = [info("a", "m6i.large"), info("c", "c6i.large"), info("b", "m6g.large")]
    err = discover_providers(many)
    assert isinstance(err, str) and "more than one x86" in err and "--x86-provider" in err
    assert discover_providers(many, in_strategy=["c"]) == ("c", "b")
    mixed = discover_providers([info("a", "m6i.large"), info("m", "m6g.large", "m6i.large")])
    assert isinstance(mixed, str) and "no ARM" in mixed and "m: mixed" in mixed


def test_check_providers() -> None:
    cluster = {"clusterName": "prod", "capacityProviders": ["a", "b"]}
    ok = check_providers(cluster, [info("a", "m6i.large"), info("b", "m6g.large")], "a", "b")
    assert all(c.ok for c in ok)
    bad = check_providers(cluster, [info("a", "m6i.large"), info("b", "m6i.large")], "a", "b")
    assert [c.ok for c in bad] == [True, False] and "only Graviton" in bad[1].detail
    gone = check_providers(
        {"capacityProviders": ["a"]}, [info("a", "m6i.large"), info("b", "m6g.large")], "a", "b"
    )
    assert "not associated" in gone[1].detail
    inactive = check_providers(
        cluster, [info("a", "m6i.large"), info("b", "m6g.large", status="INACTIVE")], "a", "b"
    )
    assert "not ACTIVE" in inactive[1].detail


def test_check_service_needs_a_strategy_of_our_two_providers() -> None:
    launch_type = check_service({"status": "ACTIVE", "launchType": "EC2"}, "a", "b")
    assert not launch_type[1].ok and "launch type EC2" in launch_type[1].detail
    third = check_service(
        {
            "status": "ACTIVE",
            "capacityProviderStrategy": [
                {"capacityProvider": "a", "weight": 1},
                {"capacityProvider": "spot", "weight": 1},
            ],
        },
        "a",
        "b",
    )
    assert not third[1].ok and "spot" in third[1].detail


@pytest.mark.parametrize(
    ("expression", "excluded"),
    [
        ("attribute:ecs.cpu-architecture == x86_64", True),
        ("attribute:ecs.cpu-architecture == arm64", False),
        ("attribute:ecs.cpu-architecture != arm64", True),
        ("attribute:ecs.cpu-architecture in [x86_64, arm64]", False),
        ("attribute:ecs.instance-type =~ m6g.*", False),
        ("attribute:ecs.instance-type == m6i.large", True),
        ("attribute:ecs.instance-type in [m6i.large, m6g.large]", False),
        ("attribute:ecs.instance-type in [m6i.*, c6i.*]", True),
        ("attribute:ecs.instance-type != m6g.large", True),
        ("attribute:ecs.availability-zone in [eu-west-1a]", False),
    ],
)
def test_constraints(expression: str, excluded: bool) -> None:
    assert (constraint_excludes_arm(expression, ["m6g.large"]) is not None) is excluded


def test_task_definition_checks() -> None:
    td = {
        "family": "orders",
        "revision": 3,
        "runtimePlatform": {"cpuArchitecture": "X86_64"},
        "requiresCompatibilities": ["FARGATE"],
        "placementConstraints": [
            {"type": "memberOf", "expression": "attribute:ecs.cpu-architecture == x86_64"}
        ],
        "containerDefinitions": [{"name": "app", "image": "a:1"}, {"name": "side", "image": "b:2"}],
    }
    checks = {c.name: c for c in check_task_definition(td, [], ["m6g.large"])}
    assert not checks["runtime platform"].ok and "X86_64" in checks["runtime platform"].detail
    assert not checks["compatibility"].ok and "FARGATE" in checks["compatibility"].detail
    assert not checks["placement"].ok
    assert container_images(td) == [("app", "a:1"), ("side", "b:2")]
    fine = check_task_definition({"family": "o", "revision": 1}, [], ["m6g.large"])
    assert all(c.ok for c in fine)


def _service(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "status": "ACTIVE",
        "serviceArn": "arn:aws:ecs:eu-west-1:1:service/prod/orders",
        "desiredCount": 4,
        "capacityProviderStrategy": [{"capacityProvider": "x86", "weight": 1, "base": 0}],
    }
    return base | changes


def _failed(service: dict[str, object]) -> dict[str, str]:
    return {c.name: c.detail for c in check_service(service, "x86", "arm") if not c.ok}


def test_real_ecs_rules_moto_does_not_enforce() -> None:
    assert _failed(_service()) == {}
    for kind in ("CODE_DEPLOY", "EXTERNAL"):
        failed = _failed(_service(deploymentController={"type": kind}))
        assert f"the {kind} deployment controller" in failed["deployment controller"]
    short = _failed(_service(serviceArn="arn:aws:ecs:eu-west-1:1:service/orders"))
    assert "cannot be tagged" in short["service ARN"]
    launch = _failed(_service(capacityProviderStrategy=[], launchType="EC2"))
    assert "not a valid transition" in launch["strategy"]
    base = [{"capacityProvider": "x86", "weight": 1, "base": 4}]
    assert "base 4 >= desiredCount 4" in _failed(_service(capacityProviderStrategy=base))["tasks"]
    assert "desiredCount is 0" in _failed(_service(desiredCount=0))["tasks"]


def test_tag_room_counts_against_the_ecs_limit() -> None:
    (ok,) = check_tag_room(36, 14)
    assert ok.ok
    (full,) = check_tag_room(41, 14)
    assert not full.ok and "remove 5" in full.detail


def test_arm_capacity() -> None:
    fixed = ProviderInfo("arm", "ACTIVE", "arm-asg", frozenset({"m6g.large"}))
    managed = ProviderInfo("arm", "ACTIVE", "arm-asg", frozenset(), managed_scaling=True)
    need = {"CPU": 1024, "MEMORY": 2048}
    assert check_arm_capacity(managed, 40, 1, None, need)[0].ok
    (small,) = check_arm_capacity(fixed, 9, 2, {"CPU": 4096, "MEMORY": 8192}, need)
    assert not small.ok and "holds 8 tasks" in small.detail
    assert check_arm_capacity(fixed, 8, 2, {"CPU": 4096, "MEMORY": 8192}, need)[0].ok
    (zero,) = check_arm_capacity(fixed, 1, 0, None, need)
    assert not zero.ok
    (unknown,) = check_arm_capacity(fixed, 4, 3, None, need)
    assert unknown.ok and unknown.warning
