"""Time helpers shared by every capability: one duration parser, one UTC timestamp format."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from graviton.errors import UsageError

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_duration(text: str) -> float:
    """``"10m"`` -> 600.0; ms/s/m/h, compounds like ``1m30s``, or bare seconds.

    The one rule for zero: a duration is greater than zero (a zero bake, poll, timeout or smoke
    run would prove nothing), so ``0``/``0s`` are refused like negative values."""
    raw = text.strip().lower()
    try:
        value = float(raw)
    except ValueError:
        parts = _PART.findall(raw)
        if not parts or "".join(n + u for n, u in parts) != raw:
            raise UsageError(f"not a duration: {text!r} (examples: 10m, 15s, 1m30s)") from None
        value = sum(float(n) * _UNITS[u] for n, u in parts)
    if not math.isfinite(value) or not value > 0:
        raise UsageError(f"not a duration: {text!r} (must be greater than 0)")
    return value


def utc_timestamp(moment: datetime | float | None = None) -> str:
    """RFC 3339 in UTC to the second, ``2026-11-27T10:00:00Z``: of ``moment`` (a datetime, a
    naive one taken as UTC, or seconds since the epoch), or of now. The one timestamp format
    graviton writes."""
    if moment is None:
        moment = datetime.now(UTC)
    elif isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_FORMAT)


def parse_iso(text: str) -> float | None:
    """The epoch seconds of a :func:`utc_timestamp`; None when it is not one."""
    try:
        return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
