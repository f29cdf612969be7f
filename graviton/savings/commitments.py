"""Stranded commitments: Reserved Instances for the x86 types a move leaves behind.

Standard Reserved Instances (and EC2 Instance Savings Plans) are tied to an instance family:
one for m6i does not cover m6g, so moving strands it until it expires. Convertible Reserved
Instances can be exchanged for Graviton ones. Compute Savings Plans follow the move.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graviton.errors import one_line
from graviton.instances import family_of, graviton_counterpart
from graviton.savings.report import Line, LineStatus

OPERATION = "DescribeReservedInstances"


@dataclass(frozen=True)
class Reservation:
    reservation_id: str
    instance_type: str
    count: int
    offering_class: str  # "standard" | "convertible"
    end: str  # ISO date it expires
    scope: str = "Region"


@dataclass(frozen=True)
class Commitments:
    """What DescribeReservedInstances said (``reservations``), or why it could not be read
    (``unreadable``: one line that names the operation)."""

    reservations: tuple[Reservation, ...] = ()
    unreadable: str | None = None


def read_reservations(ec2: Any, instance_types: Iterable[str]) -> Commitments:
    """Active Reserved Instances of ``instance_types`` (one call; failures are reported, not
    raised: the saving itself does not depend on them). ``ec2`` is a client of
    :meth:`graviton.aws.AwsOptions.client`: an answer that is not EC2's own document (an HTML
    sign-in page read as "no reservations") is an error, never an empty list."""
    import botocore.exceptions
    import botocore.parsers

    types = sorted(set(instance_types))
    if not types:
        return Commitments()
    try:
        answer = ec2.describe_reserved_instances(
            Filters=[
                {"Name": "state", "Values": ["active"]},
                {"Name": "instance-type", "Values": types},
            ]
        )
    except botocore.exceptions.ClientError as exc:
        err = exc.response.get("Error", {})
        return Commitments(
            unreadable=one_line(f"{OPERATION}: {err.get('Code')}: {err.get('Message', exc)}")
        )
    except botocore.parsers.ResponseParserError:  # its message carries the body: not shown
        return Commitments(unreadable=f"{OPERATION}: EC2 answered something that could not be read")
    except botocore.exceptions.BotoCoreError as exc:
        return Commitments(unreadable=one_line(str(exc), 200))
    found = []
    for item in answer.get("ReservedInstances", []):
        end = item.get("End")
        found.append(
            Reservation(
                reservation_id=str(item.get("ReservedInstancesId", "?")),
                instance_type=str(item.get("InstanceType", "?")),
                count=int(item.get("InstanceCount") or 0),
                offering_class=str(item.get("OfferingClass") or "standard"),
                end=end.date().isoformat() if hasattr(end, "date") else str(end or "?"),
                scope=str(item.get("Scope") or "Region"),
            )
        )
    return Commitments(tuple(r for r in found if r.instance_type in types))


def commitment_warnings(commitments: Commitments, moving: Sequence[str]) -> list[str]:
    """One line per active reservation of a type being moved, and what becomes of it; and what
    Savings Plans do (they cannot be read per type, so it is said once per family)."""
    if not moving:
        return []
    lines: list[str] = []
    if commitments.unreadable:
        lines.append(
            f"could not read Reserved Instances: {commitments.unreadable}; whether the move "
            "strands any is unknown"
        )
    for ri in sorted(commitments.reservations, key=lambda r: (r.end, r.reservation_id)):
        target = graviton_counterpart(ri.instance_type).graviton_type or "Graviton"
        if ri.offering_class == "convertible":
            lines.append(
                f"{ri.count} x {ri.instance_type} convertible Reserved Instance "
                f"{ri.reservation_id} (until {ri.end}): exchange it for {target} to keep the "
                "discount"
            )
        else:
            lines.append(
                f"{ri.count} x {ri.instance_type} standard Reserved Instance {ri.reservation_id} "
                f"(until {ri.end}) does not cover {target}: moving strands it until it expires"
            )
    families = sorted({f for f in (family_of(t) for t in moving) if f})
    if families:
        lines.append(
            f"Savings Plans: a Compute Savings Plan follows the move; an EC2 Instance Savings "
            f"Plan for {', '.join(families)} does not cover the Graviton family"
        )
    return lines


def moving_types(lines: Iterable[Line]) -> list[str]:
    """The x86 types of the report's lines that move to Graviton."""
    return sorted({line.instance_type for line in lines if line.status is LineStatus.MOVES})
