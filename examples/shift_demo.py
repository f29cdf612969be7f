"""`make demo`, AWS part: migration steps 3, 4 and 5 on a local moto server, checked at each step.

The cluster is the one graviton's five steps start from: `prod`, one x86 capacity provider
`cp-x86` (an auto scaling group of 2 x m6i.large launched from the Amazon Linux 2023
ECS-optimized AMI that moto's public SSM parameter names), the cluster's default strategy on it,
and two services, `orders` and `quotes`, 4 tasks each on x86, with their alarms in OK.

0. `graviton savings --plan`: the business case, before anything changes.
3. `graviton capacity plan|create`: the Graviton twin `cp-arm` of `cp-x86` (arm64 AMI of the same
   family from SSM, m6i.large -> m6g.large, same managed scaling), the default strategy untouched.
4. `graviton shift`: `orders` 0% -> 25% -> 50% -> 75% -> 100% Graviton, then `--finalize`;
   `quotes` rolled back to 25% when its p99-latency alarm fires at 50%, then, the alarm back in
   OK, shifted again from 25% to 100%.
5. `graviton shift --finalize --scale-in-x86` for the last service: refused (exit 2, nothing
   changed) while the cluster's default strategy still names `cp-x86`; once the operator points
   the default at `cp-arm` it drains the x86 instances and scales their group to 0.
   `graviton capacity decommission --delete` then deletes the x86 group, template and provider.

Each step's exit code and the state it leaves (weights, groups, providers) are checked; the
first surprise ends the demo with exit 1. No AWS account is needed. What moto simulates is
written down in docs/shift-simulation.md; what it does not do, the demo plays, and says so:
ECS managed scaling launching the twin's instances, and ECS placing tasks by capacity provider.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.cli import env_for  # noqa: E402
from tests.support.cluster import (  # noqa: E402
    ACCOUNT,
    SERVICE_METRICS,
    client,
    make_alarms,
    make_service,
    push_image,
    register_instances,
)
from tests.support.moto_server import moto_server  # noqa: E402
from tests.support.placement import TaskPlacer, label_architectures, place  # noqa: E402

REGION = "eu-west-1"
CLUSTER, X86, ARM = "prod", "cp-x86", "cp-arm"
X86_GROUP, X86_TEMPLATE = "cp-x86-asg", "cp-x86-lt"
SERVICES = ("orders", "quotes")
AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/{}recommended/image_id"
BAKE, POLL = "3s", "1s"


class DemoFailed(Exception):
    """A step did not do what the demo expects: the message says what and how."""


def say(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def _label(args: tuple[str, ...]) -> str:
    """``shift orders``, ``capacity create``: which run a failure message is about."""
    words = list(args[:2]) if args[0] == "capacity" else [args[0]]
    if "--service" in args:
        words.append(args[args.index("--service") + 1])
    return "graviton " + " ".join(words)


def graviton(*args: str, expect: int = 0, stderr_has: str = "") -> None:
    """Run ``graviton ARGS`` as a user would; its exit code must be ``expect`` (and, given
    ``stderr_has``, its stderr must name it)."""
    print("$ graviton " + " ".join(args), flush=True)
    cmd = [sys.executable, "-m", "graviton.cli", *args]
    capture = subprocess.PIPE if stderr_has else None
    proc = subprocess.run(cmd, env=env_for(REGION), cwd=ROOT, stderr=capture, text=True)
    if stderr_has:
        sys.stderr.write(proc.stderr)
        sys.stderr.flush()
    if proc.returncode != expect:
        raise DemoFailed(f"{_label(args)} exited {proc.returncode}, expected {expect}")
    if stderr_has and stderr_has not in proc.stderr:
        raise DemoFailed(f"{_label(args)}: its error does not name {stderr_has!r}")
    print(f"(exit {proc.returncode}, as expected)", flush=True)


def check(label: str, got: object, want: object) -> None:
    if got != want:
        raise DemoFailed(f"{label}: got {got!r}, expected {want!r}")
    print(f"check ok: {label} = {got}", flush=True)


def build_cluster(url: str) -> None:
    """The x86 cluster of step 0: what a team runs before the move."""
    ec2, ssm = client("ec2", url, REGION), client("ssm", url, REGION)
    autoscaling, ecs = client("autoscaling", url, REGION), client("ecs", url, REGION)
    cloudwatch = client("cloudwatch", url, REGION)
    # the region's default VPC: its subnets in two zones, a security group for the instances
    defaults = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    zones = {n["AvailabilityZone"]: n for n in defaults["Subnets"]}
    subnets = [zones[f"{REGION}{z}"]["SubnetId"] for z in "ab"]
    vpc = zones[f"{REGION}a"]["VpcId"]
    sg = ec2.create_security_group(GroupName="ecs-instances", Description="ECS", VpcId=vpc)
    ami = ssm.get_parameter(Name=AMI_PARAMETER.format(""))["Parameter"]["Value"]
    user_data = f"#!/bin/bash\necho ECS_CLUSTER={CLUSTER} >> /etc/ecs/ecs.config\n".encode()
    ec2.create_launch_template(
        LaunchTemplateName=X86_TEMPLATE,
        LaunchTemplateData={
            "ImageId": ami,
            "InstanceType": "m6i.large",
            "UserData": base64.b64encode(user_data).decode(),
            "IamInstanceProfile": {"Name": "ecsInstanceRole"},
            "SecurityGroupIds": [sg["GroupId"]],
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2},
        },
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=X86_GROUP,
        LaunchTemplate={"LaunchTemplateName": X86_TEMPLATE, "Version": "$Latest"},
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=",".join(subnets),
        NewInstancesProtectedFromScaleIn=True,
        Tags=[{"Key": "AmazonECSManaged", "Value": "", "PropagateAtLaunch": True}],
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[X86_GROUP])
    ecs.create_cluster(clusterName=CLUSTER)
    register_instances(ecs, autoscaling, CLUSTER, X86_GROUP)
    ecs.create_capacity_provider(
        name=X86,
        autoScalingGroupProvider={
            "autoScalingGroupArn": group["AutoScalingGroups"][0]["AutoScalingGroupARN"],
            "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
            "managedTerminationProtection": "ENABLED",
        },
    )
    ecs.put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=[X86],
        defaultCapacityProviderStrategy=[{"capacityProvider": X86, "weight": 1, "base": 0}],
    )
    ecr = client("ecr", url, REGION)
    sidecar = push_image(ecr, "log-router", "2.31")  # multi-arch: built in step 1
    for service in SERVICES:
        ecs.register_task_definition(
            family=f"{service}-td",
            requiresCompatibilities=["EC2"],
            containerDefinitions=[
                {"name": "app", "image": push_image(ecr, service, "1.4.2"), "cpu": 256,
                 "memory": 512, "essential": True},
                {"name": "log-router", "image": sidecar, "cpu": 64, "memory": 128},
            ],
        )  # fmt: skip
        make_service(ecs, CLUSTER, service, f"{service}-td", X86, desired=4)
        make_alarms(
            cloudwatch,
            dict(zip((f"{service}-5xx", f"{service}-p99"), SERVICE_METRICS, strict=True)),
            reason="demo",
        )


def weights(url: str, service: str) -> dict[str, int]:
    svc = client("ecs", url, REGION).describe_services(cluster=CLUSTER, services=[service])
    return {
        i["capacityProvider"]: i["weight"] for i in svc["services"][0]["capacityProviderStrategy"]
    }


def cluster_view(url: str) -> dict[str, Any]:
    found = client("ecs", url, REGION).describe_clusters(clusters=[CLUSTER])["clusters"][0]
    default = found.get("defaultCapacityProviderStrategy") or []
    return {
        "providers": sorted(found.get("capacityProviders") or []),
        "default": {i["capacityProvider"]: i["weight"] for i in default},
    }


def group_of(url: str, provider: str) -> str:
    found = client("ecs", url, REGION).describe_capacity_providers(capacityProviders=[provider])
    arn = found["capacityProviders"][0]["autoScalingGroupProvider"]["autoScalingGroupArn"]
    return str(arn).rsplit("autoScalingGroupName/", 1)[1]


def group_size(url: str, name: str) -> tuple[int, int] | None:
    groups = client("autoscaling", url, REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[name]
    )["AutoScalingGroups"]
    return (groups[0]["MinSize"], groups[0]["DesiredCapacity"]) if groups else None


def fire_alarm_at(url: str, service: str, alarm: str, step: str) -> threading.Thread:
    """Set ``alarm`` to ALARM once ``service`` is baking ``step`` (read from graviton's tags)."""
    ecs, cw = client("ecs", url, REGION), client("cloudwatch", url, REGION)
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{service}"

    def watch() -> None:
        for _ in range(600):
            tags = {
                t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]
            }
            if tags.get("graviton:phase") == "baking" and tags.get("graviton:step") == step:
                time.sleep(1)
                cw.set_alarm_state(
                    AlarmName=alarm, StateValue="ALARM", StateReason="p99 1.8s > 1.0s (demo)"
                )
                return
            time.sleep(0.2)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def step3_capacity(url: str, aws: list[str]) -> str:
    say(
        "step 3: graviton capacity: the Graviton twin of cp-x86, next to it; nothing runs on it yet"
    )
    before = cluster_view(url)
    graviton("capacity", "plan", "--cluster", CLUSTER, "--from", X86, *aws)
    check("after plan, the cluster", cluster_view(url), before)
    graviton("capacity", "create", "--cluster", CLUSTER, "--from", X86, "--name", ARM, *aws)
    arm_group = group_of(url, ARM)
    ec2, ssm = client("ec2", url, REGION), client("ssm", url, REGION)
    template = client("autoscaling", url, REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[arm_group]
    )["AutoScalingGroups"][0]["LaunchTemplate"]["LaunchTemplateName"]
    data = ec2.describe_launch_template_versions(LaunchTemplateName=template, Versions=["$Latest"])[
        "LaunchTemplateVersions"
    ][0]["LaunchTemplateData"]
    arm_ami = ssm.get_parameter(Name=AMI_PARAMETER.format("arm64/"))["Parameter"]["Value"]
    check("twin's instance type", data["InstanceType"], "m6g.large")
    check("twin's AMI (the arm64 AL2023 ECS AMI from SSM)", data["ImageId"], arm_ami)
    check("twin's group (min, desired)", group_size(url, arm_group), (0, 0))
    check("cluster after create", cluster_view(url), {**before, "providers": [ARM, X86]})
    return arm_group


