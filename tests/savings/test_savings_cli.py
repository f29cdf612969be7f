"""``graviton savings`` against a real moto server: CliRunner and the installed console script.

Expected figures are computed here, independently, from the shipped prices.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import graviton.savings
from graviton.aws.fleet import configured_types
from graviton.cli import main
from graviton.savings.inventory import fleet_of
from graviton.savings.report import CountedFrom, InstanceCount, ProviderFleet, Skipped
from tests.savings.conftest import Cluster, build_cluster
from tests.support.cluster import client, make_cluster
from tests.support.moto_server import free_port

pytestmark = pytest.mark.moto

GRAVITON = Path(sys.executable).parent / "graviton"
PRICES: dict[str, Decimal] = json.loads(
    Path(graviton.savings.__file__).with_name("prices.json").read_text(), parse_float=Decimal
)["prices"]
TRADING = {"x86-m": ("m6i.xlarge", 3), "x86-r": ("r6i.large", 2), "arm": ("m6g.xlarge", 2)}
ARM_OF = {"m6i.xlarge": "m6g.xlarge", "r6i.large": "r6g.large", "m6i.large": "m6g.large"}


def cents(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def expected(groups: dict[str, tuple[str, int]]) -> dict[str, tuple[Decimal, Decimal]]:
    """provider -> (hourly before, hourly after), straight from prices.json."""
    return {
        provider: (count * PRICES[kind], count * PRICES[ARM_OF[kind]])
        for provider, (kind, count) in groups.items()
        if kind in ARM_OF
    }


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["savings", *args])


def run_process(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRAVITON), "savings", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def trading(moto: str) -> Cluster:
    return build_cluster(
        moto, groups=TRADING, services={"api": ["x86-r", "arm"]}, extra_providers=("FARGATE",)
    )


def check_figures(doc: dict[str, Any], groups: dict[str, tuple[str, int]]) -> None:
    want = expected(groups)
    assert doc["schema"] == "graviton.savings/v1"
    assert doc["pricing"]["source"] == "table" and doc["pricing"]["region"] == "us-east-1"
    assert {p["provider"] for p in doc["providers"]} == set(want)
    for provider in doc["providers"]:
        before, after = want[provider["provider"]]
        kind, count = groups[provider["provider"]]
        (line,) = provider["lines"]
        assert (line["instance_type"], line["count"]) == (kind, count)
        assert line["graviton_type"] == ARM_OF[kind]
        assert line["unit_price_before"] == float(PRICES[kind])
        assert line["unit_price_after"] == float(PRICES[ARM_OF[kind]])
        assert provider["hourly_before"] == float(before)
        assert provider["hourly_after"] == float(after)
        assert provider["monthly_before"] == cents(before * 730)
        assert provider["monthly_after"] == cents(after * 730)
        assert provider["monthly_saving"] == cents((before - after) * 730)
    before = sum(b for b, _ in want.values())
    after = sum(a for _, a in want.values())
    total = doc["total"]
    assert total["hourly_before"] == float(before)
    assert total["hourly_after"] == float(after)
    assert total["monthly_before"] == cents(before * 730)
    assert total["monthly_after"] == cents(after * 730)
    assert total["monthly_saving"] == cents((before - after) * 730)
    assert total["saving_percent"] == float(
        ((before - after) / before * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    )
    for step in doc["plan"]:
        share = Decimal(step["arm_weight_percent"]) / 100
        assert step["monthly_saving"] == cents((before - after) * share * 730)


def test_json_figures_match_the_price_table(trading: Cluster) -> None:
    result = run("--cluster", "trading", "--endpoint-url", trading.url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    check_figures(doc, {k: v for k, v in TRADING.items() if k != "arm"})
    assert doc["cluster"] == "trading" and doc["region"] == "us-east-1"
    skipped = {s["provider"]: s["reason"] for s in doc["skipped"]}
    assert skipped["arm"] == "already Graviton (arm64): 2 x m6g.xlarge"
    assert skipped["FARGATE"].startswith("Fargate")
    assert doc["warnings"] == []


def test_console_script_in_a_real_process(trading: Cluster, aws_env: dict[str, str]) -> None:
    args = ("--cluster", "trading", "--endpoint-url", trading.url, "--format", "json")
    proc = run_process(*args, env=aws_env)
    assert proc.returncode == 0, proc.stderr
    check_figures(json.loads(proc.stdout), {k: v for k, v in TRADING.items() if k != "arm"})


def test_text_is_the_default_off_a_terminal(trading: Cluster, aws_env: dict[str, str]) -> None:
    proc = run_process("--cluster", "trading", "--endpoint-url", trading.url, "--plan", env=aws_env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("Graviton savings for ECS cluster trading (us-east-1)\n")
    assert "as of 2026-01-19" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    before, after = expected({"x86-m": TRADING["x86-m"]})["x86-m"]
    assert rows["x86-m"][1:4] == ["m6i.xlarge", "3", "m6g.xlarge"]
    assert rows["x86-m"][6:9] == [
        f"{cents(before * 730):.2f}",
        f"{cents(after * 730):.2f}",
        f"{cents((before - after) * 730):.2f}",
    ]
    assert [rows[f"{w}%"][0] for w in (25, 50, 75, 100)] == ["25%", "50%", "75%", "100%"]
    assert "TOTAL" in rows
    assert "note: skipped arm: already Graviton" in out


def test_rich_table_when_asked(trading: Cluster) -> None:
    result = run("--cluster", "trading", "--endpoint-url", trading.url, "--format", "table")
    assert result.exit_code == 0, result.stderr
    assert "TOTAL" in result.stdout and "x86-m" in result.stdout


def test_service_counts_only_its_providers(trading: Cluster) -> None:
    result = run(
        *("--cluster", "trading", "--service", "api", "--endpoint-url", trading.url),
        *("--format", "json"),
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["service"] == "api"
    check_figures(doc, {"x86-r": TRADING["x86-r"]})
    assert [s["provider"] for s in doc["skipped"]] == ["arm"]


def test_the_shared_example_cluster(moto: str) -> None:
    """The cluster `make demo` and the shift tests use: 2 x m6i.large -> m6g.large."""
    names = make_cluster(moto, "us-east-1", cluster="prod")
    result = run("--cluster", "prod", "--endpoint-url", moto, "--format", "json")
    assert result.exit_code == 0, result.stderr
    check_figures(json.loads(result.stdout), {names["x86_provider"]: ("m6i.large", 2)})


def test_a_region_the_table_only_estimates_says_so(moto: str) -> None:
    # sa-east-1: a region the table's regional source does not cover (its ratio is recalled)
    build_cluster(moto, name="sa", region="sa-east-1", groups={"x86": ("m6i.xlarge", 1)})
    args = ("--cluster", "sa", "--region", "sa-east-1", "--endpoint-url", moto, "--format", "json")
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["region"] == "sa-east-1" and doc["pricing"]["region"] == "sa-east-1"
    (line,) = doc["providers"][0]["lines"]
    assert line["rate_before"].startswith("estimate: us-east-1 list price x")
    assert line["rate_after"].startswith("estimate: us-east-1 list price x")
    (warning,) = [w for w in doc["warnings"] if "m6i.xlarge" in w]
    assert "estimated" in warning and "--pricing live" in warning
    assert f"graviton: warning: {warning}" in result.stderr


def test_a_region_outside_the_table_is_priced_as_us_east_1_with_a_warning(moto: str) -> None:
    region = "mx-central-1"
    build_cluster(moto, name="mx", region=region, groups={"x86": ("m6i.xlarge", 1)})
    args = ("--cluster", "mx", "--region", region, "--endpoint-url", moto, "--format", "json")
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["region"] == region and doc["pricing"]["region"] == "us-east-1"
    (warning,) = [w for w in doc["warnings"] if region in w]
    assert "--pricing live" in warning


def one_line_error(stderr: str, code_text: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("graviton: error: ") and code_text in lines[0]
    assert "Traceback" not in stderr


def test_unknown_cluster_is_a_usage_error(moto: str, aws_env: dict[str, str]) -> None:
    result = run("--cluster", "nope", "--endpoint-url", moto)
    assert result.exit_code == 2
    one_line_error(result.stderr, "ECS cluster 'nope' not found in us-east-1")
    proc = run_process("--cluster", "nope", "--endpoint-url", moto, env=aws_env)
    assert proc.returncode == 2 and proc.stdout == ""
    one_line_error(proc.stderr, "ECS cluster 'nope' not found")


def test_unknown_service_is_a_usage_error(trading: Cluster) -> None:
    result = run("--cluster", "trading", "--service", "nope", "--endpoint-url", trading.url)
    assert result.exit_code == 2
    one_line_error(result.stderr, "ECS service 'nope' not found in cluster 'trading'")


def test_bad_flags_are_usage_errors(moto: str) -> None:
    assert run("--endpoint-url", moto).exit_code == 2  # --cluster is required
    assert run("--cluster", "c", "--pricing", "guess", "--endpoint-url", moto).exit_code == 2
    assert run("--cluster", "c", "--format", "xml", "--endpoint-url", moto).exit_code == 2


def test_unreachable_aws_exits_3(aws_env: dict[str, str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    proc = run_process("--cluster", "trading", "--endpoint-url", closed, env=aws_env)
    assert proc.returncode == 3
    one_line_error(proc.stderr, "ECS DescribeClusters")
    assert proc.stdout == ""


# ------------------------------------------------- groups without instances (desired capacity)


def groups_without_instances(url: str) -> dict[str, dict[str, Any]]:
    """Real groups from moto with their Instances removed: what a scaled-in group looks like."""
    ec2 = client("ec2", url, "us-east-1")
    autoscaling = client("autoscaling", url, "us-east-1")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="api-lt",
        LaunchTemplateData={"ImageId": image, "InstanceType": "r6i.large"},
    )
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId=image, InstanceType="c6i.xlarge"
    )
    common = {"MinSize": 0, "MaxSize": 10, "AvailabilityZones": ["us-east-1a"]}
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="by-template",
        LaunchTemplate={"LaunchTemplateName": "api-lt", "Version": "$Latest"},
        DesiredCapacity=0,
        **common,
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="by-config", LaunchConfigurationName="lc", DesiredCapacity=0, **common
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="mixed",
        MixedInstancesPolicy={
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {
                    "LaunchTemplateName": "api-lt",
                    "Version": "$Latest",
                },
                "Overrides": [
                    {"InstanceType": "m6i.2xlarge", "WeightedCapacity": "2"},
                    {"InstanceType": "m5.2xlarge", "WeightedCapacity": "2"},
                ],
            }
        },
        DesiredCapacity=0,
        **common,
    )
    found = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    return {g["AutoScalingGroupName"]: {**g, "Instances": [], "DesiredCapacity": 5} for g in found}


def test_desired_capacity_priced_from_the_group_configuration(moto: str) -> None:
    groups = groups_without_instances(moto)
    ec2 = client("ec2", moto, "us-east-1")
    autoscaling = client("autoscaling", moto, "us-east-1")

    def fleet(name: str) -> ProviderFleet:
        found = fleet_of(f"cp-{name}", groups[name], ec2=ec2, autoscaling=autoscaling)
        assert isinstance(found, ProviderFleet)
        return found

    template = fleet("by-template")
    assert template.instances == (InstanceCount("r6i.large", 5),)
    assert template.counted_from is CountedFrom.LAUNCH_TEMPLATE
    assert any("desired capacity 5" in note for note in template.notes)

    config = fleet("by-config")
    assert config.instances == (InstanceCount("c6i.xlarge", 5),)
    assert config.counted_from is CountedFrom.LAUNCH_CONFIGURATION

    mixed = fleet("mixed")  # 5 capacity units at 2 units per instance -> 3 instances
    assert mixed.instances == (InstanceCount("m6i.2xlarge", 3),)
    assert mixed.counted_from is CountedFrom.MIXED_INSTANCES_POLICY
    assert any("m5.2xlarge" in note for note in mixed.notes)


def test_unknowable_instance_type_is_skipped_with_the_reason(moto: str) -> None:
    groups = groups_without_instances(moto)
    ec2 = client("ec2", moto, "us-east-1")
    autoscaling = client("autoscaling", moto, "us-east-1")
    gone = {**groups["by-template"], "LaunchTemplate": {"LaunchTemplateName": "deleted"}}
    answer = fleet_of("cp", gone, ec2=ec2, autoscaling=autoscaling)
    assert isinstance(answer, Skipped) and "launch template 'deleted'" in answer.reason
    by_attributes = {
        **groups["mixed"],
        "MixedInstancesPolicy": {
            "LaunchTemplate": {"Overrides": [{"InstanceRequirements": {"VCpuCount": {"Min": 2}}}]}
        },
    }
    configured = configured_types(by_attributes, ec2=ec2, autoscaling=autoscaling)
    assert not configured.options and configured.problem and "attributes" in configured.problem
