"""The shift scenarios against a moto server process over HTTP, through the real CLI."""

from __future__ import annotations

import signal
import subprocess
from typing import Any

import pytest

from tests.rollout.helpers import (
    REGION,
    default_strategy_to_arm,
    ecs,
    set_alarm,
    shift_args,
    snapshot,
    strategy,
    tags,
    weights,
)
from tests.support.cli import graviton
from tests.support.cluster import client, make_service

pytestmark = pytest.mark.moto


def test_full_rollout_reaches_100_in_four_steps(cluster: dict[str, Any]) -> None:
    during: list[dict[str, Any]] = []

    def config_during_bake(event: dict[str, Any], _: subprocess.Popen[str]) -> None:
        if event["event"] == "bake" and event["step"] == "2/4":
            svc = ecs(cluster).describe_services(cluster="prod", services=["orders"])
            during.append(svc["services"][0]["deploymentConfiguration"])

    before = ecs(cluster).describe_services(cluster="prod", services=["orders"])["services"][0]
    result = graviton(shift_args(cluster), REGION, on_event=config_during_bake)
    assert result.code == 0, result.stderr
    assert [e["weights"]["arm"] for e in result.of("step")] == [25, 50, 75, 100]
    assert [e["step"] for e in result.of("good")] == ["1/4", "2/4", "3/4", "4/4"]
    assert result.kinds()[-1] == "done"
    # each step bakes after its deployment settled, never before
    for step in ("1/4", "2/4", "3/4", "4/4"):
        kinds = [e["event"] for e in result.events if e.get("step") == step]
        assert kinds.index("settled") < kinds.index("bake")
    splits = [e for e in result.of("split") if e["step"] == "2/4"]
    assert len(splits) == 2  # when the deployment settled, and after the bake
    assert splits[0]["intended"] == {cluster["x86_provider"]: 2, cluster["arm_provider"]: 2}
    assert strategy(cluster) == weights(cluster, 100)  # x86 weight 0 is sent as such
    state = tags(cluster)
    assert state["graviton:phase"] == "done" and state["graviton:weights"] == "x86=0 arm=100"
    # during the shift: circuit breaker and deployment alarms on, with rollback
    (config,) = during
    assert config["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert (
        config["alarms"]["rollback"]
        and config["alarms"]["alarmNames"] == cluster["alarms"]["orders"]
    )
    # after it: the service's own deployment configuration, exactly
    svc = ecs(cluster).describe_services(cluster="prod", services=["orders"])["services"][0]
    assert (svc.get("deploymentConfiguration") or {}) == (
        before.get("deploymentConfiguration") or {}
    )
    # every step ran its ARM share on arm64 instances
    assert [e["arch"].get("arm64", 0) for e in result.of("split")][1::2] == [1, 2, 3, 4]

    # the real split, read back from describe_tasks by `graviton status`
    status = graviton(
        [
            "status",
            "--cluster",
            "prod",
            "--service",
            "orders",
            "--endpoint-url",
            cluster["endpoint_url"],
            "--format",
            "json",
        ],
        REGION,
    )
    assert status.code == 0
    (report,) = status.events
    assert report["running"] == {cluster["arm_provider"]: 4}
    assert report["state"]["phase"] == "done" and report["arm_percent"] == 100

    # the cluster's default strategy still gives x86 weight: the x86 decommission refuses,
    # naming it, before anything changes
    shifted = snapshot(cluster)
    refused = graviton(shift_args(cluster, "--finalize", "--scale-in-x86"), REGION)
    assert refused.code == 2, refused.stderr
    assert "default strategy" in refused.stderr and cluster["x86_provider"] in refused.stderr
    assert snapshot(cluster) == shifted
    # the operator points the default at Graviton; finalize then decommissions x86
    default_strategy_to_arm(cluster)
    final = graviton(shift_args(cluster, "--finalize", "--scale-in-x86"), REGION)
    assert final.code == 0, final.stderr
    assert strategy(cluster) == {cluster["arm_provider"]: 100}
    asg = client("autoscaling", cluster["endpoint_url"], REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[cluster["x86_asg"]]
    )["AutoScalingGroups"][0]
    assert (asg["MinSize"], asg["DesiredCapacity"]) == (0, 0)
    assert tags(cluster)["graviton:phase"] == "finalized"
    # drained before the scale-in, and detached from the cluster
    x86_ids = {i["InstanceId"] for i in asg["Instances"]}
    arns = ecs(cluster).list_container_instances(cluster="prod")["containerInstanceArns"]
    described = ecs(cluster).describe_container_instances(cluster="prod", containerInstances=arns)
    x86_status = {
        ci["status"] for ci in described["containerInstances"] if ci["ec2InstanceId"] in x86_ids
    }
    assert x86_status <= {"DRAINING"}
    attached = ecs(cluster).describe_clusters(clusters=["prod"])["clusters"][0]
    assert cluster["x86_provider"] not in attached["capacityProviders"]
    assert final.kinds().count("decommission") >= 3


