"""One savings run, shared by ``graviton savings`` and ``graviton capacity plan``: price book for
the cluster's region (shipped table, or live), rates and discounts applied, the report computed,
stranded commitments read."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from graviton.aws import AwsOptions
from graviton.savings.commitments import commitment_warnings, moving_types, read_reservations
from graviton.savings.pricing import PriceBook, live_prices, pricing_client, shipped_table
from graviton.savings.rates import Rates, apply_rates, load_rates, parse_discount
from graviton.savings.report import Inventory, SavingsReport, compute, needed_types


@dataclass(frozen=True)
class PricingRequest:
    pricing: str = "table"  # "table" | "live"
    rates_file: str | None = None
    discount: str | None = None

    def rates(self) -> Rates:
        """The rates and discounts asked for (UsageError / InputError when malformed)."""
        return Rates(
            rates=load_rates(self.rates_file) if self.rates_file else {},
            discount=parse_discount(self.discount),
            source=self.rates_file,
        )


def price_book(aws: AwsOptions, inventory: Inventory, request: PricingRequest) -> PriceBook:
    rates = request.rates()  # parse before any AWS call: bad input is exit 2, nothing read
    types = needed_types(inventory)
    if request.pricing == "live":
        book = live_prices(pricing_client(aws), inventory.region, types)
    else:
        book = shipped_table(inventory.region)
    return apply_rates(book, rates, types)


def savings_report(
    aws: AwsOptions, inventory: Inventory, request: PricingRequest, ec2: Any
) -> SavingsReport:
    """The report for ``inventory``, with the Reserved Instances the move would strand."""
    report = compute(inventory, price_book(aws, inventory, request))
    moving = moving_types(line for p in report.providers for line in p.lines)
    commitments = commitment_warnings(read_reservations(ec2, moving), moving)
    return dataclasses.replace(report, commitments=tuple(commitments))
