"""CloudWatch alarms at the edge: their states, as plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    reason: str = ""


class Alarms:
    def __init__(self, client: Any) -> None:
        self.client = client

    def states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        """The named alarms' states (metric and composite); a missing alarm is absent."""
        out: dict[str, AlarmState] = {}
        wanted = list(dict.fromkeys(names))
        for i in range(0, len(wanted), 100):
            resp = self.client.describe_alarms(
                AlarmNames=wanted[i : i + 100],
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
                MaxRecords=100,
            )
            for alarm in [*resp.get("MetricAlarms", []), *resp.get("CompositeAlarms", [])]:
                name = str(alarm["AlarmName"])
                out[name] = AlarmState(
                    name=name,
                    state=str(alarm.get("StateValue", "INSUFFICIENT_DATA")),
                    reason=str(alarm.get("StateReason", "")),
                )
        return out
