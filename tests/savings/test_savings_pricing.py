from __future__ import annotations

import importlib.util
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

import graviton.savings
from graviton.errors import InputError
from graviton.instances import Arch, architecture, graviton_counterpart
from graviton.savings.pricing import (
    REGION_LOCATIONS,
    live_prices,
    on_demand_price,
    parse_table,
    product_filters,
    shipped_table,
)

TABLE = Path(graviton.savings.__file__).with_name("prices.json")


def raw_table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TABLE.read_text(), parse_float=Decimal)
    return data


def test_shipped_table_is_dated_and_sourced() -> None:
    table = shipped_table()
    assert table.source == "table"
    assert table.region == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table.as_of or "")
    assert "Price List" in table.origin
    assert raw_table()["location"] == REGION_LOCATIONS["us-east-1"]


@pytest.mark.parametrize(
    ("name", "price"),
    [
        # us-east-1 on-demand Linux list prices
        ("m6i.xlarge", "0.192"),
        ("m6g.xlarge", "0.154"),
        ("r6i.large", "0.126"),
        ("r6g.large", "0.1008"),
        ("c6i.large", "0.085"),
        ("c6g.large", "0.068"),
        ("t3.medium", "0.0416"),
        ("t4g.medium", "0.0336"),
    ],
)
def test_known_list_prices(name: str, price: str) -> None:
    assert shipped_table().price(name) == Decimal(price)


def test_table_covers_the_families_the_issue_names() -> None:
    table = shipped_table()
    sizes = ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"]
    families = [
        f"{c}{g}" for c in "cmr" for g in ("5", "5a", "5d", "6i", "6a", "6id", "7i", "7a", "8i")
    ]
    for family in families:
        for size in sizes:
            if family in {"c5", "c5d"} and size in {"8xlarge", "16xlarge"}:
                continue  # c5 and c5d come in 9xlarge and 18xlarge instead
            name = f"{family}.{size}"
            assert table.price(name) is not None, name
            target = graviton_counterpart(name).graviton_type
            assert target is not None and table.price(target) is not None, (name, target)
    for t in ("t3", "t3a", "t4g"):
        for size in ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"):
            assert table.price(f"{t}.{size}") is not None


def test_every_priced_x86_counterpart_is_priced_and_cheaper() -> None:
    """The table is consistent with the mapping: a counterpart we name, we can price."""
    table = shipped_table()
    for name, price in table.prices.items():
        if architecture(name) is not Arch.X86_64:
            continue
        match = graviton_counterpart(name)
        if match.graviton_type is None:
            continue
        after = table.price(match.graviton_type)
        assert after is not None, (name, match.graviton_type)
        if match.note is None:  # an exact match: Graviton is the cheaper of the two
            assert after < price, (name, price, match.graviton_type, after)


def test_within_a_family_price_scales_with_size() -> None:
    table = shipped_table()
    for family in ("m6i", "m6g", "r6i", "r6g", "c7g", "m8g"):
        large = table.price(f"{family}.large")
        assert large is not None
        for mult, size in ((2, "xlarge"), (4, "2xlarge"), (8, "4xlarge"), (32, "16xlarge")):
            assert table.price(f"{family}.{size}") == large * mult, (family, size)


def test_bad_tables_are_refused() -> None:
    good = raw_table()
    with pytest.raises(InputError):
        parse_table({**good, "schema": "other"})
    with pytest.raises(InputError):
        parse_table({**good, "prices": {}})
    with pytest.raises(InputError):
        parse_table({**good, "prices": {"m6i.large": Decimal(-1)}})
    with pytest.raises(InputError):
        parse_table({**good, "prices": {"m6i.large": "cheap"}})


def product(price: str, *, operation: str = "RunInstances", unit: str = "Hrs") -> str:
    """One item of a GetProducts PriceList, in the Price List's own JSON shape."""
    return json.dumps(
        {
            "product": {
                "productFamily": "Compute Instance",
                "attributes": {"instanceType": "m6g.xlarge", "operation": operation},
                "sku": "SKU1",
            },
            "terms": {
                "OnDemand": {
                    "SKU1.JRTCKXETXF": {
                        "priceDimensions": {
                            "SKU1.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": unit,
                                "pricePerUnit": {"USD": price},
                            }
                        }
                    }
                }
            },
        }
    )