def test_scale_in_x86_refuses_while_another_service_uses_it(cluster: dict[str, Any]) -> None:
    """Issue 9 item 10: another service on the x86 provider is named, and nothing changes."""
    make_service(ecs(cluster), "prod", "payments", "orders-td", cluster["x86_provider"], 1)
    default_strategy_to_arm(cluster)
    shifted = graviton(shift_args(cluster, "--step", "100"), REGION)
    assert shifted.code == 0, shifted.stderr
    before = snapshot(cluster), strategy(cluster, "payments")
    final = graviton(shift_args(cluster, "--finalize", "--scale-in-x86"), REGION)
    assert final.code == 2, final.stderr
    assert "service payments" in final.stderr
    assert (snapshot(cluster), strategy(cluster, "payments")) == before
    asg = client("autoscaling", cluster["endpoint_url"], REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[cluster["x86_asg"]]
    )["AutoScalingGroups"][0]
    assert asg["DesiredCapacity"] > 0


@pytest.mark.parametrize(
    ("alarm_state", "extra", "back_to"),
    [("ALARM", (), 25), ("ALARM", ("--rollback-to", "x86"), 0), ("INSUFFICIENT_DATA", (), 25)],
)
def test_alarm_during_step_2_bake_rolls_back(
    cluster: dict[str, Any], alarm_state: str, extra: tuple[str, ...], back_to: int
) -> None:
    alarm = cluster["alarms"]["orders"][1]

    def fire(event: dict[str, Any], _: subprocess.Popen[str]) -> None:
        if event["event"] == "bake" and event["step"] == "2/4":
            set_alarm(cluster, alarm, alarm_state)

    result = graviton(shift_args(cluster, "--bake", "2s", *extra), REGION, on_event=fire)
    assert result.code == 1, result.stderr
    assert strategy(cluster) == weights(cluster, back_to)
    (rollback,) = result.of("rollback")
    assert rollback["step"] == "2/4" and alarm in rollback["reason"]
    assert rollback["weights"] == {"x86": 100 - back_to, "arm": back_to}
    assert "step 3/4" not in result.stdout
    state = tags(cluster)
    assert state["graviton:phase"] == "rolled-back"
    assert state["graviton:failed"] == "step 2/4"
    assert alarm in state["graviton:reason"] and alarm_state in state["graviton:reason"]
    assert state["graviton:last-good"] == "x86=75 arm=25"
    # the rollback stays: a rerun does not move weight while the alarm still fires
    again = graviton(shift_args(cluster), REGION)
    assert again.code == 2 and alarm in again.stderr
    assert strategy(cluster) == weights(cluster, back_to)


def test_killed_during_a_bake_resumes_that_bake(cluster: dict[str, Any]) -> None:
    def kill(event: dict[str, Any], proc: subprocess.Popen[str]) -> None:
        if event["event"] == "bake" and event["step"] == "2/4":
            proc.send_signal(signal.SIGKILL)

    args = shift_args(cluster, "--bake", "2s")
    first = graviton(args, REGION, on_event=kill)
    assert first.code == -signal.SIGKILL
    assert tags(cluster)["graviton:phase"] == "baking"
    run_id = tags(cluster)["graviton:run"]

    seen_at_resumed_bake: list[dict[str, int]] = []

    def watch(event: dict[str, Any], _: subprocess.Popen[str]) -> None:
        if event["event"] == "bake" and not seen_at_resumed_bake:
            seen_at_resumed_bake.append(strategy(cluster))

    second = graviton(args, REGION, on_event=watch)  # the same arguments
    assert second.code == 0, second.stderr
    (resume,) = second.of("resume")
    assert resume["run"] == run_id and resume["phase"] == "baking" and resume["step"] == "2/4"
    # the interrupted bake is done again, at step 2's weights, before anything moves on
    assert seen_at_resumed_bake == [weights(cluster, 50)]
    bakes = [e["step"] for e in second.of("bake")]
    assert bakes == ["2/4", "3/4", "4/4"]
    assert [e["step"] for e in second.of("step")] == [3, 4]
    assert tags(cluster)["graviton:run"] == run_id


