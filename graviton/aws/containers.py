"""ECS container instances: the one reader of which container instances run on which EC2
instances (ListContainerInstances is paged; DescribeContainerInstances takes 100 at a time)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from graviton.aws.fleet import chunks
from graviton.aws.session import aws_errors


def describe(ecs: Any, cluster: str, arns: Sequence[str]) -> list[Mapping[str, Any]]:
    """DescribeContainerInstances for ``arns``, 100 at a time."""
    out: list[Mapping[str, Any]] = []
    for chunk in chunks(arns, 100):
        with aws_errors("ECS DescribeContainerInstances"):
            answer = ecs.describe_container_instances(cluster=cluster, containerInstances=chunk)
        out.extend(answer.get("containerInstances", []))
    return out


def on_instances(ecs: Any, cluster: str, ec2_ids: Collection[str]) -> list[Mapping[str, Any]]:
    """The cluster's container instances that run on the EC2 instances ``ec2_ids``."""
    ids = set(ec2_ids)
    if not ids:
        return []
    arns: list[str] = []
    with aws_errors("ECS ListContainerInstances"):
        for page in ecs.get_paginator("list_container_instances").paginate(cluster=cluster):
            arns.extend(page.get("containerInstanceArns", []))
    return [ci for ci in describe(ecs, cluster, arns) if ci.get("ec2InstanceId") in ids]
