"""Prices in the cluster's own region, rates and discounts, and stranded Reserved Instances."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from graviton.cli import main
from graviton.savings.pricing import REGION_LOCATIONS, shipped_table
from tests.savings.conftest import build_cluster
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.moto

ROADMAP = {  # AWS list prices, USD/h, on-demand Linux (issue 11; the field notes)
    "ap-southeast-1": {"r6i.large": "0.152", "r6g.large": "0.1216", "m6i.xlarge": "0.24",
                       "m6g.xlarge": "0.192"},
    "us-east-1": {"r6i.large": "0.126", "r6g.large": "0.1008", "m6i.xlarge": "0.192",
                  "m6g.xlarge": "0.154"},
}  # fmt: skip


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["savings", *args])


@pytest.mark.parametrize("region", sorted(ROADMAP))
def test_the_shipped_table_has_the_exact_list_prices(region: str) -> None:
    book = shipped_table(region)
    assert book.region == region
    for name, price in ROADMAP[region].items():
        assert book.price(name) == Decimal(price), name
        assert name not in book.estimated
        assert book.basis_of(name) == f"list price, shipped table ({region})"


def test_every_commercial_region_is_in_the_table_and_estimates_say_so() -> None:
    for region in REGION_LOCATIONS:
        if region.startswith("us-gov"):
            continue
        book = shipped_table(region)
        assert book.region == region, region
        assert book.price("c7g.large") is not None
        if region not in ("us-east-1",):
            assert "c7g.large" in book.estimated
            assert book.basis_of("c7g.large").startswith("estimate: us-east-1 list price x")


def test_ap_southeast_1_cluster_is_priced_from_its_region_without_a_warning(moto: str) -> None:
    region = "ap-southeast-1"
    build_cluster(moto, name="prod", region=region, groups={"cp-x86": ("m6i.xlarge", 2)})
    result = run("--cluster", "prod", "--region", region, "--endpoint-url", moto, "--format",
                 "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["pricing"]["region"] == region and doc["pricing"]["source"] == "table"
    assert doc["total"]["hourly_before"] == 0.48 and doc["total"]["hourly_after"] == 0.384
    assert doc["warnings"] == []
    assert "region" not in result.stderr and "warning" not in result.stderr
    text = run("--cluster", "prod", "--region", region, "--endpoint-url", moto, "--format", "text")
    assert text.exit_code == 0 and "0.4800" in text.stdout and "0.3840" in text.stdout
    assert "m6i.xlarge  0.2400  list price, shipped table (ap-southeast-1)" in text.stdout


def test_discount_and_rates_file_say_which_rate_each_line_used(moto: str, tmp_path: Path) -> None:
    build_cluster(moto, name="prod", groups={"m": ("m6i.xlarge", 2), "r": ("r6i.large", 1)})
    base = ("--cluster", "prod", "--endpoint-url", moto, "--format", "json")
    doc = json.loads(run(*base, "--discount", "x86=37%,arm=37%").stdout)
    lines = {p["provider"]: p["lines"][0] for p in doc["providers"]}
    assert lines["m"]["unit_price_before"] == float(Decimal("0.192") * Decimal("0.63"))
    assert lines["m"]["unit_price_after"] == float(Decimal("0.154") * Decimal("0.63"))
    assert lines["m"]["rate_before"].endswith("less 37% (x86_64 discount)")
    assert lines["m"]["rate_after"].endswith("less 37% (arm64 discount)")

    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps({"m6i.xlarge": 0.121, "m6g": 0.097}))
    result = run(*base, "--rates", str(rates), "--discount", "arm=10%")
    assert result.exit_code == 0, result.output
    lines = {p["provider"]: p["lines"][0] for p in json.loads(result.stdout)["providers"]}
    assert lines["m"]["unit_price_before"] == 0.121
    assert lines["m"]["rate_before"] == f"rates file ({rates}): m6i.xlarge"
    assert lines["m"]["unit_price_after"] == 0.097
    assert lines["m"]["rate_after"] == f"rates file ({rates}): family m6g"
    assert lines["r"]["unit_price_before"] == 0.126  # no x86 discount given
    assert lines["r"]["unit_price_after"] == float(Decimal("0.1008") * Decimal("0.9"))


@pytest.mark.parametrize(
    ("value", "why"),
    [("x86", "expected x86=N%,arm=N%"), ("sparc=5%", "expected x86=N%,arm=N%"),
     ("arm=120%", "must be 0..99.99%")],
)  # fmt: skip
def test_bad_discount_is_a_usage_error(moto: str, value: str, why: str) -> None:
    result = run("--cluster", "prod", "--endpoint-url", moto, "--discount", value)
    assert result.exit_code == 2 and why in result.stderr


def test_bad_rates_file_is_a_usage_error(moto: str, tmp_path: Path) -> None:
    bad = tmp_path / "rates.json"
    bad.write_text(json.dumps({"m6i.xlarge": "cheap"}))
    result = run("--cluster", "prod", "--endpoint-url", moto, "--rates", str(bad))
    assert result.exit_code == 2 and "rates.json" in result.stderr


RESERVED = b"""<?xml version="1.0" encoding="UTF-8"?>
<DescribeReservedInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
<requestId>r</requestId><reservedInstancesSet>
<item><reservedInstancesId>ri-std</reservedInstancesId><instanceType>m6i.xlarge</instanceType>
<instanceCount>2</instanceCount><offeringClass>standard</offeringClass><state>active</state>
<end>2027-03-01T00:00:00.000Z</end><scope>Region</scope></item>
<item><reservedInstancesId>ri-conv</reservedInstancesId><instanceType>m6i.xlarge</instanceType>
<instanceCount>1</instanceCount><offeringClass>convertible</offeringClass><state>active</state>
<end>2028-01-15T00:00:00.000Z</end><scope>Region</scope></item>
</reservedInstancesSet></DescribeReservedInstancesResponse>"""


def test_stranded_reserved_instances_are_listed_with_their_expiry(moto: str) -> None:
    build_cluster(moto, name="prod", groups={"m": ("m6i.xlarge", 2)})
    with FaultProxy(moto) as proxy:
        proxy.answer("DescribeReservedInstances", RESERVED)
        result = run("--cluster", "prod", "--endpoint-url", proxy.url, "--format", "json")
        (body,) = proxy.bodies("DescribeReservedInstances")
    assert result.exit_code == 0, result.output
    assert b"m6i.xlarge" in body and b"active" in body
    commitments = json.loads(result.stdout)["commitments"]
    assert commitments[0] == (
        "2 x m6i.xlarge standard Reserved Instance ri-std (until 2027-03-01) does not cover "
        "m6g.xlarge: moving strands it until it expires"
    )
    assert commitments[1].startswith("1 x m6i.xlarge convertible Reserved Instance ri-conv")
    assert "exchange it for m6g.xlarge" in commitments[1]
    assert "Compute Savings Plan follows the move" in commitments[2]
    assert "EC2 Instance Savings Plan for m6i does not cover" in commitments[2]


def test_unreadable_reserved_instances_are_unknown_not_none(moto: str) -> None:
    build_cluster(moto, name="prod", groups={"m": ("m6i.xlarge", 2)})
    with FaultProxy(moto) as proxy:
        proxy.reject("DescribeReservedInstances", "UnauthorizedOperation", "not allowed")
        result = run("--cluster", "prod", "--endpoint-url", proxy.url, "--format", "json")
    assert result.exit_code == 0, result.output
    (unknown, *_) = json.loads(result.stdout)["commitments"]
    assert "UnauthorizedOperation" in unknown and "unknown" in unknown
