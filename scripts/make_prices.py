"""Build the regional part of graviton/savings/prices.json from a regional price list.

    .venv/bin/python scripts/make_prices.py            # rewrite prices.json from the excerpt
    .venv/bin/python scripts/make_prices.py --check    # exit 1 if prices.json is not what it makes
    .venv/bin/python scripts/make_prices.py --source vms.csv   # from the whole upstream file

The us-east-1 list prices (the table's ``prices``) are kept as they are (AWS Price List API as
captured in aws/karpenter-provider-aws, see the table's ``source``). Every other commercial region
gets:

* ``list_prices``: the on-demand Linux list prices the regional source gives for the instance
  families graviton prices (those of the us-east-1 table), plus the few figures of the field notes
  (``NOTED``), which must agree with the source wherever both give one;
* ``family_ratios``: per family with list prices there, the region's price over us-east-1's
  (median over its sizes, four decimals): the table estimates the family's other sizes with it;
* ``arch_ratios``: the median of the family ratios of one architecture (x86_64, arm64), for
  families the source has no price of there (Graviton and x86 differ: in ap-south-1 r6g is 0.64
  of us-east-1's price, r6i 1.03);
* ``ratio``: the median of all family ratios, for an architecture with none.
  A region the source does not cover keeps the ratio of ``RECALLED``, which was recalled from
  memory, not read from a price list, and says so (``ratio_basis``).

The regional source is the SkyPilot catalog (skypilot-org/skypilot-catalog,
``catalogs/v7/aws/vms.csv``: one row per instance type and availability zone, columns
``InstanceType``, ``Price`` (on-demand Linux USD/h), ``Region``; generated from the AWS Price
List). ``scripts/data/skypilot-aws-vms-excerpt.csv`` holds the rows of it read so far, one per
type and region; ``--source`` takes the upstream file (or more excerpts) in the same columns.

Every row is checked: the availability zones of one region must agree, us-east-1 rows must equal
the us-east-1 table, and within a family the price per size unit must agree to 1%, so a
mistyped figure fails the build instead of shipping.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graviton.instances import architecture  # noqa: E402
from graviton.savings.pricing import REGION_LOCATIONS  # noqa: E402

TABLE = ROOT / "graviton" / "savings" / "prices.json"
EXCERPT = ROOT / "scripts" / "data" / "skypilot-aws-vms-excerpt.csv"
BASE_REGION = "us-east-1"

SOURCE_NAME = "SkyPilot catalog (skypilot-org/skypilot-catalog), catalogs/v7/aws/vms.csv"
SOURCE_COMMIT = "001367d22a0033fac286a8c71aeac7109e431bcb"
SOURCE_URL = (
    f"https://github.com/skypilot-org/skypilot-catalog/blob/{SOURCE_COMMIT}/catalogs/v7/aws/vms.csv"
)
SOURCE_READ = "2026-11-29"

# AWS on-demand Linux list prices from the field notes (the company's roadmap figures).
NOTED: dict[str, dict[str, str]] = {
    "ap-southeast-1": {
        "r6i.large": "0.152",
        "r6g.large": "0.1216",
        "m6i.xlarge": "0.24",
        "m6g.xlarge": "0.192",
    },
    "ap-northeast-1": {"r6i.large": "0.152", "m6i.xlarge": "0.248"},
}

# Regions the regional source does not cover: the region's m5.large price over us-east-1's, as an
# engineer recalled it (two decimals). Not read from any price list.
RECALLED: dict[str, str] = {
    "ca-west-1": "1.11", "sa-east-1": "1.59", "eu-central-2": "1.32", "eu-south-2": "1.11",
    "ap-south-2": "1.05", "ap-southeast-4": "1.25", "il-central-1": "1.22",
}  # fmt: skip

RECALLED_BASIS = "recalled, approximate: not read from a price list"
DERIVED_BASIS = "median of its family ratios, from its list prices"
_PLACES = Decimal("0.0001")
_TOLERANCE = Decimal("0.01")


class SourceError(Exception):
    """The regional source contradicts itself, the us-east-1 table or the field notes."""


def read_rows(paths: Iterable[Path]) -> dict[tuple[str, str], Decimal]:
    """(instance type, region) -> on-demand price, one per pair; zones that disagree fail."""
    prices: dict[tuple[str, str], Decimal] = {}
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                name, region = row["InstanceType"].strip(), row["Region"].strip()
                if not row.get("Price", "").strip():
                    continue  # no on-demand price (the catalog leaves some blank)
                price = Decimal(row["Price"].strip())
                if price <= 0:
                    raise SourceError(f"{path.name}: {name} in {region}: price {price}")
                known = prices.setdefault((name, region), price)
                if known != price:
                    raise SourceError(f"{name} in {region}: two prices, {known} and {price}")
    return prices


def family(name: str) -> str:
    return name.split(".", 1)[0]


def size_units(name: str) -> Decimal | None:
    """large = 1, xlarge = 2, 4xlarge = 8, medium = 0.5; None for metal and other odd sizes."""
    size = name.split(".", 1)[1]
    fixed = {"medium": Decimal("0.5"), "large": Decimal(1), "xlarge": Decimal(2)}
    if size in fixed:
        return fixed[size]
    if size.endswith("xlarge") and size[: -len("xlarge")].isdigit():
        return Decimal(size[: -len("xlarge")]) * 2
    return None


def check_sizes(prices: Mapping[str, Decimal], region: str) -> None:
    """Within a family the price per size unit is one figure (to AWS's rounding)."""
    per_family: dict[str, list[tuple[str, Decimal]]] = {}
    for name, price in prices.items():
        units = size_units(name)
        if units is not None:
            per_family.setdefault(family(name), []).append((name, price / units))
    for fam, unit_prices in per_family.items():
        middle = Decimal(statistics.median(price for _, price in unit_prices))
        for name, unit_price in unit_prices:
            if abs(unit_price - middle) > middle * _TOLERANCE:
                raise SourceError(
                    f"{name} in {region}: {unit_price} per size unit, the {fam} family's is "
                    f"{middle}: a mistyped figure?"
                )


def disagreements(
    rows: Mapping[tuple[str, str], Decimal], base: Mapping[str, Decimal]
) -> dict[str, str]:
    """Types whose us-east-1 price in the source is not the table's: the two were taken at
    different times, so the source's other regions are not comparable for them (left out)."""
    return {
        name: f"{price} in the source, {base[name]} in the us-east-1 table"
        for (name, region), price in sorted(rows.items())
        if region == BASE_REGION and name in base and base[name] != price
    }


def _ratio(values: Iterable[Decimal]) -> Decimal:
    return Decimal(statistics.median(values)).quantize(_PLACES)


def build_regions(
    rows: Mapping[tuple[str, str], Decimal],
    base: Mapping[str, Decimal],
    regions: Iterable[str],
    noted: Mapping[str, Mapping[str, str]] = NOTED,
    recalled: Mapping[str, str] = RECALLED,
) -> dict[str, dict[str, Any]]:
    """The ``regions`` part of the table for ``regions`` (pure: plain data in, plain data out)."""
    families = {family(name) for name in base}
    stale = disagreements(rows, base)
    by_region: dict[str, dict[str, Decimal]] = {}
    for (name, region), price in rows.items():
        if family(name) in families and region != BASE_REGION and name not in stale:
            by_region.setdefault(region, {})[name] = price
    for region, figures in noted.items():
        listed = by_region.setdefault(region, {})
        for name, text in figures.items():
            price = Decimal(text)
            if listed.setdefault(name, price) != price:
                raise SourceError(
                    f"{name} in {region}: {listed[name]} in the source, {price} in the notes"
                )
    out: dict[str, dict[str, Any]] = {}
    for region in regions:
        if region == BASE_REGION:
            continue
        listed = by_region.get(region, {})
        check_sizes(listed, region)
        ratios: dict[str, list[Decimal]] = {}
        for name, price in listed.items():
            if name in base:
                ratios.setdefault(family(name), []).append(price / base[name])
        family_ratios = {fam: _ratio(values) for fam, values in sorted(ratios.items())}
        arch_ratios: dict[str, Decimal] = {}
        for fam, value in family_ratios.items():
            arch_ratios.setdefault(architecture(f"{fam}.large").value, value)
        arch_ratios = {
            arch: _ratio(v for f, v in family_ratios.items() if architecture(f"{f}.large") == arch)
            for arch in sorted(arch_ratios)
        }
        if family_ratios:
            ratio, basis = _ratio(family_ratios.values()), DERIVED_BASIS
        elif region in recalled:
            ratio, basis = Decimal(recalled[region]), RECALLED_BASIS
        else:
            raise SourceError(f"{region}: no list price in the source and no recalled ratio")
        out[region] = {
            "ratio": ratio,
            "ratio_basis": basis,
            "arch_ratios": arch_ratios,
            "family_ratios": family_ratios,
            "list_prices": dict(sorted(listed.items())),
        }
    return out


def make_table(table: Mapping[str, Any], sources: Iterable[Path]) -> dict[str, Any]:
    """``table`` (the current prices.json) with its regional part rebuilt from ``sources``."""
    commercial = [region for region in REGION_LOCATIONS if not region.startswith("us-gov")]
    rows = read_rows(sources)
    regions = build_regions(rows, table["prices"], commercial)
    stale = disagreements(rows, table["prices"])
    from_source = sorted(r for r, e in regions.items() if e["ratio_basis"] == DERIVED_BASIS)
    recalled = sorted(r for r, e in regions.items() if e["ratio_basis"] == RECALLED_BASIS)
    out = {k: v for k, v in table.items() if not k.startswith("regions")}
    out["regions_origin"] = (
        f"{SOURCE_NAME} at commit {SOURCE_COMMIT[:12]} (read {SOURCE_READ}, an excerpt) "
        "and the field notes"
    )
    out["regions_source"] = {
        "name": SOURCE_NAME,
        "url": SOURCE_URL,
        "commit": SOURCE_COMMIT,
        "read": SOURCE_READ,
        "what": (
            "On-demand Linux USD/h per instance type and region, generated from the AWS Price "
            "List. Only the rows in scripts/data/skypilot-aws-vms-excerpt.csv were read (the "
            "file could not be fetched whole from this build); the field notes add "
            "ap-southeast-1 and ap-northeast-1 m6i.xlarge. scripts/make_prices.py builds this "
            "part of the table; any price it does not list is an ESTIMATE, reported as one: "
            "us-east-1's price times the family's ratio in that region (from the family's list "
            "prices there), else the architecture's ratio there, else the region's ratio."
        ),
        "regions_from_source": from_source,
        "regions_with_recalled_ratio": recalled,
        "left_out": {
            name: f"{why}: its other regions are left out (estimated)"
            for name, why in stale.items()
        },
        "recalled_ratio": (
            "The region's m5.large on-demand price over us-east-1's, two decimals, as an "
            "engineer recalled it: approximate, recalled, not read from a price list."
        ),
    }
    out["regions"] = regions
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def render(table: Mapping[str, Any]) -> str:
    return json.dumps(_plain(table), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, action="append", help="CSV (default: excerpt)")
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--check", action="store_true", help="exit 1 if the table differs")
    args = parser.parse_args(argv)
    current = json.loads(args.table.read_text(encoding="utf-8"), parse_float=Decimal)
    try:
        text = render(make_table(current, args.source or [EXCERPT]))
    except SourceError as exc:
        print(f"make_prices: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if args.table.read_text(encoding="utf-8") != text:
            print(f"make_prices: {args.table} is not what the source makes", file=sys.stderr)
            return 1
        return 0
    args.table.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