def step4_shift(url: str, aws: list[str]) -> None:
    common = ["--cluster", CLUSTER, *aws, "--x86-provider", X86, "--arm-provider", ARM]
    steps = [*common, "--step", "25", "--bake", BAKE, "--poll", POLL]
    say("step 4, dry run: the plan and the preflight checks, nothing changed")
    graviton("shift", *steps, "--service", "orders", "--dry-run")
    check("orders weights after the dry run", weights(url, "orders"), {X86: 1})

    say("step 4: shift orders 0% -> 25% -> 50% -> 75% -> 100% Graviton, each step baked")
    graviton(
        "shift", *steps, "--service", "orders", "--alarm", "orders-5xx", "--alarm", "orders-p99"
    )
    check("orders weights", weights(url, "orders"), {X86: 0, ARM: 100})
    say("orders is at 100%: --finalize drops cp-x86 from its strategy (quotes still uses cp-x86)")
    graviton("shift", "--cluster", CLUSTER, "--service", "orders", *aws, "--finalize")
    check("orders weights", weights(url, "orders"), {ARM: 100})
    graviton("status", "--cluster", CLUSTER, "--service", "orders", *aws)

    say("step 4: shift quotes; its p99-latency alarm fires during the bake at 50%")
    watcher = fire_alarm_at(url, "quotes", "quotes-p99", "2/4")
    quotes = [*steps, "--service", "quotes", "--alarm", "quotes-5xx", "--alarm", "quotes-p99"]
    graviton("shift", *quotes, expect=1)
    watcher.join(timeout=1)
    check("quotes weights (rolled back to the last good step)", weights(url, "quotes"),
          {X86: 75, ARM: 25})  # fmt: skip
    graviton("status", "--cluster", CLUSTER, "--service", "quotes", *aws)

    say("the p99 regression is fixed and the alarm is back in OK: rerun, from 25% to 100%")
    client("cloudwatch", url, REGION).set_alarm_state(
        AlarmName="quotes-p99", StateValue="OK", StateReason="fixed (demo)"
    )
    graviton("shift", *quotes)
    check("quotes weights", weights(url, "quotes"), {X86: 0, ARM: 100})


