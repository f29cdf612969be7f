"""A moto server (one per session, reset per test) and the cluster ``graviton capacity`` is for:
an x86 auto scaling group of m6i.xlarge in two subnets, launched from a template whose AMI is
moto's x86 Amazon Linux 2023 ECS-optimized one (read from its public SSM parameter), behind a
capacity provider with managed scaling, the cluster's default strategy on it, and a service."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from graviton.cli import main
from tests.savings.conftest import aws_env, moto, moto_url  # noqa: F401  (fixtures)
from tests.support.cluster import (
    client,
    make_alarms,
    make_service,
    push_image,
    register_instances,
)

REGION = "us-east-1"
X86_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
ARM_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
DEFAULT_STRATEGY = [{"capacityProvider": "cp-x86", "weight": 1, "base": 1}]


def api(url: str, service: str) -> Any:
    return client(service, url, REGION)


def ssm_value(url: str, name: str) -> str:
    return str(api(url, "ssm").get_parameter(Name=name)["Parameter"]["Value"])


def build(
    url: str,
    *,
    instance_type: str = "m6i.xlarge",
    mixed: list[str] | None = None,
    ami: str | None = None,
    protected: bool = True,
    desired: int = 2,
) -> dict[str, Any]:
    ec2, autoscaling, ecs = api(url, "ec2"), api(url, "autoscaling"), api(url, "ecs")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    sg = ec2.create_security_group(GroupName="ecs", Description="ecs", VpcId=vpc)["GroupId"]
    image = ami or ssm_value(url, X86_AMI_PARAMETER)
    user_data = base64.b64encode(b"#!/bin/bash\necho ECS_CLUSTER=prod >> /etc/ecs/ecs.config\n")
    data: dict[str, Any] = {
        "ImageId": image,
        "UserData": user_data.decode(),
        "IamInstanceProfile": {"Name": "ecsInstanceRole"},
        "SecurityGroupIds": [sg],
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2},
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 40}}],
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "t"}]}
        ],
    }
    if not mixed:
        data["InstanceType"] = instance_type
    ec2.create_launch_template(LaunchTemplateName="cp-x86-lt", LaunchTemplateData=data)
    group: dict[str, Any] = {
        "AutoScalingGroupName": "cp-x86-asg",
        "MinSize": 0,
        "MaxSize": 6,
        "DesiredCapacity": desired,
        "VPCZoneIdentifier": ",".join(subnets),
        "NewInstancesProtectedFromScaleIn": protected,
        "Tags": [
            {"Key": "AmazonECSManaged", "Value": "", "PropagateAtLaunch": True},
            {"Key": "team", "Value": "trading", "PropagateAtLaunch": True},
        ],
    }
    spec = {"LaunchTemplateName": "cp-x86-lt", "Version": "$Latest"}
    if mixed:
        group["MixedInstancesPolicy"] = {
            "LaunchTemplate": {
                "LaunchTemplateSpecification": spec,
                "Overrides": [{"InstanceType": t} for t in mixed],
            },
            "InstancesDistribution": {
                "OnDemandBaseCapacity": 1,
                "OnDemandPercentageAboveBaseCapacity": 25,
                "SpotAllocationStrategy": "price-capacity-optimized",
            },
        }
    else:
        group["LaunchTemplate"] = spec
    autoscaling.create_auto_scaling_group(**group)
    arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["cp-x86-asg"])[
        "AutoScalingGroups"
    ][0]["AutoScalingGroupARN"]
    ecs.create_cluster(clusterName="prod")
    register_instances(ecs, autoscaling, "prod", "cp-x86-asg")
    ecs.create_capacity_provider(
        name="cp-x86",
        autoScalingGroupProvider={
            "autoScalingGroupArn": arn,
            "managedScaling": {
                "status": "ENABLED",
                "targetCapacity": 90,
                "minimumScalingStepSize": 2,
                "maximumScalingStepSize": 10,
                "instanceWarmupPeriod": 120,
            },
            "managedTerminationProtection": "ENABLED" if protected else "DISABLED",
        },
    )
    ecs.put_cluster_capacity_providers(
        cluster="prod",
        capacityProviders=["cp-x86"],
        defaultCapacityProviderStrategy=DEFAULT_STRATEGY,
    )
    image_uri = push_image(api(url, "ecr"), "orders", "1.0")
    ecs.register_task_definition(
        family="orders-td",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[{"name": "app", "image": image_uri, "cpu": 256, "memory": 512}],
    )
    make_service(ecs, "prod", "orders", "orders-td", "cp-x86", desired=2)
    make_alarms(api(url, "cloudwatch"), {"orders-5xx": "HTTPCode_Target_5XX_Count"})
    return {"subnets": subnets, "ami": image, "group_arn": arn, "security_group": sg}


@pytest.fixture
def prod(moto: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    yield {"url": moto, **build(moto)}


def capacity(*args: str, url: str) -> Result:
    return CliRunner().invoke(main, ["capacity", *args, "--region", REGION, "--endpoint-url", url])


def state(url: str) -> dict[str, Any]:
    """Everything a capacity run could have touched, for before/after comparisons."""
    ec2, autoscaling, ecs = api(url, "ec2"), api(url, "autoscaling"), api(url, "ecs")
    cluster = ecs.describe_clusters(clusters=["prod"])["clusters"][0]
    providers = ecs.describe_capacity_providers(capacityProviders=["cp-x86", "cp-arm"])[
        "capacityProviders"
    ]
    templates = ec2.describe_launch_templates()["LaunchTemplates"]
    groups = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    return {
        "templates": sorted(t["LaunchTemplateName"] for t in templates),
        "groups": sorted(g["AutoScalingGroupName"] for g in groups),
        "providers": sorted(p["name"] for p in providers if p.get("status") == "ACTIVE"),
        "attached": cluster.get("capacityProviders"),
        "default": cluster.get("defaultCapacityProviderStrategy"),
    }  # fmt: skip


def as_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc
