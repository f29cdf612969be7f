"""The savings report as JSON (for dashboards), plain text (pipes, logs) or a rich table (TTY)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from graviton.savings.report import (
    HOURS_PER_MONTH,
    Cost,
    Line,
    LineStatus,
    ProviderSavings,
    SavingsReport,
)

SCHEMA = "graviton.savings/v1"
_CENT = Decimal("0.01")
_HOURLY = Decimal("0.000001")
HEADERS = (
    "provider",
    "instance type",
    "count",
    "graviton",
    "$/h before",
    "$/h after",
    "$/month before",
    "$/month after",
    "saving/month",
    "saving",
)
PLAN_HEADERS = ("ARM weight", "$/h", "$/month", "saving/month", "saving")


# ------------------------------------------------------------------------------------- numbers


def _hourly(value: Decimal) -> float:
    return float(value.quantize(_HOURLY, rounding=ROUND_HALF_UP))


def _maybe_hourly(value: Decimal | None) -> float | None:
    return None if value is None else _hourly(value)


def _monthly(value: Decimal) -> float:
    return float(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _pct(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def fmt_hourly(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):,}"


def fmt_monthly(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):,}"


def fmt_pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{value}%"


# ---------------------------------------------------------------------------------------- JSON


def _cost_json(cost: Cost) -> dict[str, Any]:
    return {
        "hourly_before": _hourly(cost.hourly_before),
        "hourly_after": _hourly(cost.hourly_after),
        "hourly_saving": _hourly(cost.hourly_saving),
        "monthly_before": _monthly(cost.monthly_before),
        "monthly_after": _monthly(cost.monthly_after),
        "monthly_saving": _monthly(cost.monthly_saving),
        "saving_percent": _pct(cost.saving_percent),
    }


def _line_json(line: Line) -> dict[str, Any]:
    cost = line.cost
    return {
        "instance_type": line.instance_type,
        "count": line.count,
        "graviton_type": line.graviton_type,
        "status": line.status.value,
        "unit_price_before": _maybe_hourly(line.unit_price_before),
        "unit_price_after": _maybe_hourly(line.unit_price_after),
        "note": line.note,
        "rate_before": line.rate_before,
        "rate_after": line.rate_after,
        **(_cost_json(cost) if cost is not None else {}),
    }


def to_json(report: SavingsReport) -> dict[str, Any]:
    """The report as a JSON-ready dict; ``schema`` names its shape and version."""
    prices = report.prices
    return {
        "schema": SCHEMA,
        "cluster": report.cluster,
        "service": report.service,
        "region": report.region,
        "currency": "USD",
        "hours_per_month": int(HOURS_PER_MONTH),
        "pricing": {
            "source": prices.source,
            "region": prices.region,
            "as_of": prices.as_of,
            "origin": prices.origin,
        },
        "providers": [
            {
                "provider": provider.provider,
                "auto_scaling_group": provider.auto_scaling_group,
                "architecture": provider.architecture,
                "counted_from": provider.counted_from.value,
                "notes": list(provider.notes),
                "lines": [_line_json(line) for line in provider.lines],
                **_cost_json(provider.cost),
            }
            for provider in report.providers
        ],
        "skipped": [{"provider": s.provider, "reason": s.reason} for s in report.skipped],
        "total": _cost_json(report.total),
        "plan": [
            {
                "arm_weight_percent": step.arm_weight_percent,
                "hourly": _hourly(step.hourly),
                "monthly": _monthly(step.monthly),
                "hourly_saving": _hourly(step.hourly_saving),
                "monthly_saving": _monthly(step.monthly_saving),
                "saving_percent": _pct(step.saving_percent),
                "hourly_x86": _hourly(step.hourly_x86),
                "hourly_graviton": _hourly(step.hourly_graviton),
                "monthly_x86": _monthly(step.monthly_x86),
                "monthly_graviton": _monthly(step.monthly_graviton),
            }
            for step in report.plan
        ],
        "warnings": list(report.warnings),
        "commitments": list(report.commitments),
    }


# ---------------------------------------------------------------------------- rows (text, rich)


def heading(report: SavingsReport) -> str:
    scope = f"ECS cluster {report.cluster}"
    if report.service:
        scope += f", service {report.service}"
    return f"Graviton savings for {scope} ({report.region})"


def price_line(report: SavingsReport) -> str:
    prices = report.prices
    if prices.source == "table":
        return (
            f"On-demand Linux prices in USD from the table shipped with graviton: "
            f"{prices.region}, as of {prices.as_of}. Month = {HOURS_PER_MONTH} hours."
        )
    return (
        f"On-demand Linux prices in USD from the AWS Price List API for {prices.region}. "
        f"Month = {HOURS_PER_MONTH} hours."
    )


def _cost_cells(cost: Cost | None) -> list[str]:
    if cost is None:
        return ["-"] * 6
    return [
        fmt_hourly(cost.hourly_before),
        fmt_hourly(cost.hourly_after),
        fmt_monthly(cost.monthly_before),
        fmt_monthly(cost.monthly_after),
        fmt_monthly(cost.monthly_saving),
        fmt_pct(cost.saving_percent),
    ]


def _target(line: Line) -> str:
    if line.status is LineStatus.ALREADY:
        return "(already)"
    if line.graviton_type is None:
        return "(none)"
    return line.graviton_type


def provider_rows(provider: ProviderSavings) -> list[list[str]]:
    rows = []
    for line in provider.lines:
        what = [provider.provider, line.instance_type, str(line.count), _target(line)]
        rows.append([*what, *_cost_cells(line.cost)])
    if len(provider.lines) > 1:
        rows.append([provider.provider, "subtotal", "", "", *_cost_cells(provider.cost)])
    return rows


def total_row(report: SavingsReport) -> list[str]:
    count = sum(
        line.count
        for provider in report.providers
        for line in provider.lines
        if line.status is not LineStatus.UNPRICED
    )
    return ["TOTAL", "", str(count), "", *_cost_cells(report.total)]


def plan_rows(report: SavingsReport) -> list[list[str]]:
    return [
        [
            f"{step.arm_weight_percent}%",
            fmt_hourly(step.hourly),
            fmt_monthly(step.monthly),
            fmt_monthly(step.monthly_saving),
            fmt_pct(step.saving_percent),
        ]
        for step in report.plan
    ]


def rate_rows(report: SavingsReport) -> list[list[str]]:
    """Each priced instance type once: its hourly rate and which rate that is."""
    seen: dict[str, list[str]] = {}
    for provider in report.providers:
        for line in provider.lines:
            pairs = [(line.instance_type, line.unit_price_before, line.rate_before)]
            if line.graviton_type and line.graviton_type != line.instance_type:
                pairs.append((line.graviton_type, line.unit_price_after, line.rate_after))
            for name, price, rate in pairs:
                if price is not None and rate is not None and name not in seen:
                    seen[name] = [name, fmt_hourly(price), rate]
    return list(seen.values())


def footnotes(report: SavingsReport) -> list[str]:
    notes: list[str] = []
    for provider in report.providers:
        for note in provider.notes:
            notes.append(f"{provider.provider}: {note}")
        for line in provider.lines:
            if line.note and line.status is not LineStatus.UNPRICED:
                target = f" -> {line.graviton_type}" if line.graviton_type else ""
                notes.append(f"{line.instance_type}{target}: {line.note}")
    for skipped in report.skipped:
        notes.append(f"skipped {skipped.provider}: {skipped.reason}")
    if not report.providers:
        notes.append("no x86 capacity provider to move: nothing to save")
    return notes


# ---------------------------------------------------------------------------------- plain text


def _columns(headers: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    numeric = [i >= 2 and headers[i] != "graviton" for i in range(len(headers))]
    if headers == PLAN_HEADERS:
        numeric = [True] * len(headers)

    def fmt(cells: list[str] | tuple[str, ...]) -> str:
        parts = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return [fmt(tuple(h.upper() for h in headers)), *(fmt(row) for row in rows)]


def to_text(report: SavingsReport, *, show_plan: bool = False) -> str:
    out = [heading(report), price_line(report), ""]
    rows = [row for provider in report.providers for row in provider_rows(provider)]
    rows.append(total_row(report))
    out.extend(_columns(HEADERS, rows))
    rates = rate_rows(report)
    if rates:
        out += ["", "Rates used ($/h):"]
        out.extend(f"  {name}  {price}  {rate}" for name, price, rate in rates)
    if show_plan:
        out += ["", "Saving as the ARM weight of the shift grows:"]
        out.extend(_columns(PLAN_HEADERS, plan_rows(report)))
    if report.commitments:
        out += ["", *(f"commitment: {line}" for line in report.commitments)]
    notes = footnotes(report)
    if notes:
        out += ["", *(f"note: {note}" for note in notes)]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------- rich


def to_rich(report: SavingsReport, *, show_plan: bool = False) -> list[Any]:
    """Renderables for a rich console: the provider table, the plan table, the notes."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=heading(report), caption=price_line(report), title_justify="left")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="right" if i >= 2 and header != "graviton" else "left")
    for provider in report.providers:
        rows = provider_rows(provider)
        for j, row in enumerate(rows):
            style = "italic" if row[1] == "subtotal" else None
            table.add_row(*row, style=style, end_section=j == len(rows) - 1)
    table.add_row(*total_row(report), style="bold")
    parts: list[Any] = [table]
    if show_plan:
        plan_table = Table(
            title="Saving as the ARM weight of the shift grows", title_justify="left"
        )
        for header in PLAN_HEADERS:
            plan_table.add_column(header, justify="right")
        for row in plan_rows(report):
            plan_table.add_row(*row)
        parts.append(plan_table)
    for name, price, rate in rate_rows(report):
        parts.append(Text(f"rate: {name} {price} $/h: {rate}", style="dim"))
    for line in report.commitments:
        parts.append(Text(f"commitment: {line}", style="yellow"))
    for note in footnotes(report):
        parts.append(Text(f"note: {note}", style="dim"))
    return parts
