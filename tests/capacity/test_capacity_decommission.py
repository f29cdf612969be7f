"""``graviton capacity decommission`` on a moto server (issue 11 done-when 3, issue 9 item 10)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.capacity.conftest import api, capacity, state

pytestmark = pytest.mark.moto

DECOMMISSION = ("decommission", "--cluster", "prod", "--provider", "cp-x86", "--poll", "0.05s")


def after_the_shift(url: str) -> None:
    """What ``graviton shift --finalize`` leaves: the service and the default on cp-arm."""
    ecs = api(url, "ecs")
    ecs.update_service(
        cluster="prod",
        service="orders",
        capacityProviderStrategy=[
            {"capacityProvider": "cp-arm", "weight": 100, "base": 0},
            {"capacityProvider": "cp-x86", "weight": 0, "base": 0},
        ],
        forceNewDeployment=True,
    )
    ecs.put_cluster_capacity_providers(
        cluster="prod",
        capacityProviders=["cp-x86", "cp-arm"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "cp-arm", "weight": 1}],
    )


def x86_group(url: str) -> dict[str, Any] | None:
    groups = api(url, "autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["cp-x86-asg"]
    )["AutoScalingGroups"]
    return groups[0] if groups else None


def test_refuses_while_a_service_and_the_default_strategy_use_it(prod: dict[str, Any]) -> None:
    url = prod["url"]
    assert capacity("create", "--cluster", "prod", "--from", "cp-x86", "--name", "cp-arm",
                    url=url).exit_code == 0  # fmt: skip
    before = state(url)
    result = capacity(*DECOMMISSION, url=url)
    assert result.exit_code == 2, result.output
    assert "service orders (weight 1, base 0)" in result.stderr
    assert "cluster default strategy gives it weight 1, base 1" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert state(url) == before
    group = x86_group(url)
    assert group is not None and group["DesiredCapacity"] == 2


def test_refuses_while_a_task_runs_on_its_instances(prod: dict[str, Any]) -> None:
    url = prod["url"]
    assert capacity("create", "--cluster", "prod", "--from", "cp-x86", "--name", "cp-arm",
                    url=url).exit_code == 0  # fmt: skip
    after_the_shift(url)
    ecs = api(url, "ecs")
    instances = ecs.list_container_instances(cluster="prod")["containerInstanceArns"]
    ecs.start_task(
        cluster="prod", taskDefinition="orders-td", containerInstances=instances[:1], group="batch"
    )
    before = state(url)
    result = capacity(*DECOMMISSION, url=url)
    assert result.exit_code == 2, result.output
    assert "runs 1 task(s)" in result.stderr and "batch" in result.stderr
    assert state(url) == before


def test_after_the_shift_it_drains_scales_to_zero_and_deletes(prod: dict[str, Any]) -> None:
    url = prod["url"]
    assert capacity("create", "--cluster", "prod", "--from", "cp-x86", "--name", "cp-arm",
                    url=url).exit_code == 0  # fmt: skip
    after_the_shift(url)
    dry = capacity(*DECOMMISSION, "--dry-run", url=url)
    assert dry.exit_code == 0, dry.output
    assert "would: " in dry.stdout
    group = x86_group(url)
    assert group is not None and group["DesiredCapacity"] == 2

    result = capacity(*DECOMMISSION, "--format", "json", url=url)
    assert result.exit_code == 0, result.output
    ecs = api(url, "ecs")
    cluster = ecs.describe_clusters(clusters=["prod"])["clusters"][0]
    assert cluster["capacityProviders"] == ["cp-arm"]
    assert cluster["defaultCapacityProviderStrategy"] == [
        {"capacityProvider": "cp-arm", "weight": 1}
    ]
    service = ecs.describe_services(cluster="prod", services=["orders"])["services"][0]
    assert [i["capacityProvider"] for i in service["capacityProviderStrategy"]] == ["cp-arm"]
    arns = ecs.list_container_instances(cluster="prod")["containerInstanceArns"]
    statuses = {
        ci["ec2InstanceId"]: ci["status"]
        for ci in ecs.describe_container_instances(cluster="prod", containerInstances=arns)[
            "containerInstances"
        ]
    }
    assert statuses and set(statuses.values()) == {"DRAINING"}
    group = x86_group(url)
    assert group is not None and (group["MinSize"], group["DesiredCapacity"]) == (0, 0)
    assert not any(i.get("ProtectedFromScaleIn") for i in group.get("Instances", []))

    deleted = capacity(*DECOMMISSION, "--delete", url=url)
    assert deleted.exit_code == 0, deleted.output
    assert x86_group(url) is None
    names = [t["LaunchTemplateName"] for t in api(url, "ec2").describe_launch_templates()[
        "LaunchTemplates"]]  # fmt: skip
    assert "cp-x86-lt" not in names and "cp-arm" in names
    gone = ecs.describe_capacity_providers(capacityProviders=["cp-x86"])
    assert not [p for p in gone["capacityProviders"] if p.get("status") == "ACTIVE"]


def test_a_drain_that_does_not_finish_is_exit_3(prod: dict[str, Any]) -> None:
    from tests.support.fault_proxy import FaultProxy

    url = prod["url"]
    assert capacity("create", "--cluster", "prod", "--from", "cp-x86", "--name", "cp-arm",
                    url=url).exit_code == 0  # fmt: skip
    after_the_shift(url)
    with FaultProxy(url) as proxy:
        # the check reads empty instances; once DRAINING, a task (placed in between) stays
        proxy.rewrite(
            "DescribeContainerInstances",
            lambda body: body.replace(b'"runningTasksCount": 0', b'"runningTasksCount": 1'),
            after=1,
        )
        result = capacity(*DECOMMISSION, "--timeout", "0.3s", url=proxy.url)
    assert result.exit_code == 3, result.output
    *progress, error = result.stderr.strip().splitlines()
    assert error.startswith("graviton: error: ") and "still ran tasks" in error
    assert progress == [
        "dropped cp-x86 (weight 0) from service orders's strategy",
        "detached cp-x86 from cluster prod",
    ]
    group = x86_group(url)
    assert group is not None and group["DesiredCapacity"] == 2  # never scaled in


def test_a_service_with_only_a_zero_weight_x86_entry_is_refused(prod: dict[str, Any]) -> None:
    url = prod["url"]
    assert capacity("create", "--cluster", "prod", "--from", "cp-x86", "--name", "cp-arm",
                    url=url).exit_code == 0  # fmt: skip
    after_the_shift(url)
    api(url, "ecs").update_service(
        cluster="prod",
        service="orders",
        capacityProviderStrategy=[{"capacityProvider": "cp-x86", "weight": 0, "base": 0}],
        forceNewDeployment=True,
    )
    result = capacity(*DECOMMISSION, url=url)
    assert result.exit_code == 2 and "service orders" in result.stderr


def test_a_group_already_at_zero_is_not_written_again(prod: dict[str, Any]) -> None:
    """``shift --finalize --scale-in-x86`` scales the group to 0 first; the decommission that
    follows must not call UpdateAutoScalingGroup again nor claim it scaled the group."""
    from tests.support.fault_proxy import FaultProxy

    url = prod["url"]
    assert capacity("create", "--cluster", "prod", "--from", "cp-x86", "--name", "cp-arm",
                    url=url).exit_code == 0  # fmt: skip
    after_the_shift(url)
    first = capacity(*DECOMMISSION, url=url)  # what --scale-in-x86 does
    assert first.exit_code == 0, first.output
    assert "did: scaled auto scaling group cp-x86-asg to 0" in first.stdout
    group = x86_group(url)
    assert group is not None and (group["MinSize"], group["DesiredCapacity"]) == (0, 0)

    kept = "kept auto scaling group cp-x86-asg as it was: already at 0 (min 0, desired 0)"
    dry = capacity(*DECOMMISSION, "--delete", "--dry-run", url=url)
    assert dry.exit_code == 0, dry.output
    assert f"would: {kept}" in dry.stdout and "scaled" not in dry.stdout
    with FaultProxy(url) as proxy:
        result = capacity(*DECOMMISSION, "--delete", url=proxy.url)
        written = proxy.operations()
    assert result.exit_code == 0, result.output
    assert f"did: {kept}" in result.stdout and "scaled" not in result.stdout
    assert "UpdateAutoScalingGroup" not in written
    assert "DeleteAutoScalingGroup" in written and x86_group(url) is None
