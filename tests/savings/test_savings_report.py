from __future__ import annotations

import json
from decimal import Decimal

import pytest

from graviton.savings.pricing import PriceBook
from graviton.savings.render import SCHEMA, to_json, to_text
from graviton.savings.report import (
    Cost,
    InstanceCount,
    Inventory,
    LineStatus,
    ProviderFleet,
    Skipped,
    compute,
    needed_types,
    plan,
)

D = Decimal
PRICES = PriceBook(
    region="us-east-1",
    source="table",
    origin="test",
    as_of="2026-01-19",
    prices={
        "m6i.xlarge": D("0.192"),
        "m6g.xlarge": D("0.154"),
        "r6i.large": D("0.126"),
        "r6g.large": D("0.1008"),
        "c5.9xlarge": D("1.53"),
        "p3.2xlarge": D("3.06"),
        "m5.large": D("0.096"),
    },
)


def inventory(*fleets: ProviderFleet, region: str = "us-east-1") -> Inventory:
    return Inventory(cluster="trading", region=region, fleets=fleets)


def fleet(provider: str, *items: tuple[str, int]) -> ProviderFleet:
    return ProviderFleet(
        provider=provider,
        auto_scaling_group=f"{provider}-asg",
        instances=tuple(InstanceCount(t, n) for t, n in items),
    )


def test_one_provider_before_and_after() -> None:
    report = compute(inventory(fleet("x86", ("m6i.xlarge", 3))), PRICES)
    (provider,) = report.providers
    (line,) = provider.lines
    assert line.status is LineStatus.MOVES
    assert (line.graviton_type, line.count) == ("m6g.xlarge", 3)
    assert provider.cost == Cost(D("0.576"), D("0.462"))
    assert report.total.monthly_before == D("420.48")
    assert report.total.monthly_after == D("337.26")
    assert report.total.monthly_saving == D("83.22")
    assert report.total.saving_percent == D("19.8")
    assert report.warnings == ()


def test_totals_sum_providers_and_types() -> None:
    report = compute(
        inventory(
            fleet("a", ("m6i.xlarge", 3), ("r6i.large", 2)),
            fleet("b", ("r6i.large", 4), ("R6I.LARGE", 1)),  # merged, case-insensitively
        ),
        PRICES,
    )
    a, b = report.providers
    assert [(line.instance_type, line.count) for line in a.lines] == [
        ("m6i.xlarge", 3),
        ("r6i.large", 2),
    ]
    assert [(line.instance_type, line.count) for line in b.lines] == [("r6i.large", 5)]
    before = 3 * D("0.192") + 7 * D("0.126")
    after = 3 * D("0.154") + 7 * D("0.1008")
    assert report.total == Cost(before, after)
    assert report.total.hourly_saving == before - after


def test_no_counterpart_stays_in_both_sums() -> None:
    report = compute(inventory(fleet("x", ("c5.9xlarge", 1), ("p3.2xlarge", 2))), PRICES)
    lines = {line.instance_type: line for line in report.providers[0].lines}
    assert lines["c5.9xlarge"].status is LineStatus.STAYS
    assert lines["p3.2xlarge"].status is LineStatus.STAYS
    assert "no 9xlarge" in (lines["c5.9xlarge"].note or "")
    assert report.total == Cost(D("7.65"), D("7.65"))
    assert report.total.saving_percent == D("0.0")


def test_unpriced_lines_are_left_out_and_warned_about() -> None:
    report = compute(
        inventory(fleet("x", ("m6i.xlarge", 1), ("m7i.large", 2), ("m5.large", 1))), PRICES
    )
    lines = {line.instance_type: line for line in report.providers[0].lines}
    assert lines["m7i.large"].status is LineStatus.UNPRICED  # x86 price missing
    assert lines["m5.large"].status is LineStatus.UNPRICED  # m6g.large price missing
    assert "m6g.large" in (lines["m5.large"].note or "")
    assert report.total == Cost(D("0.192"), D("0.154"))
    assert any("2 x m7i.large" in w for w in report.warnings)
    assert any("1 x m5.large" in w for w in report.warnings)


