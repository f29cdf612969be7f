"""Red-team cases for ``graviton capacity``: every failing call is undone, SIGTERM is undone like
Ctrl-C, a drifted twin is not reported as ready, and decommission never scales in a group that
serves another cluster."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from tests.capacity.conftest import api, build, capacity, state
from tests.capacity.test_capacity_create import signal_midway
from tests.capacity.test_capacity_decommission import DECOMMISSION, after_the_shift, x86_group
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.moto

CREATE = ("create", "--cluster", "prod", "--from", "cp-x86", "--name", "cp-arm")


@pytest.mark.parametrize(
    ("operation", "after"),
    [
        ("CreateLaunchTemplate", 0),
        ("CreateAutoScalingGroup", 0),
        ("PutClusterCapacityProviders", 0),
        ("DescribeClusters", 1),  # the attach step's read, after the plan's
    ],
)
def test_create_undoes_everything_whichever_call_fails(
    prod: dict[str, Any], operation: str, after: int
) -> None:
    url = prod["url"]
    before = state(url)
    with FaultProxy(url) as proxy:
        proxy.reject(operation, "ServerException", "injected failure", status=500, after=after)
        result = capacity(*CREATE, url=proxy.url)
        assert operation in proxy.operations()
    assert result.exit_code == 3, result.output
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert state(url) == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("awsarm", "cannot start with aws"),  # ECS refuses it; moto does not
        ("cp arm!", "letters, digits"),
        ("cp-x86", "the x86 provider's own name"),  # was made half (template, group), then undone
    ],
)
def test_a_name_aws_would_refuse_is_exit_2_before_anything_is_made(
    prod: dict[str, Any], name: str, message: str
) -> None:
    url = prod["url"]
    before = state(url)
    with FaultProxy(url) as proxy:
        result = capacity("create", "--cluster", "prod", "--from", "cp-x86", "--name", name,
                          url=proxy.url)  # fmt: skip
        made = [op for op in proxy.operations() if op.startswith(("Create", "Put"))]
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert made == [] and state(url) == before


def test_a_missing_ami_is_exit_2(prod: dict[str, Any]) -> None:
    """EC2 answers InvalidAMIID.NotFound (the old code: exit 3, as if AWS had failed)."""
    result = capacity(*CREATE, "--ami", "ami-0000000000000dead", "--dry-run", url=prod["url"])
    assert result.exit_code == 2, result.output
    assert "no such image" in result.stderr and result.stderr.count("\n") == 1


def test_a_provider_of_another_cluster_is_not_twinned_into_this_one(prod: dict[str, Any]) -> None:
    """cp-x86 serves prod (its user data says ECS_CLUSTER=prod): a twin attached to staging
    would launch instances that join prod while staging's strategy counts on them."""
    url = prod["url"]
    api(url, "ecs").create_cluster(clusterName="staging")
    before = state(url)
    result = capacity("create", "--cluster", "staging", "--from", "cp-x86", "--name", "cp-arm",
                      url=url)  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "not attached to cluster 'staging'" in result.stderr
    assert state(url) == before
    staging = api(url, "ecs").describe_clusters(clusters=["staging"])["clusters"][0]
    assert not staging.get("capacityProviders")


def test_a_group_with_too_many_tags_for_its_twin_is_exit_2(prod: dict[str, Any]) -> None:
    """The x86 group has AWS's 50 tags; its twin adds graviton:twin-of: AWS would refuse the
    twin's group after its template was made (moto accepts it: the old code exited 0)."""
    url = prod["url"]
    api(url, "autoscaling").create_or_update_tags(
        Tags=[
            {"ResourceId": "cp-x86-asg", "ResourceType": "auto-scaling-group", "Key": f"k{i}",
             "Value": "v", "PropagateAtLaunch": False}
            for i in range(48)  # + AmazonECSManaged + team = 50
        ]
    )  # fmt: skip
    before = state(url)
    result = capacity(*CREATE, url=url)
    assert result.exit_code == 2, result.output
    assert "51 tags" in result.stderr and "remove 1 from cp-x86-asg" in result.stderr
    assert state(url) == before


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("CreateLaunchTemplate", "InvalidLaunchTemplateName.AlreadyExistsException"),
        ("CreateAutoScalingGroup", "AlreadyExists"),
        ("CreateCapacityProvider", "ClientException"),
    ],
)
def test_a_call_made_whose_answer_was_lost_is_undone(
    prod: dict[str, Any], operation: str, code: str
) -> None:
    """AWS made it, the connection dropped before the answer, botocore's retry was told it
    already exists: the old code undid only what it had seen succeed and left this one."""
    url = prod["url"]
    before = state(url)
    with FaultProxy(url) as proxy:
        proxy.lose_answer(operation)
        # AWS refuses botocore's retry (moto would make it again)
        proxy.reject(operation, code, f"{operation}: cp-arm already exists", after=1)
        result = capacity(*CREATE, url=proxy.url)
        assert proxy.forwarded().count(operation) == 1  # made; the retry refused
        assert proxy.operations().count(operation) == 2
    assert result.exit_code == 3, result.output
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert state(url) == before


