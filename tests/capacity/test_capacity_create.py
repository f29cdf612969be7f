"""``graviton capacity plan|create`` on a moto server (issue 11, done-when 1 and 2)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.capacity.conftest import (
    ARM_AMI_PARAMETER,
    DEFAULT_STRATEGY,
    REGION,
    api,
    as_json,
    capacity,
    ssm_value,
    state,
)
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.moto

CREATE = ("create", "--cluster", "prod", "--from", "cp-x86", "--name", "cp-arm")


def template_data(url: str, name: str) -> dict[str, Any]:
    versions = api(url, "ec2").describe_launch_template_versions(
        LaunchTemplateName=name, Versions=["$Latest"]
    )
    data: dict[str, Any] = versions["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    return data


def group(url: str, name: str) -> dict[str, Any]:
    groups = api(url, "autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    found: dict[str, Any] = groups["AutoScalingGroups"][0]
    return found


def test_create_makes_the_twin_and_a_rerun_changes_nothing(prod: dict[str, Any]) -> None:
    url = prod["url"]
    doc = as_json(capacity(*CREATE, "--format", "json", url=url))
    assert doc["outcome"]["changed"] and doc["outcome"]["attached"]

    data = template_data(url, "cp-arm")
    arm_ami = ssm_value(url, ARM_AMI_PARAMETER)
    assert data["ImageId"] == arm_ami
    image = api(url, "ec2").describe_images(ImageIds=[arm_ami])["Images"][0]
    assert image["Architecture"] == "arm64"
    assert data["InstanceType"] == "m6g.xlarge"
    x86 = template_data(url, "cp-x86-lt")
    for key in ("UserData", "IamInstanceProfile", "SecurityGroupIds", "MetadataOptions",
                "BlockDeviceMappings", "TagSpecifications"):  # fmt: skip
        assert _own(data[key]) == x86[key], key
    assert b"ECS_CLUSTER=prod" in base64.b64decode(data["UserData"])

    twin = group(url, "cp-arm")
    assert (twin["MinSize"], twin["MaxSize"], twin["DesiredCapacity"]) == (0, 6, 0)
    assert set(twin["VPCZoneIdentifier"].split(",")) == set(prod["subnets"])
    assert twin["NewInstancesProtectedFromScaleIn"] is True
    tags = {t["Key"]: t["Value"] for t in twin["Tags"]}
    assert "AmazonECSManaged" in tags and tags["graviton:twin-of"] == "cp-x86"
    assert tags["team"] == "trading"

    ecs = api(url, "ecs")
    providers = {
        p["name"]: p["autoScalingGroupProvider"]
        for p in ecs.describe_capacity_providers(capacityProviders=["cp-x86", "cp-arm"])[
            "capacityProviders"
        ]
    }
    assert providers["cp-arm"]["managedScaling"] == providers["cp-x86"]["managedScaling"]
    assert providers["cp-arm"]["managedTerminationProtection"] == "ENABLED"
    assert providers["cp-arm"]["autoScalingGroupArn"] == twin["AutoScalingGroupARN"]
    cluster = ecs.describe_clusters(clusters=["prod"])["clusters"][0]
    assert cluster["capacityProviders"] == ["cp-x86", "cp-arm"]
    assert cluster["defaultCapacityProviderStrategy"] == DEFAULT_STRATEGY

    before = state(url)
    again = as_json(capacity(*CREATE, "--format", "json", url=url))
    assert again["outcome"] == {
        "name": "cp-arm",
        "changed": False,
        "created": [],
        "kept": ["launch template cp-arm", "auto scaling group cp-arm", "capacity provider cp-arm"],
        "attached": False,
    }
    assert state(url) == before
    versions = api(url, "ec2").describe_launch_template_versions(LaunchTemplateName="cp-arm")
    assert len(versions["LaunchTemplateVersions"]) == 1


def _own(value: Any) -> Any:
    """moto keeps a template's own tags in its data too; AWS does not: compare without them."""
    if isinstance(value, list):
        return [
            v
            for v in value
            if not (isinstance(v, dict) and v.get("ResourceType") == "launch-template")
        ]
    return value


