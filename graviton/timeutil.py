"""Time helpers shared by every command: the one timestamp format graviton writes."""

from __future__ import annotations

import datetime as dt


def utc_timestamp(moment: dt.datetime | float | None = None) -> str:
    """RFC 3339 in UTC to the second, ``2026-11-27T10:00:00Z``: of ``moment`` (a datetime, a
    naive one taken as UTC, or seconds since the epoch), or of now."""
    if moment is None:
        moment = dt.datetime.now(dt.UTC)
    elif isinstance(moment, int | float):
        moment = dt.datetime.fromtimestamp(moment, dt.UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
