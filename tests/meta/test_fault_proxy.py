"""The fault proxy the AWS fault tests stand on: it forwards to a real moto server, and a rejected
operation reaches botocore as the same ClientError the real service would raise, in every
protocol graviton uses (JSON, CBOR, query, EC2)."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.exceptions
import pytest

from tests.support.fault_proxy import FaultProxy
from tests.support.moto_server import moto_server

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def proxy() -> Iterator[FaultProxy]:
    with moto_server() as url, FaultProxy(url) as fault:
        yield fault


@pytest.fixture(autouse=True)
def _clean(proxy: FaultProxy) -> None:
    proxy.clear()
    proxy.reset_log()


@pytest.mark.parametrize(
    ("service", "operation", "call"),
    [
        ("ecs", "ListClusters", lambda c: c.list_clusters()),
        ("cloudwatch", "DescribeAlarms", lambda c: c.describe_alarms()),
        ("autoscaling", "DescribeAutoScalingGroups", lambda c: c.describe_auto_scaling_groups()),
        ("ec2", "DescribeInstances", lambda c: c.describe_instances()),
    ],
)
def test_rejects_in_the_protocol_of_the_service(
    proxy: FaultProxy, service: str, operation: str, call: object
) -> None:
    api = _no_retry(service, proxy.url)
    call(api)  # type: ignore[operator]
    assert proxy.forwarded() == [operation]
    proxy.reject(operation, "ThrottlingException", "slow down", times=1)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(api)  # type: ignore[operator]
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    call(api)  # type: ignore[operator]  # times=1: the next call goes through
    assert proxy.operations() == [operation, operation, operation]
    assert proxy.forwarded() == [operation, operation]


def _no_retry(service: str, url: str) -> object:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def test_rewrite_and_after(proxy: FaultProxy) -> None:
    ecs = _no_retry("ecs", proxy.url)
    ecs.create_cluster(clusterName="one")  # type: ignore[attr-defined]
    proxy.rewrite("ListClusters", lambda body: body.replace(b"one", b"two"), times=1)
    assert ecs.list_clusters()["clusterArns"][0].endswith("/two")  # type: ignore[attr-defined]
    proxy.reject("ListClusters", "AccessDeniedException", after=1)
    assert ecs.list_clusters()["clusterArns"][0].endswith("/one")  # type: ignore[attr-defined]
    with pytest.raises(botocore.exceptions.ClientError):
        ecs.list_clusters()  # type: ignore[attr-defined]
