"""``--cpu auto``: the ARM capacity provider's instance types, read from a real moto server, and
the usage errors that stop ``graviton validate`` before anything runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from graviton.aws import AwsOptions
from graviton.errors import PreflightError
from graviton.instances import Generation
from graviton.validate.cluster import auto_generation, provider_types
from tests.support.cluster import client
from tests.support.moto_server import FAKE_CREDENTIALS
from tests.validate.conftest import BASE_IMAGE

REGION = "us-east-1"


def provider(url: str, name: str, template_type: str, overrides: list[str]) -> None:
    ec2, autoscaling, ecs = (client(s, url, REGION) for s in ("ec2", "autoscaling", "ecs"))
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName=f"{name}-lt",
        LaunchTemplateData={"ImageId": image, "InstanceType": template_type},
    )
    spec = {"LaunchTemplateName": f"{name}-lt", "Version": "$Latest"}
    group: dict[str, object] = {"LaunchTemplate": spec}
    if overrides:
        group = {
            "MixedInstancesPolicy": {
                "LaunchTemplate": {
                    "LaunchTemplateSpecification": spec,
                    "Overrides": [{"InstanceType": t} for t in overrides],
                }
            }
        }
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=f"{name}-asg",
        MinSize=0,
        MaxSize=2,
        DesiredCapacity=0,
        AvailabilityZones=[f"{REGION}a"],
        **group,  # type: ignore[arg-type]
    )
    arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[f"{name}-asg"])[
        "AutoScalingGroups"
    ][0]["AutoScalingGroupARN"]
    ecs.create_capacity_provider(name=name, autoScalingGroupProvider={"autoScalingGroupArn": arn})


def test_mixed_generations_are_validated_on_the_oldest(moto: str) -> None:
    provider(moto, "arm", "m7g.large", ["m7g.large", "r6g.xlarge", "c8g.large"])
    provider(moto, "x86", "m6i.large", [])
    client("ecs", moto, REGION).create_cluster(clusterName="prod", capacityProviders=["arm", "x86"])
    aws = AwsOptions(region=REGION, endpoint_url=moto)
    types = provider_types(aws, "prod", None)
    assert types == {"arm": ["c8g.large", "m7g.large", "r6g.xlarge"], "x86": ["m6i.large"]}
    generation, source = auto_generation(types, explicit=False)
    assert generation is Generation.GRAVITON2
    assert "(the oldest of them)" in source and "x86" not in source
    named = provider_types(aws, "prod", "arm")
    assert auto_generation(named, explicit=True)[0] is Generation.GRAVITON2
    with pytest.raises(PreflightError, match="not an ARM provider"):
        auto_generation(provider_types(aws, "prod", "x86"), explicit=True)


def test_launch_template_type_alone(moto: str) -> None:
    provider(moto, "arm7", "c7g.2xlarge", [])
    aws = AwsOptions(region=REGION, endpoint_url=moto)
    generation, source = auto_generation(provider_types(aws, None, "arm7"), explicit=True)
    assert generation is Generation.GRAVITON3
    assert source == "capacity provider arm7: c7g.2xlarge -> graviton3"


def test_unknown_provider_fails_closed(moto: str) -> None:
    aws = AwsOptions(region=REGION, endpoint_url=moto)
    types = provider_types(aws, None, "nope")
    with pytest.raises(PreflightError, match="cannot tell its Graviton generation"):
        auto_generation(types, explicit=True)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION}
    return subprocess.run(
        [sys.executable, "-m", "graviton.cli", "validate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "linux/amd64"], "runs linux/arm64 only"),
        (["--cpu", "graviton3", "--cluster", "prod"], "use them with --cpu auto"),
        (["--cpu", "auto"], "--cpu auto needs --cluster"),
        (["--timeout", "ten"], "not a duration"),
        (["--run", "'unclosed"], "--run: cannot parse"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = cli("localhost:5000/app:1", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_help_has_an_example() -> None:
    result = cli("--help")
    assert result.returncode == 0 and "graviton validate registry.example.com/app" in result.stdout


@pytest.mark.docker
def test_cpu_auto_runs_on_the_providers_oldest_generation(moto: str, validate_env: object) -> None:
    """End to end: the provider's r6g + m7g types make the real arm64 image run on neoverse-n1."""
    provider(moto, "arm", "m7g.large", ["m7g.large", "r6g.large"])
    client("ecs", moto, REGION).create_cluster(clusterName="prod", capacityProviders=["arm"])
    result = cli(
        BASE_IMAGE,
        "--cpu",
        "auto",
        "--cluster",
        "prod",
        "--provider",
        "arm",
        "--endpoint-url",
        moto,
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    cpu = json.loads(result.stdout)["cpu"]
    assert (cpu["generation"], cpu["qemu_cpu"], cpu["seen"]["sve"]) == (
        "graviton2",
        "neoverse-n1",
        False,
    )
    assert (
        cpu["source"]
        == "capacity provider arm: m7g.large, r6g.large -> graviton2 (the oldest of them)"
    )
