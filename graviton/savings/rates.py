"""Commitments and negotiated prices: ``--rates FILE`` and ``--discount x86=37%,arm=37%``.

A rates file gives an effective USD/h rate per instance type or per family (a Reserved
Instance's effective rate, a negotiated price); a discount takes a percentage off the list
price of every x86 or every arm64 type. A type's rate is, in order: the rates file's entry for
the type, for its family, the list price less the discount for its architecture, the list
price. The price book records which one each type got (``basis``) so the report can say it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from graviton.errors import InputError, UsageError
from graviton.instances import Arch, architecture, family_of
from graviton.savings.pricing import PriceBook

_DISCOUNT_ITEM = re.compile(r"^\s*(x86|arm)\s*=\s*(\d+(?:\.\d+)?)\s*%?\s*$")


@dataclass(frozen=True)
class Rates:
    """Effective rates by type or family (``rates``) and a discount per architecture (0..1)."""

    rates: Mapping[str, Decimal] = dataclasses.field(default_factory=dict)
    discount: Mapping[Arch, Decimal] = dataclasses.field(default_factory=dict)
    source: str | None = None  # the rates file

    def __bool__(self) -> bool:
        return bool(self.rates or self.discount)


def parse_discount(text: str | None) -> dict[Arch, Decimal]:
    """``x86=37%,arm=37%`` (either may be left out) -> {Arch: 0.37}."""
    if not text:
        return {}
    out: dict[Arch, Decimal] = {}
    for item in text.split(","):
        match = _DISCOUNT_ITEM.match(item)
        if match is None:
            raise UsageError(f"--discount {text!r}: expected x86=N%,arm=N%")
        value = Decimal(match[2])
        if not 0 <= value < 100:
            raise UsageError(f"--discount {item.strip()!r}: must be 0..99.99%")
        arch = Arch.X86_64 if match[1] == "x86" else Arch.ARM64
        out[arch] = value / 100
    return out


def load_rates(path: str) -> dict[str, Decimal]:
    """A JSON object of instance type or family -> USD per hour, e.g.
    ``{"m6i.xlarge": 0.121, "m6g": 0.097}`` (optionally under a ``"rates"`` key)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise InputError(f"cannot read rates file: {exc.strerror}", path=path) from None
    except ValueError as exc:
        raise InputError(f"not JSON: {exc}", path=path) from None
    if isinstance(data, dict) and isinstance(data.get("rates"), dict):
        data = data["rates"]
    if not isinstance(data, dict) or not data:
        raise InputError("expected a JSON object of instance type or family -> USD/h", path=path)
    out: dict[str, Decimal] = {}
    for key, value in data.items():
        name = str(key).strip().lower()
        if "." not in name and family_of(f"{name}.large") is None:
            raise InputError(f"{key!r} is neither an instance type nor a family", path=path)
        if "." in name and family_of(name) is None:
            raise InputError(f"{key!r} is not an instance type", path=path)
        try:
            rate = Decimal(str(value))
        except InvalidOperation:
            rate = Decimal(-1)
        if isinstance(value, bool) or not rate > 0:
            raise InputError(
                f"rate for {key!r} must be a positive number, not {value!r}", path=path
            )
        out[name] = rate
    return out


def apply_rates(book: PriceBook, rates: Rates, types: Iterable[str] = ()) -> PriceBook:
    """``book`` with each type's effective rate; ``basis`` says which rate each type got.
    ``types`` adds names the book may not price that a family rate covers."""
    if not rates:
        return book
    prices = dict(book.prices)
    basis = dict(book.basis)
    where = f" ({rates.source})" if rates.source else ""
    names = set(prices) | {n for n in rates.rates if "." in n} | set(types)
    for name in names:
        family = family_of(name)
        if name in rates.rates:
            prices[name] = rates.rates[name]
            basis[name] = f"rates file{where}: {name}"
        elif family is not None and family in rates.rates:
            prices[name] = rates.rates[family]
            basis[name] = f"rates file{where}: family {family}"
        elif name in prices:
            arch = Arch.ARM64 if architecture(name) is Arch.ARM64 else Arch.X86_64
            cut = rates.discount.get(arch)
            if cut:
                prices[name] = prices[name] * (1 - cut)
                shown = (cut * 100).normalize()
                basis[name] = f"{book.basis_of(name)} less {shown}% ({arch.value} discount)"
    missing = {k: v for k, v in book.missing.items() if k not in prices}
    overridden = {n for n in names if n in rates.rates or family_of(n) in rates.rates}
    return dataclasses.replace(
        book,
        prices=prices,
        basis=basis,
        missing=missing,
        estimated=book.estimated - overridden,
    )
