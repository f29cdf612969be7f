"""Reading ECS answers: when a deployment counts as settled or failed; the deployment
configuration graviton sets."""

from __future__ import annotations

from graviton.rollout.ecs import (
    Deployment,
    ServiceView,
    deployment_configuration,
)


def view(*deployments: Deployment) -> ServiceView:
    return ServiceView("arn", "orders", "ACTIVE", 4, 4, (), None, deployments, "td:1")


def dep(id_: str, status: str, rollout: str | None, running: int = 4) -> Deployment:
    return Deployment(id_, status, rollout, running, 4)


def test_settled_failed_in_progress() -> None:
    assert view(dep("a", "PRIMARY", "COMPLETED")).deployment_state("a") == "settled"
    assert view(dep("a", "PRIMARY", "IN_PROGRESS")).deployment_state("a") == "in-progress"
    assert view(dep("a", "PRIMARY", "FAILED")).deployment_state("a") == "failed"
    two = view(dep("a", "PRIMARY", "COMPLETED"), dep("b", "ACTIVE", "COMPLETED"))
    assert two.deployment_state("a") == "in-progress"  # old tasks still draining
    assert (
        view(dep("b", "PRIMARY", "COMPLETED")).deployment_state("a") == "failed"
    )  # ECS rolled back
    assert view(dep("a", "PRIMARY", None, running=4)).deployment_state() == "settled"
    assert view(dep("a", "PRIMARY", None, running=3)).deployment_state() == "in-progress"
    assert view().deployment_state() == "in-progress"


def test_deployment_configuration_keeps_other_settings() -> None:
    config = deployment_configuration({"maximumPercent": 200, "minimumHealthyPercent": 50}, ["a"])
    assert config == {
        "maximumPercent": 200,
        "minimumHealthyPercent": 50,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "alarms": {"alarmNames": ["a"], "enable": True, "rollback": True},
    }
    kept = {"alarms": {"alarmNames": ["x"], "enable": True, "rollback": True}}
    assert deployment_configuration(kept, [])["alarms"] == kept["alarms"]


def test_asg_name_from_arn() -> None:
    from graviton.aws.fleet import group_name_of

    arn = "arn:aws:autoscaling:eu-west-1:1:autoScalingGroup:uuid:autoScalingGroupName/prod-x86"
    assert group_name_of(arn) == "prod-x86"