def test_on_demand_price_parses_the_price_list() -> None:
    assert on_demand_price([product("0.1540000000")]) == Decimal("0.154")
    # a licensed operation (e.g. with SQL Server) is not the Linux price
    licensed = product("0.9", operation="RunInstances:0102")
    assert on_demand_price([product("0.1540000000"), licensed]) == Decimal("0.154")


def test_on_demand_price_says_why_not() -> None:
    assert "no on-demand" in str(on_demand_price([]))
    assert "no on-demand" in str(on_demand_price([product("0.0000000000")]))
    assert "ambiguous" in str(on_demand_price([product("0.154"), product("0.16")]))


def test_filters_name_the_location_or_fall_back_to_region_code() -> None:
    filters = {f["Field"]: f["Value"] for f in product_filters("m6g.xlarge", "eu-west-1")}
    assert filters == {
        "instanceType": "m6g.xlarge",
        "location": "EU (Ireland)",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    unknown = {f["Field"]: f["Value"] for f in product_filters("m6g.xlarge", "xx-new-1")}
    assert unknown["regionCode"] == "xx-new-1" and "location" not in unknown
    assert all(f["Type"] == "TERM_MATCH" for f in product_filters("m6g.xlarge", "us-east-1"))


def test_live_prices_asks_get_products_per_type() -> None:
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(client)
    for name, answer in (("m6g.xlarge", ["0.1650000000"]), ("m6i.xlarge", ["0.2060000000"])):
        stub.add_response(
            "get_products",
            {"PriceList": [product(p) for p in answer], "FormatVersion": "aws_v1"},
            {
                "ServiceCode": "AmazonEC2",
                "Filters": product_filters(name, "eu-west-1"),
                "FormatVersion": "aws_v1",
            },
        )
    nothing = {"PriceList": [], "FormatVersion": "aws_v1"}
    expected = {"ServiceCode": "AmazonEC2", "Filters": ANY, "FormatVersion": "aws_v1"}
    stub.add_response("get_products", nothing, expected)
    with stub:
        book = live_prices(client, "eu-west-1", ["m6i.xlarge", "m6g.xlarge", "x9.large"])
    stub.assert_no_pending_responses()
    assert book.source == "live" and book.region == "eu-west-1" and book.as_of is None
    assert book.price("m6i.xlarge") == Decimal("0.206")
    assert book.price("m6g.xlarge") == Decimal("0.165")
    assert book.price("x9.large") is None
    assert "x9.large" in book.why_missing("x9.large")


# ------------------------------------------------------------ scripts/make_prices.py (the build)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_prices.py"


def make_prices() -> Any:
    spec = importlib.util.spec_from_file_location("make_prices", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BASE = {"r6g.large": Decimal("0.1008"), "r6g.xlarge": Decimal("0.2016"),
        "m6i.xlarge": Decimal("0.192"), "m6g.metal": Decimal("2.6112")}  # fmt: skip


def write_csv(path: Path, *rows: str) -> Path:
    path.write_text("InstanceType,AcceleratorName,Price,SpotPrice,Region,AvailabilityZone\n"
                    + "\n".join(rows) + "\n")  # fmt: skip
    return path


def test_the_shipped_table_is_what_make_prices_makes_from_its_source() -> None:
    """Nobody edits a regional price by hand: the file is the script's output, byte for byte."""
    assert make_prices().main(["--check"]) == 0


def test_make_prices_reads_upstream_rows_one_per_type_and_region(tmp_path: Path) -> None:
    mp = make_prices()
    csv_path = write_csv(
        tmp_path / "vms.csv",
        "r6g.large,,0.1216,0.0607,ap-southeast-1,apse1-az1",
        "r6g.large,,0.1216,0.0195,ap-southeast-1,apse1-az2",
        "r6g.xlarge,,0.2432,0.08,ap-southeast-1,apse1-az1",
        "r6g.large,,0.1008,0.03,us-east-1,use1-az1",
        "m6g.metal,,2.464,0.5,us-east-1,use1-az1",
        "m6g.metal,,3.072,0.5,ap-southeast-1,apse1-az1",
        "p4d.24xlarge,,40.0,9.0,ap-southeast-1,apse1-az1",
    )
    regions = mp.build_regions(mp.read_rows([csv_path]), BASE, ["us-east-1", "ap-southeast-1"],
                               noted={}, recalled={})  # fmt: skip
    (entry,) = regions.values()
    assert entry["list_prices"] == {"r6g.large": Decimal("0.1216"), "r6g.xlarge": Decimal("0.2432")}
    assert entry["family_ratios"] == {"r6g": Decimal("1.2063")}
    assert entry["arch_ratios"] == {"arm64": Decimal("1.2063")}
    assert entry["ratio_basis"] == mp.DERIVED_BASIS
    # a type the table prices differently in us-east-1 (another price generation) is left out
    assert "m6g.metal" not in entry["list_prices"]
    assert mp.disagreements(mp.read_rows([csv_path]), BASE) == {
        "m6g.metal": "2.464 in the source, 2.6112 in the us-east-1 table"
    }


@pytest.mark.parametrize(
    ("rows", "noted", "why"),
    [
        (("r6g.large,,0.1216,0,ap-southeast-1,a", "r6g.large,,0.1261,0,ap-southeast-1,b"), {},
         "two prices, 0.1216 and 0.1261"),
        (("r6g.large,,0.1216,0,ap-southeast-1,a", "r6g.xlarge,,0.2342,0,ap-southeast-1,a",
          "r6g.4xlarge,,0.9728,0,ap-southeast-1,a"), {}, "r6g.xlarge in ap-southeast-1"),
        (("r6g.large,,0.125,0,ap-southeast-1,a",), {"ap-southeast-1": {"r6g.large": "0.1216"}},
         "0.125 in the source, 0.1216 in the notes"),
        (("r6g.large,,0.1216,0,eu-west-9,a",), {}, "ap-southeast-1: no list price"),
    ],
)  # fmt: skip
def test_make_prices_refuses_a_source_that_contradicts_itself_or_the_notes(
    tmp_path: Path, rows: tuple[str, ...], noted: dict[str, dict[str, str]], why: str
) -> None:
    mp = make_prices()
    with pytest.raises(mp.SourceError, match=re.escape(why)):
        mp.build_regions(mp.read_rows([write_csv(tmp_path / "v.csv", *rows)]), BASE,
                         ["ap-southeast-1"], noted=noted, recalled={})  # fmt: skip


def test_a_region_without_source_rows_keeps_a_ratio_labelled_recalled(tmp_path: Path) -> None:
    mp = make_prices()
    rows = mp.read_rows([write_csv(tmp_path / "v.csv", "r6g.large,,0.1216,0,ap-southeast-1,a")])
    recalled = {"sa-east-1": "1.59", "ap-southeast-1": "9.99"}
    regions = mp.build_regions(
        rows, BASE, ["ap-southeast-1", "sa-east-1"], noted={}, recalled=recalled
    )
    assert regions["sa-east-1"]["ratio"] == Decimal("1.59")
    assert regions["sa-east-1"]["ratio_basis"] == mp.RECALLED_BASIS
    assert regions["ap-southeast-1"]["ratio"] == Decimal("1.2063")  # the source wins
    assert set(mp.RECALLED).isdisjoint(raw_table()["regions_source"]["regions_from_source"])


def test_make_prices_check_fails_on_a_hand_edited_table(tmp_path: Path) -> None:
    mp = make_prices()
    edited = raw_table()
    edited["regions"]["ap-southeast-1"]["list_prices"]["r6g.large"] = Decimal("0.12")
    table = tmp_path / "prices.json"
    table.write_text(mp.render(edited))
    assert mp.main(["--check", "--table", str(table)]) == 1
