"""CloudWatch alarms at the edge: their states and state-change history, as plain data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from graviton.rollout.bake import AlarmReading

AlarmState = AlarmReading  # the name the preflight and status code use


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return None


class Alarms:
    def __init__(self, client: Any) -> None:
        self.client = client

    def states(self, names: Sequence[str]) -> dict[str, AlarmReading]:
        """The named alarms' states (metric and composite); a missing alarm is absent."""
        out: dict[str, AlarmReading] = {}
        wanted = list(dict.fromkeys(names))
        for i in range(0, len(wanted), 100):
            resp = self.client.describe_alarms(
                AlarmNames=wanted[i : i + 100],
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
                MaxRecords=100,
            )
            for alarm in [*resp.get("MetricAlarms", []), *resp.get("CompositeAlarms", [])]:
                name = str(alarm["AlarmName"])
                out[name] = AlarmReading(
                    name=name,
                    state=str(alarm.get("StateValue", "INSUFFICIENT_DATA")),
                    # the last change of StateValue (StateUpdatedTimestamp also moves with the
                    # evaluation state); older APIs and moto give only the latter
                    updated=_epoch(
                        alarm.get("StateTransitionedTimestamp")
                        or alarm.get("StateUpdatedTimestamp")
                    ),
                    reason=str(alarm.get("StateReason", "")),
                )
        return out

    def entered_since(self, name: str, since: float) -> tuple[str, ...] | None:
        """The states ``name`` entered after ``since`` (its StateUpdate history), or None when
        the history cannot be read (the caller then fails closed)."""
        import botocore.exceptions

        try:
            resp = self.client.describe_alarm_history(
                AlarmName=name,
                HistoryItemType="StateUpdate",
                StartDate=datetime.fromtimestamp(since, UTC),
                MaxRecords=100,
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            return None
        return tuple(_new_state(item) for item in resp.get("AlarmHistoryItems", []))


def _new_state(item: dict[str, Any]) -> str:
    """The state a StateUpdate history item entered (``?`` when it cannot be told: the bake
    then treats it as not proven)."""
    try:
        return str(json.loads(item.get("HistoryData") or "")["newState"]["stateValue"])
    except (ValueError, KeyError, TypeError):
        summary = str(item.get("HistorySummary", ""))  # "Alarm updated from OK to ALARM"
        return summary.rsplit(" to ", 1)[-1].strip() if " to " in summary else "?"
