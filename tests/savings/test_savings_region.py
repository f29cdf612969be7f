"""Prices in the cluster's own region, rates and discounts, and stranded Reserved Instances."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import graviton.savings
from graviton.cli import main
from graviton.savings.pricing import REGION_LOCATIONS, PriceBook, regional_book, shipped_table
from tests.savings.conftest import build_cluster
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.moto

ROADMAP = {  # AWS list prices, USD/h, on-demand Linux (issue 11; the field notes)
    "ap-southeast-1": {"r6i.large": "0.152", "r6g.large": "0.1216", "m6i.xlarge": "0.24",
                       "m6g.xlarge": "0.192"},
    "ap-northeast-1": {"r6i.large": "0.152", "m6i.xlarge": "0.248"},
    "us-east-1": {"r6i.large": "0.126", "r6g.large": "0.1008", "m6i.xlarge": "0.192",
                  "m6g.xlarge": "0.154"},
}  # fmt: skip
TABLE = Path(graviton.savings.__file__).with_name("prices.json")
RECALLED = "recalled, approximate: not read from a price list"


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
        assert book.price("c7g.large") is not None and book.price("m8g.large") is not None
        for name in book.prices:  # a list price, or an estimate that says so
            basis = book.basis_of(name)
            if name in book.estimated:
                assert basis.startswith("estimate: us-east-1 list price x"), (region, name)
            else:
                assert basis == f"list price, shipped table ({region})", (region, name)
        if region != "us-east-1":
            assert "m8g.large" in book.estimated  # the 8th generation was not read


def regional_source() -> dict[str, Any]:
    source: dict[str, Any] = json.loads(TABLE.read_text())["regions_source"]
    return source


def test_regions_the_source_covers_are_its_list_prices_and_no_recalled_ratio() -> None:
    source = regional_source()
    assert source["url"].startswith("https://github.com/skypilot-org/skypilot-catalog/")
    assert source["commit"] in source["url"] and source["read"]
    covered = source["regions_from_source"]
    assert {"ap-southeast-1", "eu-west-1", "ap-south-1", "me-south-1"} <= set(covered)
    for region in covered:
        book = shipped_table(region)
        assert "SkyPilot" in book.origin and "recalled" not in book.origin, region
        assert book.price("r6g.large") is not None and "r6g.large" not in book.estimated, region
        assert not any("recalled" in book.basis_of(name) for name in book.prices), region
    # figures of the source (on-demand Linux USD/h), not us-east-1's times a ratio
    assert shipped_table("eu-west-1").price("r6g.large") == Decimal("0.1128")
    assert shipped_table("eu-west-1").price("m6g.xlarge") == Decimal("0.172")
    assert shipped_table("ap-south-1").price("r6g.large") == Decimal("0.065")


def test_an_estimate_takes_the_family_ratio_then_the_architecture_ratio() -> None:
    base = PriceBook(
        region="us-east-1",
        source="table",
        origin="base",
        as_of="2026-01-19",
        prices={"m6i.large": Decimal("0.096"), "m6i.xlarge": Decimal("0.192"),
                "c6i.large": Decimal("0.085"), "c6g.large": Decimal("0.068"),
                "x9z.large": Decimal("0.1")},
    )  # fmt: skip
    entry = {
        "ratio": "1.1",
        "ratio_basis": "median of its family ratios, from its list prices",
        "arch_ratios": {"x86_64": "1.03", "arm64": "0.65"},
        "family_ratios": {"m6i": "1.25"},
        "list_prices": {"m6i.xlarge": "0.24"},
    }
    book = regional_book(base, {"ap-south-1": entry}, "ap-south-1", regional_origin="src")
    assert book.price("m6i.xlarge") == Decimal("0.24") and "m6i.xlarge" not in book.estimated
    # the family's other sizes follow its list prices there
    assert book.price("m6i.large") == Decimal("0.1200")
    assert book.basis_of("m6i.large").endswith("(m6i ratio in ap-south-1, from its list prices)")
    # a family without list prices takes its architecture's ratio: in Mumbai Graviton is ~0.65 of
    # us-east-1's price and x86 ~1.03, so one ratio for both would misstate the saving
    assert book.price("c6i.large") == Decimal("0.0876")
    assert "x86_64 ratio in ap-south-1" in book.basis_of("c6i.large")
    assert book.price("c6g.large") == Decimal("0.0442")
    assert "arm64 ratio in ap-south-1" in book.basis_of("c6g.large")
    assert {"m6i.large", "c6i.large", "c6g.large"} <= book.estimated
    assert book.origin == "base; ap-south-1: 1 list prices from src, the rest estimated " + (
        "(median of its family ratios, from its list prices)"
    )
    # the shipped table: r6g.2xlarge in ap-southeast-1 was not read, r6g's ratio gives AWS's figure
    shipped = shipped_table("ap-southeast-1")
    assert shipped.price("r6g.2xlarge") == Decimal("0.4864")
    for name in shipped.estimated:
        assert re.search(
            r"\((\w+ ratio in ap-southeast-1|ap-southeast-1 ratio)", shipped.basis_of(name)
        )


def test_regions_the_source_does_not_cover_say_their_ratio_is_recalled(moto: str) -> None:
    source = regional_source()
    assert "sa-east-1" in source["regions_with_recalled_ratio"]
    assert "sa-east-1" not in source["regions_from_source"]
    book = shipped_table("sa-east-1")
    assert RECALLED in book.origin and not any(n not in book.estimated for n in book.prices)
    assert book.basis_of("m6g.xlarge").endswith(f"(sa-east-1 ratio: {RECALLED})")
    build_cluster(moto, name="sa", region="sa-east-1", groups={"x86": ("m6i.xlarge", 2)})
    base = ("--cluster", "sa", "--region", "sa-east-1", "--endpoint-url", moto)
    result = run(*base, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert RECALLED in doc["pricing"]["origin"]
    (line,) = doc["providers"][0]["lines"]
    assert line["rate_before"].startswith("estimate:") and RECALLED in line["rate_before"]
    assert line["rate_after"].startswith("estimate:") and RECALLED in line["rate_after"]
    (warning,) = [w for w in doc["warnings"] if "estimated" in w]
    assert "m6i.xlarge" in warning and "m6g.xlarge" in warning and "--pricing live" in warning
    text = run(*base, "--format", "text")
    assert text.exit_code == 0
    assert [w for w in text.stderr.splitlines() if "estimated" in w] == [
        f"graviton: warning: {warning}"
    ]


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


UNKNOWN = "; whether the move strands any is unknown"


def test_an_endpoint_without_reserved_instances_is_one_clean_line(moto: str) -> None:
    """moto does not implement DescribeReservedInstances: it answers HTTP 500 with an HTML page,
    which botocore cannot parse. The line says so, without the page, and the answer stays
    unknown (never "no Reserved Instances")."""
    build_cluster(moto, name="prod", groups={"m": ("m6i.xlarge", 2)})
    result = run("--cluster", "prod", "--endpoint-url", moto)
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("commitment: could not")]
    assert line == (
        "commitment: could not read Reserved Instances: DescribeReservedInstances answered "
        f"something that is not the EC2 API (HTTP 500, an HTML page){UNKNOWN}"
    )
    assert "<" not in result.stdout and "doctype" not in result.stdout.lower()


@pytest.mark.parametrize(
    ("status", "content_type", "body", "kind"),
    [
        (200, "text/html; charset=utf-8", b"<html><body>Sign in to the proxy</body></html>",
         "HTTP 200, an HTML page"),
        (403, "text/plain", b"  <!DOCTYPE html>\n<title>Forbidden</title>",
         "HTTP 403, an HTML page"),
        (200, "text/plain", b"Sign in to the proxy\nsecret-session=abc",
         "HTTP 200, a text/plain answer that is not XML"),
        (200, "text/xml", b"<DescribeReservedInstancesResponse><reservedInstancesSet>",
         "HTTP 200, XML that does not parse"),
        (200, "text/xml", b"", "HTTP 200, an empty answer"),
        (200, "text/xml", b"<?xml version='1.0'?><ListThingsResponse><a/></ListThingsResponse>",
         "HTTP 200, a <ListThingsResponse> document"),
    ],
)  # fmt: skip
def test_an_answer_that_is_not_the_ec2_api_is_named_not_shown(
    moto: str, status: int, content_type: str, body: bytes, kind: str
) -> None:
    """botocore reads a well-formed HTML page (or any XML, or nothing) with status 200 as an
    answer without reservations, and a 4xx page as an error without a code: only EC2's own
    document is believed, anything else is named (never shown) and leaves the answer unknown."""
    build_cluster(moto, name="prod", groups={"m": ("m6i.xlarge", 2)})
    with FaultProxy(moto) as proxy:
        proxy.answer("DescribeReservedInstances", body, content_type=content_type, status=status)
        result = run("--cluster", "prod", "--endpoint-url", proxy.url, "--format", "json")
    assert result.exit_code == 0, result.output
    (unknown, *_) = json.loads(result.stdout)["commitments"]
    assert unknown == (
        "could not read Reserved Instances: DescribeReservedInstances answered something that "
        f"is not the EC2 API ({kind}){UNKNOWN}"
    )
    assert "proxy" not in result.stdout and "Forbidden" not in result.stdout


def test_ec2s_empty_answer_is_no_reserved_instances(moto: str) -> None:
    build_cluster(moto, name="prod", groups={"m": ("m6i.xlarge", 2)})
    empty = (
        RESERVED.split(b"<item>", 1)[0]
        + b"</reservedInstancesSet></DescribeReservedInstancesResponse>"
    )
    with FaultProxy(moto) as proxy:
        proxy.answer("DescribeReservedInstances", empty)
        result = run("--cluster", "prod", "--endpoint-url", proxy.url, "--format", "json")
    assert result.exit_code == 0, result.output
    (plans,) = json.loads(result.stdout)["commitments"]
    assert plans.startswith("Savings Plans: a Compute Savings Plan follows the move")