def test_an_unreadable_create_launch_template_answer_is_exit_3_and_undone(
    prod: dict[str, Any],
) -> None:
    """A 200 whose body is not EC2's XML (a proxy's page): botocore parses it to nothing and
    the old code died on KeyError 'LaunchTemplate' (exit 70), leaving the template."""
    url = prod["url"]
    before = state(url)
    with FaultProxy(url) as proxy:
        proxy.rewrite("CreateLaunchTemplate", lambda body: b"<html>502 Bad Gateway</html>")
        result = capacity(*CREATE, url=proxy.url)
    assert result.exit_code == 3, result.output
    assert "CreateLaunchTemplate" in result.stderr and result.stderr.strip().count("\n") == 0
    assert state(url) == before


def test_sigterm_midway_undoes_the_run_and_exits_143(prod: dict[str, Any]) -> None:
    """SIGTERM's default action killed the process with the group made and not undone."""
    url = prod["url"]
    before = state(url)
    returncode, stderr = signal_midway(url, signal.SIGTERM)
    assert returncode == 143, stderr
    assert "SIGTERM" in stderr and "auto scaling group cp-arm" in stderr
    assert "Traceback" not in stderr
    assert state(url) == before


def test_a_twin_whose_group_was_replaced_is_not_reported_ready(prod: dict[str, Any]) -> None:
    """The provider is kept by tag, but it points at a group that is gone: a rerun that recreates
    the group must not exit 0 with a provider that scales nothing."""
    url = prod["url"]
    assert capacity(*CREATE, url=url).exit_code == 0
    autoscaling = api(url, "autoscaling")
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="cp-arm", ForceDelete=True)
    result = capacity(*CREATE, url=url)
    assert result.exit_code in (2, 3), result.output
    assert "cp-arm" in result.stderr and result.stderr.strip().count("\n") == 0
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["cp-arm"])
    assert groups["AutoScalingGroups"] == []  # what the rerun made was undone


def test_a_twin_template_whose_latest_version_is_x86_is_not_reported_ready(
    prod: dict[str, Any],
) -> None:
    """The group launches the template's $Latest: a version with the x86 AMI boots nothing."""
    url = prod["url"]
    assert capacity(*CREATE, url=url).exit_code == 0
    api(url, "ec2").create_launch_template_version(
        LaunchTemplateName="cp-arm", SourceVersion="1", LaunchTemplateData={"ImageId": prod["ami"]}
    )
    before = state(url)
    result = capacity(*CREATE, url=url)
    assert result.exit_code == 2, result.output
    assert "drifted" in result.stderr and prod["ami"] in result.stderr
    assert state(url) == before


def test_decommission_delete_that_fails_midway_can_be_finished_by_a_rerun(
    prod: dict[str, Any],
) -> None:
    """The old code deleted the provider first: when the group's deletion then failed, a rerun
    answered 'capacity provider not found' and the group and template stayed for good."""
    url = prod["url"]
    assert capacity(*CREATE, url=url).exit_code == 0
    after_the_shift(url)
    with FaultProxy(url) as proxy:
        proxy.reject("DeleteAutoScalingGroup", "ScalingActivityInProgress", "busy", times=1)
        failed = capacity(*DECOMMISSION, "--delete", url=proxy.url)
    assert failed.exit_code == 3, failed.output
    rerun = capacity(*DECOMMISSION, "--delete", url=url)
    assert rerun.exit_code == 0, rerun.output
    assert x86_group(url) is None
    names = [t["LaunchTemplateName"] for t in api(url, "ec2").describe_launch_templates()[
        "LaunchTemplates"]]  # fmt: skip
    assert "cp-x86-lt" not in names
    assert state(url)["providers"] == ["cp-arm"]


def test_decommission_refuses_a_provider_of_another_cluster(moto: str) -> None:
    """cp-x86 serves prod; decommissioning it 'in staging' (where nothing uses it) must not
    scale prod's group to 0."""
    url = moto
    build(url, protected=False)
    api(url, "ecs").create_cluster(clusterName="staging")
    result = capacity(
        "decommission", "--cluster", "staging", "--provider", "cp-x86", "--poll", "0.05s",
        "--delete", url=url,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "prod" in result.stderr
    group = x86_group(url)
    assert group is not None and group["DesiredCapacity"] == 2
