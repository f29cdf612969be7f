"""An answer that is not the AWS API's own (a proxy's sign-in page, an empty body, another API's
document) is an error that names the operation and what came back, never "nothing there".

botocore reads a well-formed HTML page with status 200 as a query/EC2 answer with empty lists,
and the JSON protocol's parser reads a page that is not JSON as an answer without members: "no
alarms", "no auto scaling groups", "no capacity providers". Every client graviton makes checks
the raw answer first (graviton/aws/answers.py); the fault proxy answers in AWS's place.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from graviton.aws import aws_errors
from graviton.errors import ServiceUnavailable
from tests.capacity.conftest import REGION as CAPACITY_REGION
from tests.capacity.conftest import capacity
from tests.rollout.helpers import REGION, shift_args, strategy
from tests.support.cli import graviton
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.moto

SIGN_IN = b"<html><head><title>Proxy</title></head><body>Sign in to continue</body></html>"
ERROR_PAGE = b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"


def one_line(stderr: str) -> str:
    """The one stderr line a failed command wrote (no traceback, no page)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "Sign in" not in stderr, stderr
    assert "<html" not in stderr.lower() and "<title" not in stderr.lower(), stderr
    return lines[0]


def at_bake(step: str, act: Any) -> Any:
    """An on_event callback that runs ``act()`` once, when ``step`` starts baking."""
    done: list[bool] = []

    def hook(event: dict[str, Any], _: subprocess.Popen[str]) -> None:
        if event["event"] == "bake" and event.get("step") == step and not done:
            done.append(True)
            act()

    return hook


def test_shift_preflight_refuses_alarms_read_from_an_html_page(cluster: dict[str, Any]) -> None:
    """Old: no alarm in the page, so "alarm not found" (exit 2), as if the names were wrong."""
    proxy: FaultProxy = cluster["proxy"]
    before = strategy(cluster)
    proxy.answer("DescribeAlarms", SIGN_IN, content_type="text/html")
    result = graviton(shift_args(cluster), REGION)
    assert result.code == 3, result.stderr
    assert (
        "DescribeAlarms answered something that is not the CloudWatch API "
        "(HTTP 200, an HTML page)" in one_line(result.stderr)
    )
    assert "UpdateService" not in proxy.operations()
    assert strategy(cluster) == before


def test_a_bake_whose_alarms_become_an_html_page_rolls_back_and_exits_3(
    cluster: dict[str, Any],
) -> None:
    """An alarm graviton cannot read during the bake is not a pass nor a deleted alarm: the
    step is rolled back (AWS error in the middle of the step) and the run fails with exit 3.
    Old: the page read as "no alarms", so the alarm looked deleted (exit 1)."""
    proxy: FaultProxy = cluster["proxy"]
    page = at_bake("1/4", lambda: proxy.answer("DescribeAlarms", SIGN_IN, content_type="text/html"))
    result = graviton(shift_args(cluster, "--bake", "2s"), REGION, on_event=page)
    assert result.code == 3, result.stderr
    assert (
        "DescribeAlarms answered something that is not the CloudWatch API "
        "(HTTP 200, an HTML page)" in one_line(result.stderr)
    )
    assert strategy(cluster).get(cluster["arm_provider"], 0) == 0  # the step was undone
    assert not result.of("done")


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("text/html", SIGN_IN, "HTTP 200, an HTML page"),
        ("text/xml", b"", "HTTP 200, an empty answer"),
        ("text/xml",
         b'<?xml version="1.0"?><DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/'
         b'doc/2010-08-01/"><DescribeAlarmsResult><MetricAlarms/></DescribeAlarmsResult>'
         b"</DescribeAlarmsResponse>",
         "HTTP 200, a <DescribeAlarmsResponse> document"),
    ],
)  # fmt: skip
def test_capacity_refuses_groups_read_from_what_is_not_auto_scaling(
    prod: dict[str, Any], content_type: str, body: bytes, kind: str
) -> None:
    """Query protocol: the page, nothing, or another API's XML is not "no such group"."""
    with FaultProxy(prod["url"]) as proxy:
        proxy.answer("DescribeAutoScalingGroups", body, content_type=content_type)
        result = capacity("plan", "--cluster", "prod", url=proxy.url)
        assert "DescribeAutoScalingGroups" in proxy.operations()
    assert result.exit_code == 3, result.output
    assert (
        "DescribeAutoScalingGroups answered something that is not the Auto Scaling API "
        f"({kind})" in one_line(result.stderr)
    )


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("text/html", SIGN_IN, "HTTP 200, an HTML page"),
        ("application/x-amz-json-1.1", b"", "HTTP 200, an empty answer"),
        ("application/x-amz-json-1.1", b"[]", "HTTP 200, JSON that is not an object"),
        ("text/plain", b"Sign in to continue", "HTTP 200, a text/plain answer that is not JSON"),
    ],
)
def test_capacity_refuses_ecs_answers_that_are_not_ecs(
    prod: dict[str, Any], content_type: str, body: bytes, kind: str
) -> None:
    """JSON protocol: botocore reads a body that is not JSON as ``{"message": body}``, an
    answer with no capacity providers."""
    with FaultProxy(prod["url"]) as proxy:
        proxy.answer("DescribeCapacityProviders", body, content_type=content_type)
        result = capacity("plan", "--cluster", "prod", "--from", "cp-x86", url=proxy.url)
        assert "DescribeCapacityProviders" in proxy.operations()
    assert result.exit_code == 3, result.output
    assert (
        f"DescribeCapacityProviders answered something that is not the ECS API ({kind})"
        in one_line(result.stderr)
    )


