"""The faults of issue 9 against a moto server behind the fault proxy, through the real CLI:
the rollback never depends on the bookkeeping, a step is good only when it was really tested,
nothing of the user's is lost."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from typing import Any

import pytest

from tests.rollout.helpers import REGION, ecs, set_alarm, shift_args, strategy, tags, weights
from tests.support.cli import graviton
from tests.support.cluster import client
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.moto


def at(kind: str, step: str, act: Any) -> Any:
    """An on_event callback that runs ``act(proc)`` once, at the event ``kind`` of ``step``."""
    done: list[bool] = []

    def hook(event: dict[str, Any], proc: subprocess.Popen[str]) -> None:
        if event["event"] == kind and event.get("step") == step and not done:
            done.append(True)
            act(proc)

    return hook


def killed_at_bake_2(c: dict[str, Any]) -> list[str]:
    """Run a shift and SIGKILL it when step 2 starts baking; returns its arguments."""
    args = shift_args(c, "--bake", "3s")
    kill = at("bake", "2/4", lambda p: p.send_signal(signal.SIGKILL))
    assert graviton(args, REGION, on_event=kill).code == -signal.SIGKILL
    return args


def restart_faults(c: dict[str, Any]) -> FaultProxy:
    proxy: FaultProxy = c["proxy"]
    proxy.clear()
    c["scheduler"].on_update_service(proxy)
    return proxy


def test_rollback_goes_out_first_when_tag_writes_fail(cluster: dict[str, Any]) -> None:
    proxy: FaultProxy = cluster["proxy"]
    alarm = cluster["alarms"]["orders"][0]

    def fire(_: subprocess.Popen[str]) -> None:
        proxy.reject("TagResource", "InvalidParameterException", "too many tags")
        set_alarm(cluster, alarm, "ALARM")

    result = graviton(shift_args(cluster, "--bake", "3s"), REGION, on_event=at("bake", "2/4", fire))
    assert result.code == 1, result.stderr
    assert strategy(cluster) == weights(cluster, 25)  # back to the last good step
    assert [w["message"] for w in result.of("warning")]  # the state could not be written
    assert "Traceback" not in result.stderr
    assert tags(cluster)["graviton:phase"] == "baking"  # what was written last

    restart_faults(cluster)
    again = graviton(shift_args(cluster), REGION)  # the next run repairs the state
    assert again.code == 1, again.stderr
    assert tags(cluster)["graviton:phase"] == "rolled-back"
    assert strategy(cluster) == weights(cluster, 25)


def test_manual_rollback_goes_out_when_tag_writes_fail(cluster: dict[str, Any]) -> None:
    assert graviton(shift_args(cluster, "--once"), REGION).code == 0
    cluster["proxy"].reject("TagResource", "InvalidParameterException", "too many tags")
    back = graviton(
        ["rollback", "--cluster", "prod", "--service", "orders", "--to", "x86", "--poll", "0.2s",
         "--endpoint-url", cluster["endpoint_url"], "--format", "json"], REGION,
    )  # fmt: skip
    assert back.code == 0, back.stderr
    assert strategy(cluster) == weights(cluster, 0)
    assert back.of("warning") and back.of("rolled_back")


def test_killed_during_bake_alarm_fired_meanwhile_rerun_rolls_back(cluster: dict[str, Any]) -> None:
    args = shift_args(cluster, "--bake", "3s")
    first = graviton(
        args, REGION, on_event=at("bake", "2/4", lambda p: p.send_signal(signal.SIGKILL))
    )
    assert first.code == -signal.SIGKILL
    set_alarm(cluster, cluster["alarms"]["orders"][1], "ALARM")
    second = graviton(args, REGION)
    assert second.code == 1, second.stderr
    (rollback,) = second.of("rollback")
    assert rollback["step"] == "2/4" and "ALARM" in rollback["reason"]
    assert strategy(cluster) == weights(cluster, 25)
    assert tags(cluster)["graviton:phase"] == "rolled-back"


def test_an_alarm_that_came_and_went_while_killed_fails_the_resumed_bake(
    cluster: dict[str, Any],
) -> None:
    args = killed_at_bake_2(cluster)
    alarm = cluster["alarms"]["orders"][0]
    time.sleep(1.1)  # the state-change time is after the recorded start of the bake
    set_alarm(cluster, alarm, "ALARM")
    set_alarm(cluster, alarm, "OK")
    # moto has no alarm history: refused here (fast) -> graviton cannot prove it: fail closed
    cluster["proxy"].reject("DescribeAlarmHistory", "AccessDenied", "no history")
    second = graviton(args, REGION)
    assert second.code == 1, second.stderr
    (rollback,) = second.of("rollback")
    assert alarm in rollback["reason"] and "unobserved" in rollback["reason"]
    assert strategy(cluster) == weights(cluster, 25)


def test_sigterm_exits_143_releases_the_lease_and_the_rerun_resumes(
    cluster: dict[str, Any],
) -> None:
    args = shift_args(cluster, "--bake", "3s", "--lock-table", cluster["lock_table"])
    first = graviton(
        args, REGION, on_event=at("bake", "2/4", lambda p: p.send_signal(signal.SIGTERM))
    )
    assert first.code == 143, first.stderr
    assert len(first.stderr.strip().splitlines()) == 1 and "SIGTERM" in first.stderr
    dynamodb = client("dynamodb", cluster["endpoint_url"], REGION)
    assert "Item" not in dynamodb.get_item(
        TableName=cluster["lock_table"], Key={"LockID": {"S": "graviton/prod/orders"}}
    )
    assert tags(cluster)["graviton:phase"] == "baking"
    status = graviton(
        ["status", "--cluster", "prod", "--service", "orders", "--endpoint-url",
         cluster["endpoint_url"]], REGION,
    )  # fmt: skip
    assert "no controller is running" in status.stdout
    second = graviton(args, REGION)
    assert second.code == 0, second.stderr
    assert second.of("resume") and strategy(cluster) == weights(cluster, 100)


def test_a_rejected_update_service_leaves_no_deploying_state(cluster: dict[str, Any]) -> None:
    cluster["proxy"].reject("UpdateService", "InvalidParameterException", "rejected by the test")
    refused = graviton(shift_args(cluster), REGION)
    assert refused.code == 3, refused.stderr
    assert "rejected by the test" in refused.stderr and "Traceback" not in refused.stderr
    assert tags(cluster).get("graviton:phase") != "deploying"
    assert strategy(cluster) == {cluster["x86_provider"]: 1}
    restart_faults(cluster)
    other = graviton(shift_args(cluster, "--step", "50"), REGION)  # other flags: not refused
    assert other.code == 0, other.stderr
    assert strategy(cluster) == weights(cluster, 100)


def test_a_controller_that_got_the_lease_late_rereads_the_service(cluster: dict[str, Any]) -> None:
    proxy: FaultProxy = cluster["proxy"]
    args = shift_args(cluster, "--lock-table", cluster["lock_table"], "--bake", "0.3s")
    gate = proxy.hold("PutItem")  # the first lease acquisition waits
    late: list[Any] = []
    thread = threading.Thread(target=lambda: late.append(graviton(args, REGION)))
    thread.start()
    deadline = time.monotonic() + 30
    # DescribeTable (the lease's key name) comes right before the held PutItem
    while "DescribeTable" not in proxy.operations() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    other = graviton(args, REGION)  # meanwhile another controller does the whole shift
    assert other.code == 0, other.stderr
    assert strategy(cluster) == weights(cluster, 100)
    updates = proxy.operations().count("UpdateService")
    gate.set()
    thread.join(timeout=120)
    (result,) = late
    assert result.code == 0, result.stderr
    assert not result.of("step") and result.of("nothing")
    assert proxy.operations().count("UpdateService") == updates  # it sent nothing
    assert strategy(cluster) == weights(cluster, 100)
    assert tags(cluster)["graviton:phase"] == "done"


@pytest.mark.parametrize("policy", ["fail", "pass"])
def test_a_deleted_alarm_fails_the_bake(cluster: dict[str, Any], policy: str) -> None:
    alarm = cluster["alarms"]["orders"][0]
    cw = client("cloudwatch", cluster["endpoint_url"], REGION)
    hook = at("bake", "2/4", lambda p: cw.delete_alarms(AlarmNames=[alarm]))
    result = graviton(
        shift_args(cluster, "--bake", "2s", "--on-insufficient-data", policy), REGION, on_event=hook
    )
    assert result.code == 1, result.stderr
    (rollback,) = result.of("rollback")
    assert rollback["step"] == "2/4" and "deleted" in rollback["reason"]
    assert strategy(cluster) == weights(cluster, 25)


def test_an_alarm_that_flapped_between_two_polls_fails_the_bake(cluster: dict[str, Any]) -> None:
    alarm = cluster["alarms"]["orders"][0]
    cluster["proxy"].reject("DescribeAlarmHistory", "AccessDenied", "no history")

    def flap(_: subprocess.Popen[str]) -> None:
        set_alarm(cluster, alarm, "ALARM")
        set_alarm(cluster, alarm, "OK")

    result = graviton(
        shift_args(cluster, "--bake", "3s", "--poll", "1s"),
        REGION,
        on_event=at("bake", "2/4", flap),
    )
    assert result.code == 1, result.stderr
    (rollback,) = result.of("rollback")
    assert rollback["step"] == "2/4" and alarm in rollback["reason"]
    assert strategy(cluster) == weights(cluster, 25)


def test_a_bake_with_no_arm_task_fails(cluster: dict[str, Any]) -> None:
    cluster["scheduler"].mode = "x86-only"  # the ARM group launches nothing
    result = graviton(shift_args(cluster), REGION)
    assert result.code == 1, result.stderr
    (rollback,) = result.of("rollback")
    assert rollback["step"] == "1/4" and "no task ran on an arm64" in rollback["reason"]
    assert not result.of("good")
    assert strategy(cluster) == weights(cluster, 0)


def test_a_deployment_replaced_while_graviton_was_away_is_a_failed_step(
    cluster: dict[str, Any],
) -> None:
    args = killed_at_bake_2(cluster)
    # ECS (or someone) deploys again: same weights, a new deployment
    ecs(cluster).update_service(cluster="prod", service="orders", forceNewDeployment=True)
    second = graviton(args, REGION)
    assert second.code == 1, second.stderr
    (rollback,) = second.of("rollback")
    assert "was replaced" in rollback["reason"] and rollback["step"] == "2/4"
    assert strategy(cluster) == weights(cluster, 25)


def test_the_services_own_deployment_configuration_is_restored(cluster: dict[str, Any]) -> None:
    own = {
        "maximumPercent": 150,
        "minimumHealthyPercent": 50,
        "deploymentCircuitBreaker": {"enable": True, "rollback": False},
        "alarms": {"alarmNames": ["orders-own-alarm"], "enable": True, "rollback": False},
    }
    ecs(cluster).update_service(cluster="prod", service="orders", deploymentConfiguration=own)
    during: list[dict[str, Any]] = []

    def read(_: subprocess.Popen[str]) -> None:
        svc = ecs(cluster).describe_services(cluster="prod", services=["orders"])["services"][0]
        during.append(svc["deploymentConfiguration"])

    result = graviton(shift_args(cluster), REGION, on_event=at("bake", "1/4", read))
    assert result.code == 0, result.stderr
    (merged,) = during
    assert merged["alarms"]["alarmNames"] == ["orders-own-alarm", *cluster["alarms"]["orders"]]
    assert merged["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert merged["maximumPercent"] == 150
    svc = ecs(cluster).describe_services(cluster="prod", services=["orders"])["services"][0]
    assert svc["deploymentConfiguration"] == own


def test_tags_are_read_once_per_step(cluster: dict[str, Any]) -> None:
    proxy: FaultProxy = cluster["proxy"]
    proxy.reset_log()
    result = graviton(shift_args(cluster), REGION)
    assert result.code == 0, result.stderr
    ops = proxy.operations()
    steps = len(result.of("step"))
    assert steps == 4
    assert ops.count("ListTagsForResource") <= steps, ops.count("ListTagsForResource")
    assert ops.count("ListTagsForResource") == 2  # preflight, and again under the lease
    print(Counter(ops))


def test_status_watch_follows_a_run(cluster: dict[str, Any]) -> None:
    args = shift_args(cluster, "--lock-table", cluster["lock_table"], "--bake", "1s", "--to", "50")
    watching: list[Any] = []

    def start_watch(_: subprocess.Popen[str]) -> None:
        def run() -> None:
            watching.append(graviton(
                ["status", "--cluster", "prod", "--service", "orders", "--watch", "--interval",
                 "0.2s", "--format", "json", "--endpoint-url", cluster["endpoint_url"]],
                REGION,
            ))  # fmt: skip

        t = threading.Thread(target=run)
        t.start()
        watching.append(t)

    result = graviton(args, REGION, on_event=at("bake", "1/2", start_watch))
    assert result.code == 0, result.stderr
    watching[0].join(timeout=60)
    report = watching[1]
    assert report.code == 0, report.stderr
    phases = [e["state"]["phase"] for e in report.events]
    assert "baking" in phases and phases[-1] == "done"
    assert report.events[-1]["controller"]["running"] is False
    assert report.events[-1]["running"] == {cluster["x86_provider"]: 2, cluster["arm_provider"]: 2}


def test_status_says_when_the_lease_expired(cluster: dict[str, Any]) -> None:
    from graviton.rollout.lock import Lease

    args = shift_args(cluster, "--lock-table", cluster["lock_table"], "--once")
    assert graviton(args, REGION).code == 0
    dynamodb = client("dynamodb", cluster["endpoint_url"], REGION)
    # a controller that died 10 minutes ago: its lease expired
    Lease(
        dynamodb, cluster["lock_table"], "graviton/prod/orders", owner="bob@ci:7",
        clock=lambda: time.time() - 600,
    ).acquire()  # fmt: skip
    status = graviton(
        ["status", "--cluster", "prod", "--service", "orders", "--endpoint-url",
         cluster["endpoint_url"], "--format", "json"], REGION,
    )  # fmt: skip
    (report,) = status.events
    assert report["controller"]["lease"] == "expired" and not report["controller"]["running"]
    assert report["controller"]["owner"] == "bob@ci:7"


def test_status_without_a_lease_says_when_the_controller_is_overdue(
    cluster: dict[str, Any],
) -> None:
    killed_at_bake_2(cluster)
    status_args = ["status", "--cluster", "prod", "--service", "orders", "--endpoint-url",
                   cluster["endpoint_url"]]  # fmt: skip
    assert "presumably running" in graviton(status_args, REGION).stdout
    # time passes: the killed controller never wrote again by the time it promised
    arn = "arn:aws:ecs:eu-west-1:123456789012:service/prod/orders"
    ecs(cluster).tag_resource(
        resourceArn=arn, tags=[{"key": "graviton:expect", "value": "2020-01-01T00:00:00Z"}]
    )
    out = graviton(status_args, REGION).stdout
    assert "none running" in out and "no controller is running" in out
