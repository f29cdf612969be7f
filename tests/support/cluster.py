"""Build the example cluster on a moto server: the shape `graviton shift` is made for.

An x86 Auto Scaling group of m6i and an ARM one of m6g, one ECS capacity provider for each, both
associated with the cluster; services placed on the x86 provider; CloudWatch alarms in OK; ECR
images whose OCI index holds linux/amd64 and linux/arm64 (and an attestation manifest, which
must never count as a platform); a DynamoDB table for the lease.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import boto3

from tests.support.moto_server import FAKE_CREDENTIALS

ACCOUNT = "123456789012"


def client(service: str, endpoint_url: str, region: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_image(
    ecr: Any,
    repository: str,
    tag: str,
    platforms: Sequence[str] = ("linux/amd64", "linux/arm64"),
) -> str:
    """Put an OCI image index with one child per platform (plus an attestation) under ``tag``;
    returns the image URI. ``platforms=("linux/amd64",)`` makes an x86-only image."""
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=repository)
    children: list[dict[str, Any]] = []
    for platform in platforms:
        os_name, arch = platform.split("/")[:2]
        manifest = json.dumps({"schemaVersion": 2, "platform": platform, "repo": repository})
        children.append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": _digest(manifest.encode()),
                "size": len(manifest),
                "platform": {"os": os_name, "architecture": arch},
            }
        )
    attestation = json.dumps({"attestation": repository, "tag": tag}).encode()
    children.append(
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": _digest(attestation),
            "size": len(attestation),
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
        }
    )
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": children,
    }
    ecr.put_image(
        repositoryName=repository,
        imageManifest=json.dumps(index),
        imageManifestMediaType="application/vnd.oci.image.index.v1+json",
        imageTag=tag,
    )
    region = ecr.meta.region_name
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repository}:{tag}"


def _asg(autoscaling: Any, ec2: Any, name: str, instance_type: str, ami: str, az: str) -> str:
    ec2.create_launch_template(
        LaunchTemplateName=f"{name}-lt",
        LaunchTemplateData={"ImageId": ami, "InstanceType": instance_type},
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateName": f"{name}-lt", "Version": "$Latest"},
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        AvailabilityZones=[az],
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return str(group["AutoScalingGroups"][0]["AutoScalingGroupARN"])


def register_instances(ecs: Any, autoscaling: Any, cluster: str, asg: str) -> None:
    """Register the ASG's instances as container instances (what the ECS agent does)."""
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[asg])
    for instance in group["AutoScalingGroups"][0]["Instances"]:
        doc = json.dumps({"instanceId": instance["InstanceId"]})
        ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=doc)


def make_service(
    ecs: Any,
    cluster: str,
    name: str,
    task_definition: str,
    provider: str,
    desired: int = 4,
) -> None:
    """A service on ``provider``. moto drops the capacityProviderStrategy given to
    create_service, so it is set with update_service as a real user would after a migration."""
    ecs.create_service(
        cluster=cluster, serviceName=name, taskDefinition=task_definition, desiredCount=desired
    )
    ecs.update_service(
        cluster=cluster,
        service=name,
        capacityProviderStrategy=[{"capacityProvider": provider, "weight": 1, "base": 0}],
    )


# what a service's deployment alarms watch: its load balancer's 5xx count and response time
SERVICE_METRICS = ("HTTPCode_Target_5XX_Count", "TargetResponseTime")


def make_alarms(cloudwatch: Any, alarms: Mapping[str, str], reason: str = "fixture") -> None:
    """One CloudWatch alarm per ``name -> metric`` on the load balancer's metric (sum over a
    minute above 10), each set to OK."""
    for alarm, metric in alarms.items():
        cloudwatch.put_metric_alarm(
            AlarmName=alarm,
            Namespace="AWS/ApplicationELB",
            MetricName=metric,
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=10.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason=reason)


def make_cluster(
    endpoint_url: str,
    region: str,
    *,
    cluster: str = "prod",
    services: Sequence[str] = ("orders",),
    desired: int = 4,
) -> dict[str, Any]:
    """Create the example cluster; returns the names of everything made."""
    ec2 = client("ec2", endpoint_url, region)
    autoscaling = client("autoscaling", endpoint_url, region)
    ecs = client("ecs", endpoint_url, region)
    ecr = client("ecr", endpoint_url, region)
    cloudwatch = client("cloudwatch", endpoint_url, region)
    dynamodb = client("dynamodb", endpoint_url, region)

    ami = "ami-0ecs0graviton0"  # moto checks AMIs only with MOTO_ENABLE_AMI_VALIDATION
    az = f"{region}a"
    names: dict[str, Any] = {
        "region": region,
        "endpoint_url": endpoint_url,
        "cluster": cluster,
        "x86_asg": f"{cluster}-x86-m6i",
        "arm_asg": f"{cluster}-arm-m6g",
        "x86_provider": f"{cluster}-x86",
        "arm_provider": f"{cluster}-graviton",
        "lock_table": "graviton-locks",
    }
    x86_arn = _asg(autoscaling, ec2, names["x86_asg"], "m6i.large", ami, az)
    arm_arn = _asg(autoscaling, ec2, names["arm_asg"], "m6g.large", ami, az)

    ecs.create_cluster(clusterName=cluster)
    for asg in (names["x86_asg"], names["arm_asg"]):
        register_instances(ecs, autoscaling, cluster, asg)
    for provider, arn in ((names["x86_provider"], x86_arn), (names["arm_provider"], arm_arn)):
        ecs.create_capacity_provider(
            name=provider,
            autoScalingGroupProvider={
                "autoScalingGroupArn": arn,
                "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
                "managedTerminationProtection": "DISABLED",
            },
        )
    ecs.put_cluster_capacity_providers(
        cluster=cluster,
        capacityProviders=[names["x86_provider"], names["arm_provider"]],
        defaultCapacityProviderStrategy=[{"capacityProvider": names["x86_provider"], "weight": 1}],
    )

    sidecar = push_image(ecr, "log-router", "2.31")
    names["services"] = list(services)
    names["images"] = {}
    names["alarms"] = {}
    for service in services:
        image = push_image(ecr, service, "1.4.2")
        names["images"][service] = [image, sidecar]
        family = f"{service}-td"
        ecs.register_task_definition(
            family=family,
            requiresCompatibilities=["EC2"],
            containerDefinitions=[
                {"name": "app", "image": image, "cpu": 256, "memory": 512, "essential": True},
                {"name": "log-router", "image": sidecar, "cpu": 64, "memory": 128},
            ],
        )
        make_service(ecs, cluster, service, family, names["x86_provider"], desired)
        alarms = [f"{service}-5xx-rate", f"{service}-p99-latency"]
        names["alarms"][service] = alarms
        make_alarms(cloudwatch, dict(zip(alarms, SERVICE_METRICS, strict=True)))

    dynamodb.create_table(
        TableName=names["lock_table"],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return names