def step5_decommission(url: str, aws: list[str]) -> None:
    finalize = ["shift", "--cluster", CLUSTER, "--service", "quotes", *aws, "--finalize"]
    say("step 5: quotes is the last service on cp-x86: finalize and scale x86 in")
    graviton(*finalize, "--scale-in-x86", expect=2, stderr_has="default strategy")
    check("quotes weights (the refusal changed nothing)", weights(url, "quotes"),
          {X86: 0, ARM: 100})  # fmt: skip
    check("x86 group (min, desired)", group_size(url, X86_GROUP), (2, 2))

    say("the operator points the cluster's default strategy at cp-arm, then finalizes again")
    print(
        f"$ aws ecs put-cluster-capacity-providers --cluster {CLUSTER} --capacity-providers "
        f"{X86} {ARM} --default-capacity-provider-strategy capacityProvider={ARM},weight=1"
    )
    client("ecs", url, REGION).put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=[X86, ARM],
        defaultCapacityProviderStrategy=[{"capacityProvider": ARM, "weight": 1}],
    )
    graviton(*finalize, "--scale-in-x86")
    check("quotes weights", weights(url, "quotes"), {ARM: 100})
    check("x86 group (min, desired): drained and scaled in", group_size(url, X86_GROUP), (0, 0))
    check("cluster", cluster_view(url), {"providers": [ARM], "default": {ARM: 1}})

    say("graviton capacity decommission --delete: the x86 group, template and provider go")
    graviton("capacity", "decommission", "--cluster", CLUSTER, "--provider", X86, "--delete", *aws)
    check("x86 group", group_size(url, X86_GROUP), None)
    templates = client("ec2", url, REGION).describe_launch_templates()["LaunchTemplates"]
    check(
        "x86 launch template left",
        [t for t in templates if t["LaunchTemplateName"] == X86_TEMPLATE],
        [],
    )
    providers = client("ecs", url, REGION).describe_capacity_providers(capacityProviders=[X86])
    check(
        "active x86 providers",
        [p["name"] for p in providers["capacityProviders"] if p.get("status") == "ACTIVE"],
        [],
    )


