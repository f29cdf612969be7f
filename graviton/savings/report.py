"""What moving a cluster's x86 capacity to Graviton saves (pure: plain data in, plain data out).

The inventory (provider -> auto scaling group -> instance types and counts) and a price book go
in; per provider and per instance type the hourly and monthly (730 h, AWS's own convention)
on-demand cost before and after comes out, with totals and the saving at each ARM weight of a
staged shift.

How a line counts:

* ``moves``: has a same-size Graviton counterpart and both are priced: before = x86, after = arm.
* ``stays-x86``: no Graviton counterpart; its cost is in "before" and "after" alike.
* ``already-graviton``: an arm64 type inside an x86 provider; the same cost before and after.
* ``unpriced``: a price is missing; left out of every sum and named in the warnings.

Providers whose every instance type is already Graviton are listed as skipped: they are where
the capacity goes, not what it leaves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from graviton.instances import Arch, architecture, graviton_counterpart
from graviton.savings.pricing import PriceBook

HOURS_PER_MONTH = Decimal(730)
PLAN_WEIGHTS = (25, 50, 75, 100)
_ZERO = Decimal(0)


class LineStatus(StrEnum):
    MOVES = "moves"
    STAYS = "stays-x86"
    ALREADY = "already-graviton"
    UNPRICED = "unpriced"


class CountedFrom(StrEnum):
    """Where an instance count came from (the first is a fact, the others an estimate)."""

    INSTANCES = "instances"
    LAUNCH_TEMPLATE = "launch-template"
    MIXED_INSTANCES_POLICY = "mixed-instances-policy"
    LAUNCH_CONFIGURATION = "launch-configuration"


# ---------------------------------------------------------------------------- inventory (input)


@dataclass(frozen=True)
class InstanceCount:
    instance_type: str
    count: int


@dataclass(frozen=True)
class ProviderFleet:
    """The instances behind one ECS capacity provider (its auto scaling group)."""

    provider: str
    auto_scaling_group: str
    instances: tuple[InstanceCount, ...]
    counted_from: CountedFrom = CountedFrom.INSTANCES
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    provider: str
    reason: str


@dataclass(frozen=True)
class Inventory:
    cluster: str
    region: str
    fleets: tuple[ProviderFleet, ...]
    service: str | None = None
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()


# ------------------------------------------------------------------------------- result (output)


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return (part / whole * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Cost:
    """Hourly on-demand cost before and after the move; monthly figures are 730 hours."""

    hourly_before: Decimal = _ZERO
    hourly_after: Decimal = _ZERO

    @property
    def hourly_saving(self) -> Decimal:
        return self.hourly_before - self.hourly_after

    @property
    def monthly_before(self) -> Decimal:
        return self.hourly_before * HOURS_PER_MONTH

    @property
    def monthly_after(self) -> Decimal:
        return self.hourly_after * HOURS_PER_MONTH

    @property
    def monthly_saving(self) -> Decimal:
        return self.hourly_saving * HOURS_PER_MONTH

    @property
    def saving_percent(self) -> Decimal | None:
        return _pct(self.hourly_saving, self.hourly_before)

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.hourly_before + other.hourly_before, self.hourly_after + other.hourly_after
        )


def _sum(costs: Iterable[Cost]) -> Cost:
    total = Cost()
    for cost in costs:
        total = total + cost
    return total


@dataclass(frozen=True)
class Line:
    instance_type: str
    count: int
    graviton_type: str | None
    status: LineStatus
    unit_price_before: Decimal | None
    unit_price_after: Decimal | None
    note: str | None = None
    rate_before: str | None = None  # which rate priced it (list, estimate, rates file, discount)
    rate_after: str | None = None

    @property
    def cost(self) -> Cost | None:
        """None for an unpriced line: it is in no sum."""
        if self.status is LineStatus.UNPRICED:
            return None
        assert self.unit_price_before is not None and self.unit_price_after is not None
        return Cost(self.count * self.unit_price_before, self.count * self.unit_price_after)


@dataclass(frozen=True)
class ProviderSavings:
    provider: str
    auto_scaling_group: str
    architecture: str  # "x86_64" or "mixed"
    counted_from: CountedFrom
    lines: tuple[Line, ...]
    notes: tuple[str, ...] = ()

    @property
    def cost(self) -> Cost:
        return _sum(line.cost for line in self.lines if line.cost is not None)


@dataclass(frozen=True)
class PlanStep:
    """The cost when ``arm_weight_percent`` of the x86 capacity runs on its Graviton counterpart."""

    arm_weight_percent: int
    hourly: Decimal
    hourly_saving: Decimal
    saving_percent: Decimal | None
    hourly_graviton: Decimal = _ZERO  # the part of ``hourly`` that runs on the Graviton twin

    @property
    def monthly(self) -> Decimal:
        return self.hourly * HOURS_PER_MONTH

    @property
    def hourly_x86(self) -> Decimal:
        return self.hourly - self.hourly_graviton

    @property
    def monthly_graviton(self) -> Decimal:
        return self.hourly_graviton * HOURS_PER_MONTH

    @property
    def monthly_x86(self) -> Decimal:
        return self.hourly_x86 * HOURS_PER_MONTH

    @property
    def monthly_saving(self) -> Decimal:
        return self.hourly_saving * HOURS_PER_MONTH


@dataclass(frozen=True)
class SavingsReport:
    cluster: str
    region: str
    service: str | None
    prices: PriceBook
    providers: tuple[ProviderSavings, ...]
    skipped: tuple[Skipped, ...]
    plan: tuple[PlanStep, ...]
    warnings: tuple[str, ...] = field(default=())
    commitments: tuple[str, ...] = field(default=())  # stranded Reserved Instances, Savings Plans

    @property
    def total(self) -> Cost:
        return _sum(provider.cost for provider in self.providers)


# ------------------------------------------------------------------------------------ compute


def price_line(item: InstanceCount, prices: PriceBook) -> Line:
    """Map one instance type to its counterpart and price both; say at which rates."""
    line = _price_line(item, prices)
    before = prices.basis_of(line.instance_type) if line.unit_price_before is not None else None
    after = None
    if line.unit_price_after is not None:
        after = prices.basis_of(line.graviton_type or line.instance_type)
    return dataclasses.replace(line, rate_before=before, rate_after=after)


def _price_line(item: InstanceCount, prices: PriceBook) -> Line:
    match = graviton_counterpart(item.instance_type)
    name, target = match.instance_type, match.graviton_type
    before = prices.price(name)
    if match.is_graviton:
        status = LineStatus.ALREADY if before is not None else LineStatus.UNPRICED
        note = match.note if before is not None else prices.why_missing(name)
        return Line(name, item.count, None, status, before, before, note)
    if before is None:
        note = _join(match.note, prices.why_missing(name))
        return Line(name, item.count, target, LineStatus.UNPRICED, None, None, note)
    if target is None:
        return Line(name, item.count, None, LineStatus.STAYS, before, before, match.note)
    after = prices.price(target)
    if after is None:
        note = _join(match.note, f"{target}: {prices.why_missing(target)}")
        return Line(name, item.count, target, LineStatus.UNPRICED, before, None, note)
    return Line(name, item.count, target, LineStatus.MOVES, before, after, match.note)


def _join(*parts: str | None) -> str:
    return "; ".join(part for part in parts if part)


def plan(
    total: Cost, weights: Sequence[int] = PLAN_WEIGHTS, moving: Cost | None = None
) -> tuple[PlanStep, ...]:
    """The saving at each ARM weight, assuming capacity follows the tasks it places.

    ECS places tasks by weight ratio and managed scaling sizes each auto scaling group to the
    tasks placed on it, so at ARM weight w% about w% of the x86 capacity runs on Graviton.
    """
    steps = []
    for weight in weights:
        if not 0 <= weight <= 100:
            raise ValueError(f"ARM weight {weight}% is outside 0..100")
        saving = total.hourly_saving * weight / 100
        steps.append(
            PlanStep(
                arm_weight_percent=weight,
                hourly=total.hourly_before - saving,
                hourly_saving=saving,
                saving_percent=_pct(saving, total.hourly_before),
                hourly_graviton=(moving.hourly_after * weight / 100) if moving else _ZERO,
            )
        )
    return tuple(steps)


def compute(inventory: Inventory, prices: PriceBook) -> SavingsReport:
    """The savings report for ``inventory`` priced by ``prices``."""
    providers: list[ProviderSavings] = []
    skipped = list(inventory.skipped)
    warnings = list(inventory.notes)
    if prices.source == "table" and prices.region != inventory.region:
        warnings.append(
            f"prices are the shipped {prices.region} table (as of {prices.as_of}); the cluster "
            f"is in {inventory.region}, where prices differ: use --pricing live for them"
        )
    for fleet in inventory.fleets:
        lines = tuple(price_line(item, prices) for item in _merge(fleet.instances))
        arches = {_arch(line) for line in lines}
        if arches == {Arch.ARM64}:
            held = ", ".join(f"{line.count} x {line.instance_type}" for line in lines)
            skipped.append(Skipped(fleet.provider, f"already Graviton (arm64): {held}"))
            continue
        for line in lines:
            if line.status is LineStatus.UNPRICED:
                warnings.append(
                    f"{fleet.provider}: {line.count} x {line.instance_type} left out of the "
                    f"totals: {line.note}"
                )
        providers.append(
            ProviderSavings(
                provider=fleet.provider,
                auto_scaling_group=fleet.auto_scaling_group,
                architecture="mixed" if Arch.ARM64 in arches else Arch.X86_64.value,
                counted_from=fleet.counted_from,
                lines=lines,
                notes=fleet.notes,
            )
        )
    estimated = sorted(
        {
            name
            for provider in providers
            for line in provider.lines
            if line.status is not LineStatus.UNPRICED
            for name in (line.instance_type, line.graviton_type)
            if name and name in prices.estimated
        }
    )
    if estimated:
        warnings.append(
            f"no list price for {', '.join(estimated)} in {prices.region} in the shipped table: "
            f"estimated from us-east-1's with a regional ratio, each line says which "
            f"(use --pricing live for list prices)"
        )
    total = _sum(provider.cost for provider in providers)
    return SavingsReport(
        cluster=inventory.cluster,
        region=inventory.region,
        service=inventory.service,
        prices=prices,
        providers=tuple(providers),
        skipped=tuple(skipped),
        plan=plan(total, moving=_sum(_moving(providers))),
        warnings=tuple(warnings),
    )


def _moving(providers: Iterable[ProviderSavings]) -> Iterator[Cost]:
    for provider in providers:
        for line in provider.lines:
            if line.status is LineStatus.MOVES and line.cost is not None:
                yield line.cost


def _arch(line: Line) -> Arch:
    return Arch.ARM64 if architecture(line.instance_type) is Arch.ARM64 else Arch.X86_64


def _merge(items: Iterable[InstanceCount]) -> list[InstanceCount]:
    """One line per instance type, largest count first (ties by name) for a stable report."""
    counts: dict[str, int] = {}
    for item in items:
        name = item.instance_type.strip().lower()
        counts[name] = counts.get(name, 0) + item.count
    return [
        InstanceCount(name, n) for name, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    ]


def needed_types(inventory: Inventory) -> set[str]:
    """Every instance type the report prices: the inventory's and their Graviton counterparts."""
    names: set[str] = set()
    for fleet in inventory.fleets:
        for item in fleet.instances:
            match = graviton_counterpart(item.instance_type)
            names.add(match.instance_type)
            if match.graviton_type:
                names.add(match.graviton_type)
    return names