def test_a_second_controller_on_the_service_exits_4(cluster: dict[str, Any]) -> None:
    args = shift_args(cluster, "--lock-table", cluster["lock_table"], "--to", "50", "--bake", "3s")
    second: list[Any] = []

    def start_second(event: dict[str, Any], _: subprocess.Popen[str]) -> None:
        if event["event"] == "bake" and not second:
            second.append(graviton(args, REGION))

    first = graviton(args, REGION, on_event=start_second)
    assert first.code == 0, first.stderr
    (lock,) = first.of("lock")
    assert second[0].code == 4
    assert f"locked by {lock['owner']} since " in second[0].stderr
    assert len(second[0].stderr.strip().splitlines()) == 1
    assert second[0].of("step") == []


def test_unlock_breaks_a_lease_left_by_a_dead_controller(cluster: dict[str, Any]) -> None:
    from graviton.rollout.lock import Lease

    dynamodb = client("dynamodb", cluster["endpoint_url"], REGION)
    Lease(dynamodb, cluster["lock_table"], "graviton/prod/orders", owner="alice@ops:42").acquire()
    args = shift_args(cluster, "--lock-table", cluster["lock_table"], "--once")
    before = snapshot(cluster)
    locked = graviton(args, REGION)
    assert locked.code == 4 and "locked by alice@ops:42 since" in locked.stderr
    assert snapshot(cluster) == before
    unlock = graviton(
        [
            "unlock",
            "--cluster",
            "prod",
            "--service",
            "orders",
            "--lock-table",
            cluster["lock_table"],
            "--endpoint-url",
            cluster["endpoint_url"],
        ],
        REGION,
    )
    assert unlock.code == 0 and "was held by alice@ops:42" in unlock.stdout
    assert graviton(args, REGION).code == 0
    assert strategy(cluster) == weights(cluster, 25)
    assert "Item" not in dynamodb.get_item(
        TableName=cluster["lock_table"], Key={"LockID": {"S": "graviton/prod/orders"}}
    )  # released when done


def test_once_then_continue_then_manual_rollback(cluster: dict[str, Any]) -> None:
    one = graviton(shift_args(cluster, "--once"), REGION)
    assert one.code == 0 and strategy(cluster) == weights(cluster, 25)
    assert tags(cluster)["graviton:phase"] == "step-good"
    two = graviton(shift_args(cluster, "--once"), REGION)
    assert two.code == 0 and two.of("resume") and strategy(cluster) == weights(cluster, 50)
    assert [e["step"] for e in two.of("step")] == [2]

    back = graviton(
        [
            "rollback",
            "--cluster",
            "prod",
            "--service",
            "orders",
            "--to",
            "x86",
            "--poll",
            "0.2s",
            "--endpoint-url",
            cluster["endpoint_url"],
        ],
        REGION,
    )
    assert back.code == 0, back.stderr
    assert strategy(cluster) == weights(cluster, 0)
    assert tags(cluster)["graviton:phase"] == "rolled-back"
    status = graviton(
        [
            "status",
            "--cluster",
            "prod",
            "--service",
            "orders",
            "--endpoint-url",
            cluster["endpoint_url"],
        ],
        REGION,
    )
    assert "rolled-back at step 2/4" in status.stdout and "rolled back by" in status.stdout

    fresh = graviton(shift_args(cluster, "--once"), REGION)  # a new run, from 0%
    assert fresh.code == 0 and not fresh.of("resume")
    assert fresh.of("plan")[0]["run"] == "new"
    assert tags(cluster)["graviton:run"] != tags(cluster).get("x")


def test_dry_run_prints_the_plan_and_changes_nothing(cluster: dict[str, Any]) -> None:
    before = snapshot(cluster)
    result = graviton(shift_args(cluster, "--dry-run", "--step", "30"), REGION)
    assert result.code == 0, result.stderr
    (plan,) = result.of("plan")
    assert plan["steps"] == [30, 60, 90, 100] and plan["dry_run"] and plan["start"] == 0
    assert {e["check"] for e in result.of("check")} >= {"strategy", "ARM provider", "image app"}
    assert snapshot(cluster) == before