def main() -> int:
    say("starting a local moto server (no AWS account needed)")
    with moto_server() as url:
        os.environ.update(env_for(REGION))
        aws = ["--endpoint-url", url]
        try:
            build_cluster(url)
            print(
                f"cluster {CLUSTER}: capacity provider {X86} (ASG {X86_GROUP}: 2 x m6i.large, "
                "Amazon Linux 2023 ECS AMI), the default strategy on it; services "
                f"{', '.join(SERVICES)} on x86, 4 tasks each; alarms in OK"
            )
            ecs, autoscaling = client("ecs", url, REGION), client("autoscaling", url, REGION)
            # moto starts no tasks: the demo plays the ECS scheduler (tests/support/placement.py)
            x86_only = label_architectures(ecs, autoscaling, CLUSTER, {X86: (X86_GROUP, "x86_64")})
            for service in SERVICES:
                place(ecs, CLUSTER, service, x86_only)
            say("graviton savings: the business case, priced from the shipped on-demand table")
            graviton("savings", "--cluster", CLUSTER, *aws, "--plan")
            arm_group = step3_capacity(url, aws)
            # what ECS managed scaling does once ARM tasks are asked for: the twin launches
            # instances, their ECS agent registers them and labels their architecture
            autoscaling.set_desired_capacity(AutoScalingGroupName=arm_group, DesiredCapacity=2)
            register_instances(ecs, autoscaling, CLUSTER, arm_group)
            instances = label_architectures(
                ecs,
                autoscaling,
                CLUSTER,
                {X86: (X86_GROUP, "x86_64"), ARM: (arm_group, "arm64")},
            )
            print(f"(simulated: ECS managed scaling launches 2 x m6g.large in {arm_group})")
            with TaskPlacer(url, REGION, CLUSTER, list(SERVICES), 0.1, instances):
                step4_shift(url, aws)
            # the placer stops here: around each run_task it sets the other group's instances
            # DRAINING and back to ACTIVE, which would undo step 5's drain; every task of both
            # services already runs on cp-arm
            step5_decommission(url, aws)
        except DemoFailed as failed:
            print(f"\ndemo FAILED: {failed}", file=sys.stderr, flush=True)
            return 1
        except Exception as error:  # boto3 against moto: one line, the server still stopped
            print(f"\ndemo FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            return 1
        say(
            "done: orders and quotes run on Graviton (m6g), a rollback on the way; the x86 "
            "capacity is drained, scaled in and deleted"
        )
        return 0


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through moto_server(): the server is stopped


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    sys.exit(main())