def test_arm_providers_are_skipped_not_counted() -> None:
    report = compute(
        inventory(fleet("x86", ("m6i.xlarge", 3)), fleet("arm", ("m6g.xlarge", 2))), PRICES
    )
    assert [p.provider for p in report.providers] == ["x86"]
    assert report.skipped == (Skipped("arm", "already Graviton (arm64): 2 x m6g.xlarge"),)
    assert report.total == Cost(D("0.576"), D("0.462"))


def test_mixed_provider_keeps_its_graviton_line_unchanged() -> None:
    report = compute(inventory(fleet("mix", ("m6i.xlarge", 1), ("m6g.xlarge", 1))), PRICES)
    (provider,) = report.providers
    assert provider.architecture == "mixed"
    statuses = {line.instance_type: line.status for line in provider.lines}
    assert statuses == {"m6i.xlarge": LineStatus.MOVES, "m6g.xlarge": LineStatus.ALREADY}
    assert provider.cost == Cost(D("0.192") + D("0.154"), D("0.154") * 2)


def test_table_prices_for_another_region_warn() -> None:
    elsewhere = inventory(fleet("x86", ("m6i.xlarge", 1)), region="eu-west-1")
    (warning,) = compute(elsewhere, PRICES).warnings
    assert "us-east-1" in warning and "eu-west-1" in warning and "--pricing live" in warning
    live = PriceBook(region="eu-west-1", source="live", origin="api", prices=PRICES.prices)
    assert compute(elsewhere, live).warnings == ()


def test_plan_is_the_saving_at_each_arm_weight() -> None:
    total = Cost(D("0.828"), D("0.6636"))
    steps = plan(total)
    assert [s.arm_weight_percent for s in steps] == [25, 50, 75, 100]
    for step in steps:
        w = D(step.arm_weight_percent) / 100
        assert step.hourly_saving == total.hourly_saving * w
        assert step.hourly == total.hourly_before - total.hourly_saving * w
        assert step.monthly_saving == step.hourly_saving * 730
    assert steps[-1].hourly == total.hourly_after
    assert steps[-1].saving_percent == total.saving_percent
    assert plan(total, [0])[0].hourly_saving == 0
    with pytest.raises(ValueError):
        plan(total, [110])


def test_empty_cluster_is_zero_not_an_error() -> None:
    report = compute(inventory(fleet("arm", ("m6g.xlarge", 2))), PRICES)
    assert report.providers == ()
    assert report.total == Cost()
    assert report.total.saving_percent is None
    assert all(step.saving_percent is None for step in report.plan)
    assert "nothing to save" in to_text(report)


def test_needed_types_are_the_inventory_and_its_counterparts() -> None:
    inv = inventory(fleet("a", ("m6i.xlarge", 1), ("p3.2xlarge", 1)), fleet("b", ("m6g.large", 1)))
    assert needed_types(inv) == {"m6i.xlarge", "m6g.xlarge", "p3.2xlarge", "m6g.large"}


def test_json_shape() -> None:
    report = compute(
        inventory(fleet("x86", ("m6i.xlarge", 3)), fleet("arm", ("m6g.xlarge", 2))), PRICES
    )
    doc = json.loads(json.dumps(to_json(report)))
    assert doc["schema"] == SCHEMA
    assert doc["pricing"] == {
        "source": "table",
        "region": "us-east-1",
        "as_of": "2026-01-19",
        "origin": "test",
    }
    assert doc["hours_per_month"] == 730 and doc["currency"] == "USD"
    (provider,) = doc["providers"]
    assert provider["lines"][0] == {
        "instance_type": "m6i.xlarge",
        "count": 3,
        "graviton_type": "m6g.xlarge",
        "status": "moves",
        "unit_price_before": 0.192,
        "unit_price_after": 0.154,
        "note": None,
        "rate_before": "list price, shipped table (us-east-1)",
        "rate_after": "list price, shipped table (us-east-1)",
        "hourly_before": 0.576,
        "hourly_after": 0.462,
        "hourly_saving": 0.114,
        "monthly_before": 420.48,
        "monthly_after": 337.26,
        "monthly_saving": 83.22,
        "saving_percent": 19.8,
    }
    assert doc["total"]["monthly_saving"] == 83.22
    assert doc["skipped"] == [
        {"provider": "arm", "reason": "already Graviton (arm64): 2 x m6g.xlarge"}
    ]
    assert [s["arm_weight_percent"] for s in doc["plan"]] == [25, 50, 75, 100]
    assert doc["plan"][1]["monthly_saving"] == 41.61