def test_shift_preflight_passes_on_the_twin(prod: dict[str, Any]) -> None:
    from click.testing import CliRunner

    from graviton.cli import main

    url = prod["url"]
    assert capacity(*CREATE, url=url).exit_code == 0
    result = CliRunner().invoke(
        main,
        ["shift", "--cluster", "prod", "--service", "orders", "--x86-provider", "cp-x86",
         "--arm-provider", "cp-arm", "--alarm", "orders-5xx", "--dry-run", "--format", "json",
         "--region", REGION, "--endpoint-url", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_create_undoes_everything_when_create_capacity_provider_fails(
    prod: dict[str, Any],
) -> None:
    url = prod["url"]
    before = state(url)
    with FaultProxy(url) as proxy:
        proxy.reject("CreateCapacityProvider", "ClientException", "no capacity providers today")
        result = capacity(*CREATE, url=proxy.url)
        assert "CreateCapacityProvider" in proxy.operations()
    assert result.exit_code == 3, result.output
    message = result.stderr.strip()
    assert message.count("\n") == 0 and "no capacity providers today" in message
    assert "auto scaling group cp-arm" in message and "launch template cp-arm" in message
    assert state(url) == before


def test_plan_prints_each_field_and_changes_nothing(prod: dict[str, Any]) -> None:
    url = prod["url"]
    before = state(url)
    doc = as_json(capacity("plan", "--cluster", "prod", "--format", "json", url=url))
    assert (doc["from"] == "cp-x86" and doc["name"] == "cp-arm64") or doc["name"]
    fields = {(f["resource"], f["field"]): f for f in doc["fields"]}
    ami = fields[("launch-template", "ImageId")]
    assert ami["how"] == "mapped" and ARM_AMI_PARAMETER in ami["why"]
    assert fields[("launch-template", "InstanceType")]["value"] == "m6i.xlarge -> m6g.xlarge"
    assert fields[("launch-template", "UserData")]["how"] == "copied"
    assert fields[("capacity-provider", "managedScaling")]["how"] == "copied"
    assert state(url) == before
    text = capacity("plan", "--cluster", "prod", "--from", "cp-x86", url=url)
    assert text.exit_code == 0, text.output
    assert "ImageId" in text.stdout and "mapped" in text.stdout and "copied" in text.stdout
    dry = capacity(*CREATE, "--dry-run", url=url)
    assert dry.exit_code == 0 and "ImageId" in dry.stdout
    assert state(url) == before


def test_plan_shows_the_twin_cost_at_each_shift_step(prod: dict[str, Any]) -> None:
    url = prod["url"]
    doc = as_json(capacity("plan", "--cluster", "prod", "--from", "cp-x86", "--format", "json",
                           url=url))  # fmt: skip
    steps = {s["arm_weight_percent"]: s for s in doc["costs"]["steps"]}
    assert sorted(steps) == [0, 25, 50, 75, 100]
    assert (steps[0]["hourly_x86"], steps[0]["hourly_graviton"]) == (0.384, 0.0)  # 2 x 0.192
    assert (steps[50]["hourly_x86"], steps[50]["hourly_graviton"]) == (0.192, 0.154)
    assert (steps[100]["hourly_x86"], steps[100]["hourly_graviton"]) == (0.0, 0.308)
    assert steps[100]["monthly_graviton"] == 224.84  # 0.308 x 730
    (line,) = doc["costs"]["instances"]
    assert line["rate_before"] == "list price, shipped table (us-east-1)"
    assert any("Compute Savings Plan" in c for c in doc["costs"]["commitments"])
    text = capacity("plan", "--cluster", "prod", url=url)
    assert "Cost at each shift step" in text.stdout and " 100%" in text.stdout


def test_custom_ami_is_refused_and_a_given_ami_must_be_arm64(moto: str) -> None:
    from tests.capacity.conftest import build

    ec2 = api(moto, "ec2")
    custom = ec2.register_image(Name="my-company-ecs-x86", Architecture="x86_64")["ImageId"]
    build(moto, ami=custom)
    before = state(moto)
    refused = capacity(*CREATE, url=moto)
    assert refused.exit_code == 2 and "--ami" in refused.stderr and custom in refused.stderr
    x86_ami = ssm_value(
        moto, "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    )
    wrong = capacity(*CREATE, "--ami", x86_ami, url=moto)
    assert wrong.exit_code == 2 and "not arm64" in wrong.stderr
    assert state(moto) == before
    arm = ssm_value(moto, ARM_AMI_PARAMETER)
    assert capacity(*CREATE, "--ami", arm, url=moto).exit_code == 0
    assert template_data(moto, "cp-arm")["ImageId"] == arm


def test_mixed_instances_policy_maps_every_override_and_keeps_spot(moto: str) -> None:
    from tests.capacity.conftest import build

    build(moto, mixed=["m6i.xlarge", "r6i.large", "c6i.2xlarge"])
    assert capacity(*CREATE, url=moto).exit_code == 0
    twin = group(moto, "cp-arm")
    policy = twin["MixedInstancesPolicy"]
    overrides = [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]]
    assert overrides == ["m6g.xlarge", "r6g.large", "c6g.2xlarge"]
    distribution = policy["InstancesDistribution"]
    assert distribution["OnDemandBaseCapacity"] == 1
    assert distribution["OnDemandPercentageAboveBaseCapacity"] == 25
    assert distribution["SpotAllocationStrategy"] == "price-capacity-optimized"
    spec = policy["LaunchTemplate"]["LaunchTemplateSpecification"]
    assert spec.get("LaunchTemplateName") == "cp-arm" or spec.get("LaunchTemplateId")


@pytest.mark.parametrize(
    ("family", "generation", "want"),
    [("m7g", None, "m7g.xlarge"), (None, "graviton4", "m8g.xlarge")],
)
def test_family_and_generation_choose_the_graviton_line(
    prod: dict[str, Any], family: str | None, generation: str | None, want: str
) -> None:
    args = ["plan", "--cluster", "prod", "--format", "json"]
    args += ["--family", family] if family else ["--generation", str(generation)]
    doc = as_json(capacity(*args, url=prod["url"]))
    assert doc["instance_types"][0]["graviton"] == want


def test_amazon_linux_2_gets_the_amazon_linux_2_arm64_ami(moto: str) -> None:
    from tests.capacity.conftest import build

    al2 = "/aws/service/ecs/optimized-ami/amazon-linux-2"
    build(moto, ami=ssm_value(moto, f"{al2}/recommended/image_id"))
    assert capacity(*CREATE, url=moto).exit_code == 0
    assert template_data(moto, "cp-arm")["ImageId"] == ssm_value(
        moto, f"{al2}/arm64/recommended/image_id"
    )


def test_a_rerun_after_a_partial_run_completes_the_twin(prod: dict[str, Any]) -> None:
    """A run killed after the launch template: the rerun keeps it (tagged) and makes the rest."""
    url = prod["url"]
    with FaultProxy(url) as proxy:
        proxy.reject("CreateAutoScalingGroup", "ValidationError", "boom", times=1)
        failed = capacity(*CREATE, url=proxy.url)
    assert failed.exit_code == 3 and "launch template cp-arm" in failed.stderr
    api(url, "ec2").create_launch_template(
        LaunchTemplateName="cp-arm",
        LaunchTemplateData={"ImageId": ssm_value(url, ARM_AMI_PARAMETER)},
        TagSpecifications=[{"ResourceType": "launch-template",
                            "Tags": [{"Key": "graviton:twin-of", "Value": "cp-x86"}]}],
    )  # fmt: skip
    doc = as_json(capacity(*CREATE, "--format", "json", url=url))
    assert doc["outcome"]["kept"] == ["launch template cp-arm"]
    assert doc["outcome"]["created"] == ["auto scaling group cp-arm", "capacity provider cp-arm"]


def test_a_foreign_resource_of_the_same_name_is_refused(prod: dict[str, Any]) -> None:
    url = prod["url"]
    api(url, "ec2").create_launch_template(
        LaunchTemplateName="cp-arm", LaunchTemplateData={"ImageId": "ami-12345678"}
    )
    before = state(url)
    result = capacity(*CREATE, url=url)
    assert result.exit_code == 2 and "not the Graviton twin of 'cp-x86'" in result.stderr
    assert state(url) == before


def signal_midway(url: str, signum: int) -> tuple[int, str]:
    """Run ``capacity create`` through a proxy holding CreateCapacityProvider (the launch
    template and the group are made by then), send ``signum``; the exit code and stderr."""
    import subprocess
    import sys
    import time

    from tests.support.cli import env_for

    with FaultProxy(url) as proxy:
        proxy.hold("CreateCapacityProvider")
        proxy.reject("CreateCapacityProvider", "ClientException", "never reaches moto")
        proc = subprocess.Popen(
            [sys.executable, "-m", "graviton.cli", "capacity", *CREATE, "--region", REGION,
             "--endpoint-url", proxy.url],
            env=env_for(REGION), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not _after(proxy.operations(), "CreateAutoScalingGroup", "DescribeCapacityProviders"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        time.sleep(0.3)  # CreateCapacityProvider is sent next, and held (then rejected)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
    return proc.returncode, stderr


def test_ctrl_c_midway_undoes_the_run_and_exits_130(prod: dict[str, Any]) -> None:
    import signal

    url = prod["url"]
    before = state(url)
    returncode, stderr = signal_midway(url, signal.SIGINT)
    assert returncode == 130, stderr
    assert "interrupted" in stderr and "auto scaling group cp-arm" in stderr
    assert state(url) == before


def _after(operations: list[str], first: str, then: str) -> bool:
    return first in operations and then in operations[operations.index(first) :]