def capacity_process(url: str) -> Any:
    return graviton(
        ["capacity", "plan", "--cluster", "prod", "--region", CAPACITY_REGION,
         "--endpoint-url", url],
        CAPACITY_REGION,
    )  # fmt: skip


def test_an_html_500_on_a_read_is_retried_then_one_exit_3_line(
    prod: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old: botocore could not parse the page (ResponseParserError, not a BotoCoreError), so
    the CLI's last resort printed the page in its line with exit 70. Now: retried like any 5xx,
    then one line that names the operation and what came back."""
    monkeypatch.setenv("GRAVITON_AWS_MAX_ATTEMPTS", "2")
    with FaultProxy(prod["url"]) as proxy:
        proxy.answer("DescribeAutoScalingGroups", ERROR_PAGE, content_type="text/html", status=500)
        result = capacity_process(proxy.url)
        attempts = proxy.operations().count("DescribeAutoScalingGroups")
    assert result.code == 3, result.stderr
    assert (
        "DescribeAutoScalingGroups answered something that is not the Auto Scaling API "
        "(HTTP 500, an HTML page)" in one_line(result.stderr)
    )
    assert "Internal Server Error" not in result.stderr
    assert attempts == 2  # retried: GRAVITON_AWS_MAX_ATTEMPTS counts the first call too


def test_an_html_502_that_passes_is_retried_away(
    prod: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load balancer's passing 502 page is a server error like any other: retried, and the
    second answer (moto's) is read."""
    monkeypatch.setenv("GRAVITON_AWS_MAX_ATTEMPTS", "2")
    with FaultProxy(prod["url"]) as proxy:
        proxy.answer(
            "DescribeAutoScalingGroups", ERROR_PAGE, content_type="text/html", status=502, times=1
        )
        result = capacity_process(proxy.url)
        attempts = proxy.operations().count("DescribeAutoScalingGroups")
    assert result.code == 0, result.stderr
    assert "ImageId" in result.stdout and attempts >= 2


def test_aws_errors_turns_an_unparsable_answer_into_one_line_without_it() -> None:
    """Old: ResponseParserError went past aws_errors (it is not a BotoCoreError)."""
    from botocore.parsers import ResponseParserError

    with pytest.raises(ServiceUnavailable) as caught, aws_errors("reading the groups"):
        raise ResponseParserError("Unable to parse response:\n<html>secret-session=1</html>")
    assert str(caught.value) == "reading the groups: an answer that could not be read"


STS = b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
STS_OK = (
    STS
    + b"<GetCallerIdentityResult><Account>1</Account></GetCallerIdentityResult>"
    + (b"</GetCallerIdentityResponse>")
)
QUERY_ERROR = b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>"
EC2_ERROR = b"<Response><Errors><Error><Code>Boom</Code></Error></Errors></Response>"


@pytest.mark.parametrize(
    ("service", "operation", "status", "body", "what"),
    [
        ("sts", "GetCallerIdentity", 200, STS_OK, None),  # a namespace is not another root
        ("sts", "GetCallerIdentity", 403, QUERY_ERROR, None),
        ("sts", "GetCallerIdentity", 200, STS, "HTTP 200, XML that does not parse"),
        ("sts", "GetCallerIdentity", 200, QUERY_ERROR, "HTTP 200, a <ErrorResponse> document"),
        ("ec2", "DescribeInstances", 400, EC2_ERROR, None),
        ("ec2", "DescribeInstances", 200, b"\xef\xbb\xbf<DescribeInstancesResponse/>", None),
        ("ecs", "ListClusters", 200, b'{"clusterArns": []}', None),
        ("ecs", "ListClusters", 400, b'{"__type": "ClientException"}', None),
        ("ecs", "ListClusters", 200, b"null", "HTTP 200, JSON that is not an object"),
        ("ecs", "ListClusters", 200, STS_OK, "HTTP 200, a <GetCallerIdentityResponse> document"),
    ],
)  # fmt: skip
def test_what_counts_as_the_apis_own_answer(
    service: str, operation: str, status: int, body: bytes, what: str | None
) -> None:
    import boto3

    from graviton.aws.answers import not_the_api

    model = boto3.Session(region_name="us-east-1").client(service).meta.service_model
    answer = {"status_code": status, "headers": {}, "body": body}
    assert not_the_api(model.operation_model(operation), answer) == what
