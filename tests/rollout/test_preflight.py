"""Every preflight failure exits 2 with a one-line reason and leaves the service unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.rollout.helpers import REGION, ecs, set_alarm, shift_args, snapshot
from tests.support.cli import graviton
from tests.support.cluster import client, push_image

pytestmark = pytest.mark.moto

Setup = Callable[[dict[str, Any]], list[str]]


def _new_revision(c: dict[str, Any], **changes: Any) -> None:
    api = ecs(c)
    td = api.describe_task_definition(taskDefinition="orders-td")["taskDefinition"]
    containers = changes.pop("containers", td["containerDefinitions"])
    api.register_task_definition(
        family="orders-td", containerDefinitions=containers,
        requiresCompatibilities=td.get("requiresCompatibilities", ["EC2"]), **changes,
    )  # fmt: skip
    api.update_service(cluster="prod", service="orders", taskDefinition="orders-td:2")


def runtime_x86(c: dict[str, Any]) -> list[str]:
    _new_revision(
        c, runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
    )
    return []


def placement_x86(c: dict[str, Any]) -> list[str]:
    _new_revision(
        c,
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.cpu-architecture == x86_64"}
        ],
    )
    return []


def x86_only_sidecar(c: dict[str, Any]) -> list[str]:
    image = push_image(client("ecr", c["endpoint_url"], REGION), "log-router", "2.30-x86",
                       platforms=("linux/amd64",))  # fmt: skip
    td = ecs(c).describe_task_definition(taskDefinition="orders-td")["taskDefinition"]
    containers = [dict(d, image=image) if d["name"] == "log-router" else d
                  for d in td["containerDefinitions"]]  # fmt: skip
    _new_revision(c, containers=containers)
    return []


def missing_image(c: dict[str, Any]) -> list[str]:
    td = ecs(c).describe_task_definition(taskDefinition="orders-td")["taskDefinition"]
    containers = [dict(d, image=d["image"].replace("1.4.2", "9.9.9")) if d["name"] == "app" else d
                  for d in td["containerDefinitions"]]  # fmt: skip
    _new_revision(c, containers=containers)
    return []


def launch_type_service(c: dict[str, Any]) -> list[str]:
    ecs(c).create_service(cluster="prod", serviceName="legacy", taskDefinition="orders-td",
                          desiredCount=2, launchType="EC2")  # fmt: skip
    return ["--service", "legacy"]


def arm_not_associated(c: dict[str, Any]) -> list[str]:
    ecs(c).put_cluster_capacity_providers(
        cluster="prod", capacityProviders=[c["x86_provider"]], defaultCapacityProviderStrategy=[]
    )
    return ["--x86-provider", c["x86_provider"], "--arm-provider", c["arm_provider"]]


def arm_provider_on_x86_asg(c: dict[str, Any]) -> list[str]:
    asg = client("autoscaling", c["endpoint_url"], REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[c["x86_asg"]]
    )["AutoScalingGroups"][0]
    api = ecs(c)
    api.create_capacity_provider(
        name="prod-fake-arm",
        autoScalingGroupProvider={"autoScalingGroupArn": asg["AutoScalingGroupARN"]},
    )
    api.put_cluster_capacity_providers(
        cluster="prod",
        capacityProviders=[c["x86_provider"], c["arm_provider"], "prod-fake-arm"],
        defaultCapacityProviderStrategy=[],
    )
    return ["--x86-provider", c["x86_provider"], "--arm-provider", "prod-fake-arm"]


def two_arm_providers(c: dict[str, Any]) -> list[str]:
    asg = client("autoscaling", c["endpoint_url"], REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[c["arm_asg"]]
    )["AutoScalingGroups"][0]
    api = ecs(c)
    api.create_capacity_provider(
        name="prod-graviton-2",
        autoScalingGroupProvider={"autoScalingGroupArn": asg["AutoScalingGroupARN"]},
    )
    api.put_cluster_capacity_providers(
        cluster="prod",
        capacityProviders=[c["x86_provider"], c["arm_provider"], "prod-graviton-2"],
        defaultCapacityProviderStrategy=[],
    )
    return []


def alarm_firing(c: dict[str, Any]) -> list[str]:
    set_alarm(c, c["alarms"]["orders"][0], "ALARM")
    return []


def alarm_blind(c: dict[str, Any]) -> list[str]:
    set_alarm(c, c["alarms"]["orders"][0], "INSUFFICIENT_DATA")
    return []


def already_beyond_target(c: dict[str, Any]) -> list[str]:
    ecs(c).update_service(
        cluster="prod",
        service="orders",
        capacityProviderStrategy=[
            {"capacityProvider": c["x86_provider"], "weight": 50},
            {"capacityProvider": c["arm_provider"], "weight": 50},
        ],
    )
    return ["--to", "25"]


def many_user_tags(c: dict[str, Any]) -> list[str]:
    arn = "arn:aws:ecs:eu-west-1:123456789012:service/prod/orders"
    ecs(c).tag_resource(
        resourceArn=arn, tags=[{"key": f"team-{i}", "value": "x"} for i in range(41)]
    )
    return []


def _strategy_service(c: dict[str, Any], name: str, **create: Any) -> list[str]:
    api = ecs(c)
    api.create_service(
        cluster="prod", serviceName=name, taskDefinition="orders-td", desiredCount=4, **create
    )
    api.update_service(
        cluster="prod",
        service=name,
        capacityProviderStrategy=[{"capacityProvider": c["x86_provider"], "weight": 1}],
    )
    return ["--service", name, "--alarm", c["alarms"]["orders"][0]]


def code_deploy(c: dict[str, Any]) -> list[str]:
    return _strategy_service(c, "bluegreen", deploymentController={"type": "CODE_DEPLOY"})


def external(c: dict[str, Any]) -> list[str]:
    return _strategy_service(c, "external", deploymentController={"type": "EXTERNAL"})


def old_arn(c: dict[str, Any]) -> list[str]:
    ecs(c).put_account_setting(name="serviceLongArnFormat", value="disabled")
    return _strategy_service(c, "oldarn")


def arm_group_too_small(c: dict[str, Any]) -> list[str]:
    api = ecs(c)
    asg = client("autoscaling", c["endpoint_url"], REGION)
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[c["arm_asg"]])
    api.create_capacity_provider(
        name="prod-graviton-fixed",
        autoScalingGroupProvider={
            "autoScalingGroupArn": group["AutoScalingGroups"][0]["AutoScalingGroupARN"],
            "managedScaling": {"status": "DISABLED"},
        },
    )
    api.put_cluster_capacity_providers(
        cluster="prod",
        capacityProviders=[c["x86_provider"], "prod-graviton-fixed"],
        defaultCapacityProviderStrategy=[],
    )
    asg.update_auto_scaling_group(
        AutoScalingGroupName=c["arm_asg"], MinSize=0, MaxSize=0, DesiredCapacity=0
    )
    return ["--x86-provider", c["x86_provider"], "--arm-provider", "prod-graviton-fixed"]


def base_starves_arm(c: dict[str, Any]) -> list[str]:
    ecs(c).update_service(
        cluster="prod",
        service="orders",
        capacityProviderStrategy=[{"capacityProvider": c["x86_provider"], "weight": 1, "base": 4}],
    )
    return []


CASES: dict[str, tuple[Setup, str]] = {
    "no cluster": (lambda c: ["--cluster", "nope"], "cluster nope not found"),
    "no service": (lambda c: ["--service", "nope"], "service nope not found"),
    "launch type": (launch_type_service, "cannot move an EC2 launch type service"),
    "41 user tags": (many_user_tags, "has 41 tags of its own"),
    "CODE_DEPLOY controller": (code_deploy, "uses the CODE_DEPLOY deployment controller"),
    "EXTERNAL controller": (external, "uses the EXTERNAL deployment controller"),
    "old-format service ARN": (old_arn, "has the old short format, which cannot be tagged"),
    "ARM group cannot hold the tasks": (
        arm_group_too_small,
        "has managed scaling off and MaxSize 0",
    ),
    "x86 base starves ARM": (base_starves_arm, "base 4 >= desiredCount 4"),
    "provider not associated": (arm_not_associated, "is not associated with cluster prod"),
    "ARM provider launches x86": (arm_provider_on_x86_asg, "must launch only Graviton"),
    "ambiguous providers": (two_arm_providers, "more than one ARM (Graviton) capacity provider"),
    "runtimePlatform X86_64": (runtime_x86, "pins runtimePlatform cpuArchitecture X86_64"),
    "placement constraint": (placement_x86, "excludes arm64"),
    "x86-only sidecar": (x86_only_sidecar, "lacks linux/arm64"),
    "image missing": (missing_image, "orders:9.9.9"),
    "alarm missing": (lambda c: ["--alarm", "no-such-alarm"], "alarm no-such-alarm does not exist"),
    "alarm in ALARM": (alarm_firing, "orders-5xx-rate is in ALARM"),
    "alarm without data": (alarm_blind, "INSUFFICIENT_DATA"),
    "bad step": (lambda c: ["--step", "0"], "--step must be between 1 and 100"),
    "bad duration": (lambda c: ["--bake", "soon"], "not a duration"),
    "target below current": (already_beyond_target, "beyond --to 25"),
    "scale-in without finalize": (lambda c: ["--scale-in-x86"], "--scale-in-x86 needs --finalize"),
    "finalize before 100%": (lambda c: ["--finalize"], "finalize needs a completed shift"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_preflight_failure_exits_2_and_changes_nothing(cluster: dict[str, Any], case: str) -> None:
    setup, message = CASES[case]
    extra = setup(cluster)
    before = snapshot(cluster)
    result = graviton([*shift_args(cluster), *extra], REGION)
    assert result.code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    # one line says why (click's usage errors add its usual "Usage:/Try" lines above it)
    assert len([line for line in result.stderr.splitlines() if message in line]) == 1
    assert "Traceback" not in result.stderr
    assert not result.of("step") and not result.of("lock")
    assert snapshot(cluster) == before
