"""Stranded commitments: Reserved Instances for the x86 types a move leaves behind.

Standard Reserved Instances (and EC2 Instance Savings Plans) are tied to an instance family:
one for m6i does not cover m6g, so moving strands it until it expires. Convertible Reserved
Instances can be exchanged for Graviton ones. Compute Savings Plans follow the move.
"""

from __future__ import annotations

import re
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
    raised: the saving itself does not depend on them)."""
    import botocore.exceptions
    import botocore.parsers

    types = sorted(set(instance_types))
    if not types:
        return Commitments()
    answered: dict[str, Any] = {}  # the last HTTP answer, to tell whether it is the EC2 API
    event = f"before-parse.ec2.{OPERATION}"

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        answered.clear()
        answered.update(response_dict)

    ec2.meta.events.register(event, keep)
    try:
        answer = ec2.describe_reserved_instances(
            Filters=[
                {"Name": "state", "Values": ["active"]},
                {"Name": "instance-type", "Values": types},
            ]
        )
    except botocore.exceptions.ClientError as exc:
        if root_element(answered) != "Response":  # not EC2's error document
            return Commitments(unreadable=not_the_api(answered))
        err = exc.response.get("Error", {})
        return Commitments(
            unreadable=one_line(f"{OPERATION}: {err.get('Code')}: {err.get('Message', exc)}")
        )
    except botocore.parsers.ResponseParserError:
        return Commitments(unreadable=not_the_api(answered, parsed=False))
    except botocore.exceptions.BotoCoreError as exc:
        return Commitments(unreadable=one_line(f"{OPERATION}: {type(exc).__name__}: {exc}", 200))
    finally:
        ec2.meta.events.unregister(event, keep)
    # botocore reads any well-formed XML (an HTML sign-in page too) as an answer with no
    # reservations: only EC2's own response document proves there are none
    if root_element(answered) != f"{OPERATION}Response":
        return Commitments(unreadable=not_the_api(answered))
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


# the first element of an XML document, after its declaration, comments and doctype
_ROOT = re.compile(
    rb"\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!doctype[^>]*>\s*)*<(?:[a-z_][\w.\-]*:)?([a-z_][\w.\-]*)",
    re.IGNORECASE | re.DOTALL,
)


def _head(response: dict[str, Any]) -> bytes:
    body = response.get("body")
    return (
        bytes(body[:4096]).lstrip(b"\xef\xbb\xbf") if isinstance(body, bytes | bytearray) else b""
    )


def root_element(response: dict[str, Any]) -> str | None:
    """The local name of the answer's root element, or None when it does not start as XML."""
    found = _ROOT.match(_head(response))
    return found.group(1).decode("ascii", "replace") if found else None


def not_the_api(response: dict[str, Any], *, parsed: bool = True) -> str:
    """Why an answer is not the EC2 API, from its status, type and first element (the body itself
    is never shown: an HTML error or sign-in page would become the user's line). ``parsed``: False
    when botocore could not parse it."""
    status = response.get("status_code")
    headers = {str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    head = _head(response).strip().lower()
    root = root_element(response)
    if (
        content_type in ("text/html", "application/xhtml+xml")
        or head.startswith(b"<!doctype html")
        or (root or "").lower() == "html"
    ):
        kind = "an HTML page"
    elif not head:
        kind = "an empty answer"
    elif not parsed and (root is not None or "xml" in content_type):
        kind = "XML that does not parse"
    elif root is not None:
        kind = f"a <{one_line(root, 60)}> document"
    else:
        kind = f"a {one_line(content_type or 'untyped', 60)} answer that is not XML"
    where = f"HTTP {status}, " if isinstance(status, int) else ""
    return f"{OPERATION} answered something that is not the EC2 API ({where}{kind})"


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
