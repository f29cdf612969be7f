"""On-demand Linux prices: the dated table shipped with graviton, or live from the AWS Pricing API.

The shipped table (``prices.json`` next to this module, built by ``scripts/make_prices.py``)
holds us-east-1's list prices with their date and source and, for every other commercial region,
the list prices its regional source gives and ratios to us-east-1 (per family, and for the
region): any other price there is an estimate (us-east-1's times the ratio) and is reported as
one, with where its ratio came from. ``graviton savings`` runs without credentials and says how
old its figures are.
``--pricing live`` asks the Price List API (``pricing:GetProducts``) for exactly the instance
types in the report, in the cluster's region.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from graviton.aws import AwsOptions, aws_errors
from graviton.errors import InputError
from graviton.instances import architecture, family_of

TABLE_RESOURCE = "prices.json"
TABLE_SCHEMA = "graviton.prices/v1"
# The Price List API is served from these regions only; us-east-1 answers for every region.
PRICING_API_REGION = "us-east-1"

# Region code -> the "location" attribute the Price List API uses for EC2 products.
REGION_LOCATIONS: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "ca-central-1": "Canada (Central)",
    "ca-west-1": "Canada West (Calgary)",
    "sa-east-1": "South America (Sao Paulo)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-central-2": "EU (Zurich)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",
    "eu-south-2": "EU (Spain)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-south-2": "Asia Pacific (Hyderabad)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-southeast-3": "Asia Pacific (Jakarta)",
    "ap-southeast-4": "Asia Pacific (Melbourne)",
    "me-south-1": "Middle East (Bahrain)",
    "me-central-1": "Middle East (UAE)",
    "il-central-1": "Israel (Tel Aviv)",
    "af-south-1": "Africa (Cape Town)",
    "us-gov-west-1": "AWS GovCloud (US-West)",
    "us-gov-east-1": "AWS GovCloud (US-East)",
}


@dataclass(frozen=True)
class PriceBook:
    """Hourly on-demand USD prices for one region, and where they came from."""

    region: str
    source: str  # "table" or "live"
    origin: str  # human-readable provenance
    prices: Mapping[str, Decimal]
    as_of: str | None = None  # the table's date; None for live prices (they are "now")
    missing: Mapping[str, str] = dataclasses.field(default_factory=dict)  # type -> why unpriced
    # type -> the rate it was priced at, when not the book's plain source (an estimate, a rates
    # file entry, a discount)
    basis: Mapping[str, str] = dataclasses.field(default_factory=dict)
    estimated: frozenset[str] = frozenset()  # types whose price is a regional estimate

    def price(self, instance_type: str) -> Decimal | None:
        return self.prices.get(instance_type)

    def basis_of(self, instance_type: str) -> str:
        """Which rate ``instance_type`` was priced at, in a few words."""
        if instance_type in self.basis:
            return self.basis[instance_type]
        if self.source == "table":
            return f"list price, shipped table ({self.region})"
        return f"list price, live ({self.region})"

    def why_missing(self, instance_type: str) -> str:
        if instance_type in self.missing:
            return self.missing[instance_type]
        if self.source == "table":
            return f"not in the shipped price table ({self.region}, {self.as_of})"
        return f"no on-demand Linux price in {self.region}"


def shipped_table(region: str | None = None) -> PriceBook:
    """The price table packaged with graviton, for ``region`` when the table covers it (else
    its base region, us-east-1: :func:`graviton.savings.report.compute` then warns)."""
    resource = resources.files("graviton.savings").joinpath(TABLE_RESOURCE)
    try:
        data = json.loads(resource.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable price table: {exc}", path=str(resource)) from None
    book = parse_table(data, where=str(resource))
    if region is None or region == book.region:
        return book
    return regional_book(
        book,
        data.get("regions") or {},
        region,
        where=str(resource),
        regional_origin=str(data.get("regions_origin") or "the table's regional list prices"),
    )


_ESTIMATE_PLACES = Decimal("0.0001")


def regional_book(
    base: PriceBook,
    regions: Mapping[str, Any],
    region: str,
    *,
    where: str = TABLE_RESOURCE,
    regional_origin: str = "the table's regional list prices",
) -> PriceBook:
    """``base`` (us-east-1) carried to ``region``: its list prices there where the table has
    them; else an estimate (four decimals, marked in ``basis`` and ``estimated``): the base price
    times the family's ratio in that region (from the family's list prices there), else the
    architecture's ratio there, else the region's ratio, whose provenance (``ratio_basis``) the
    basis repeats."""
    entry = regions.get(region)
    if not isinstance(entry, Mapping):
        return base
    try:
        ratio = Decimal(entry["ratio"])
        exact = {str(k): Decimal(v) for k, v in (entry.get("list_prices") or {}).items()}
        by_family = {str(k): Decimal(v) for k, v in (entry.get("family_ratios") or {}).items()}
        by_arch = {str(k): Decimal(v) for k, v in (entry.get("arch_ratios") or {}).items()}
        ratio_basis = str(entry.get("ratio_basis") or "approximate")
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise InputError(f"bad entry for region {region}", path=where) from None
    prices: dict[str, Decimal] = dict(exact)
    basis: dict[str, str] = {}
    estimated: set[str] = set()
    for name, value in base.prices.items():
        if name in prices:
            continue
        family, arch = family_of(name) or "", architecture(name).value
        if family in by_family:
            factor, why = by_family[family], f"{family} ratio in {region}, from its list prices"
        elif arch in by_arch:
            factor, why = by_arch[arch], f"{arch} ratio in {region}: {ratio_basis}"
        else:
            factor, why = ratio, f"{region} ratio: {ratio_basis}"
        prices[name] = (value * factor).quantize(_ESTIMATE_PLACES)
        basis[name] = f"estimate: {base.region} list price x {factor} ({why})"
        estimated.add(name)
    return PriceBook(
        region=region,
        source="table",
        origin=(
            f"{base.origin}; {region}: {len(exact)} list prices from {regional_origin}, "
            f"the rest estimated ({ratio_basis})"
            if exact
            else f"{base.origin}; {region}: no list prices, all estimated ({ratio_basis})"
        ),
        prices=prices,
        as_of=base.as_of,
        basis=basis,
        estimated=frozenset(estimated),
    )


def parse_table(data: Any, *, where: str = TABLE_RESOURCE) -> PriceBook:
    if not isinstance(data, dict) or data.get("schema") != TABLE_SCHEMA:
        raise InputError(f"not a {TABLE_SCHEMA} price table", path=where)
    raw = data.get("prices")
    if not isinstance(raw, dict) or not raw:
        raise InputError("price table has no prices", path=where)
    prices: dict[str, Decimal] = {}
    for name, value in raw.items():
        if not isinstance(value, Decimal | int) or value <= 0:
            raise InputError(f"bad price for {name}: {value!r}", path=where)
        prices[str(name)] = Decimal(value)
    return PriceBook(
        region=str(data["region"]),
        source="table",
        origin=str(data.get("source", "")),
        prices=prices,
        as_of=str(data["as_of"]),
    )


def product_filters(instance_type: str, region: str) -> list[dict[str, str]]:
    """GetProducts filters selecting the Linux, shared-tenancy, on-demand product of one type."""
    where = (
        {"Field": "location", "Value": REGION_LOCATIONS[region]}
        if region in REGION_LOCATIONS
        else {"Field": "regionCode", "Value": region}
    )
    terms = [
        {"Field": "instanceType", "Value": instance_type},
        where,
        {"Field": "operatingSystem", "Value": "Linux"},
        {"Field": "tenancy", "Value": "Shared"},
        {"Field": "preInstalledSw", "Value": "NA"},
        {"Field": "capacitystatus", "Value": "Used"},
    ]
    return [{"Type": "TERM_MATCH", **term} for term in terms]


def on_demand_price(price_list: Iterable[str | Mapping[str, Any]]) -> Decimal | str:
    """The hourly USD on-demand price in a GetProducts ``PriceList``, or why there is none.

    Only products whose ``operation`` is plain ``RunInstances`` (Linux with no licence) count;
    several distinct prices mean the filters were not specific enough, which is reported rather
    than guessed.
    """
    found: set[Decimal] = set()
    for item in price_list:
        product = json.loads(item) if isinstance(item, str) else item
        attributes = product.get("product", {}).get("attributes", {})
        if attributes.get("operation", "RunInstances") != "RunInstances":
            continue
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                usd = dimension.get("pricePerUnit", {}).get("USD")
                unit = dimension.get("unit", "Hrs")
                try:
                    value = Decimal(str(usd))
                except (InvalidOperation, ValueError):
                    continue
                if unit in {"Hrs", "Hours"} and value > 0:
                    found.add(value)
    if not found:
        return "no on-demand Linux price in the Price List"
    if len(found) > 1:
        listed = ", ".join(str(v.normalize()) for v in sorted(found))
        return f"ambiguous on-demand prices in the Price List ({listed})"
    return found.pop()


def live_prices(client: Any, region: str, instance_types: Iterable[str]) -> PriceBook:
    """Ask the Price List API for each instance type (one GetProducts query per type)."""
    prices: dict[str, Decimal] = {}
    missing: dict[str, str] = {}
    paginator = client.get_paginator("get_products")
    for instance_type in sorted(set(instance_types)):
        items: list[str] = []
        pages = paginator.paginate(
            ServiceCode="AmazonEC2",
            Filters=product_filters(instance_type, region),
            FormatVersion="aws_v1",
        )
        with aws_errors(f"AWS Pricing API: price of {instance_type}"):
            for page in pages:
                items.extend(page.get("PriceList", []))
        answer = on_demand_price(items)
        if isinstance(answer, Decimal):
            prices[instance_type] = answer
        else:
            missing[instance_type] = f"{answer} ({instance_type}, {region})"
    return PriceBook(
        region=region,
        source="live",
        origin="AWS Price List API (pricing:GetProducts, AmazonEC2 on-demand, Linux, shared)",
        prices=prices,
        missing=missing,
    )


def pricing_client(aws: AwsOptions) -> Any:
    """A Pricing API client: the API lives in us-east-1 whatever region the cluster is in."""
    with aws_errors("AWS Pricing API"):
        return dataclasses.replace(aws, region=PRICING_API_REGION).client("pricing")
