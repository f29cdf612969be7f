"""A real moto server process for the savings integration tests, and ECS clusters on it.

The server (tests/support/moto_server.py: a separate process on a free 127.0.0.1 port) is
started once per session and reset before each test that builds AWS resources
(``POST /moto-api/reset``), so tests do not see each other's state.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cluster import client
from tests.support.moto_server import FAKE_CREDENTIALS, moto_server


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Fake credentials, no profile or config from the developer's machine."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "GRAVITON_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    env = {
        **FAKE_CREDENTIALS,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **env}


@pytest.fixture
def moto(moto_url: str, aws_env: dict[str, str]) -> str:
    """The moto server, emptied."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    return moto_url


@dataclass(frozen=True)
class Cluster:
    url: str
    name: str
    region: str
    # provider -> (instance type, count) as built
    providers: dict[str, tuple[str, int]]


def build_cluster(
    url: str,
    *,
    name: str = "trading",
    region: str = "us-east-1",
    groups: dict[str, tuple[str, int]],
    services: dict[str, list[str]] | None = None,
    extra_providers: tuple[str, ...] = (),
) -> Cluster:
    """A cluster whose capacity providers each front one launch-template ASG of one type."""
    ec2 = client("ec2", url, region)
    autoscaling = client("autoscaling", url, region)
    ecs = client("ecs", url, region)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    zone = f"{region}a"
    for provider, (instance_type, count) in groups.items():
        template = f"{provider}-lt"
        ec2.create_launch_template(
            LaunchTemplateName=template,
            LaunchTemplateData={"ImageId": image, "InstanceType": instance_type},
        )
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=f"{provider}-asg",
            LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
            MinSize=0,
            MaxSize=max(count, 1) * 2,
            DesiredCapacity=count,
            AvailabilityZones=[zone],
        )
        arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[f"{provider}-asg"])[
            "AutoScalingGroups"
        ][0]["AutoScalingGroupARN"]
        ecs.create_capacity_provider(
            name=provider, autoScalingGroupProvider={"autoScalingGroupArn": arn}
        )
    ecs.create_cluster(clusterName=name, capacityProviders=[*groups, *extra_providers])
    family = ecs.register_task_definition(
        family="api",
        containerDefinitions=[{"name": "api", "image": "python:3.12-slim", "memory": 256}],
    )["taskDefinition"]["taskDefinitionArn"]
    for service, providers in (services or {}).items():
        strategy = [
            {"capacityProvider": p, "weight": 1 if i == 0 else 0} for i, p in enumerate(providers)
        ]
        ecs.create_service(cluster=name, serviceName=service, taskDefinition=family, desiredCount=1)
        # moto 5 drops the strategy given to CreateService; UpdateService keeps it, as ECS does
        ecs.update_service(cluster=name, service=service, capacityProviderStrategy=strategy)
    return Cluster(url=url, name=name, region=region, providers=dict(groups))
