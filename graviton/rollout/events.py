"""What a rollout tells the user: one :class:`Event` per thing that happened, rendered as a
plain line, a JSON object (JSON lines) or the live view (:mod:`graviton.rollout.view`).

JSON lines: every object has ``event`` (the kind), ``time`` (ISO 8601 UTC) and ``service``
(null for run-wide events), plus the fields listed per kind in :data:`KINDS`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from graviton.rollout.plan import format_strategy, strategy_from_api
from graviton.timeutil import utc_timestamp

# kind -> its fields (documented in the README)
KINDS: dict[str, tuple[str, ...]] = {
    "check": ("check", "ok", "detail"),
    "plan": (
        "run",
        "x86_provider",
        "arm_provider",
        "start",
        "steps",
        "bake_s",
        "poll_s",
        "deploy_timeout_s",
        "alarms",
        "dry_run",
    ),
    "resume": ("run", "phase", "step", "note"),
    "lock": ("table", "owner"),
    "step": ("run", "step", "of", "weights", "deployment"),
    "deployment": ("step", "deployment", "state", "running", "desired"),
    "settled": ("step", "deployment", "seconds"),
    "split": ("step", "intended", "running", "arch"),
    "bake": ("step", "seconds", "alarms"),
    "alarm": ("name", "state", "previous", "reason"),
    "tick": ("step", "remaining_s", "alarms", "paused"),
    "good": ("step", "weights"),
    "rollback": ("step", "reason", "weights"),
    "rolled_back": ("failed_step", "reason", "weights"),
    "aborted": ("reason",),
    "done": ("weights",),
    "finalized": ("strategy", "dropped", "scaled_in"),
    "decommission": ("action",),
    "nothing": ("reason",),
    "warning": ("message",),
}

QUIET = frozenset({"tick"})  # live view only: not printed as lines or JSON


def weights(percent: int) -> dict[str, int]:
    return {"x86": 100 - percent, "arm": percent}


def _w(w: Mapping[str, int]) -> str:
    return f"x86 {w['x86']} | ARM {w['arm']}"


@dataclass(frozen=True)
class Event:
    kind: str
    service: str | None
    data: Mapping[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=utc_timestamp)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.kind, "time": self.time, "service": self.service, **self.data}

    def text(self) -> str:
        d = self.data
        who = f"{self.service}: " if self.service else ""
        k = self.kind
        if k == "check":
            label = "FAIL" if not d["ok"] else "WARN" if d.get("warning") else "ok  "
            return f"check {label} {d['check']}: {d['detail']}"
        if k == "plan":
            steps = " -> ".join(f"{s}%" for s in [d["start"], *d["steps"]])
            alarms = ", ".join(d["alarms"]) or "none"
            mode = " (dry run: nothing will be changed)" if d.get("dry_run") else ""
            return (
                f"{who}plan {steps} ARM (x86 {d['x86_provider']}, ARM {d['arm_provider']}); "
                f"bake {d['bake_s']:g}s, poll {d['poll_s']:g}s, deploy timeout "
                f"{d['deploy_timeout_s']:g}s; alarms: {alarms}{mode}"
            )
        if k == "resume":
            return f"{who}{d['note']}"
        if k == "lock":
            return f"{who}lease taken in {d['table']} as {d['owner']}"
        if k == "step":
            dep = d["deployment"]
            return f"{who}step {d['step']}/{d['of']}: {_w(d['weights'])} (deployment {dep})"
        if k == "deployment":
            return (
                f"{who}deployment {d['deployment']}: {d['state']} "
                f"({d['running']}/{d['desired']} running)"
            )
        if k == "settled":
            return f"{who}step {d['step']} settled in {d['seconds']:.1f}s"
        if k == "split":
            intended = ", ".join(f"{p} {n}" for p, n in d["intended"].items())
            running = ", ".join(f"{p} {n}" for p, n in d["running"].items()) or "no tasks seen"
            arch = ", ".join(f"{a} {n}" for a, n in (d.get("arch") or {}).items())
            return f"{who}tasks intended {intended}; running {running}" + (
                f" (by architecture: {arch})" if arch else ""
            )
        if k == "bake":
            alarms = ", ".join(d["alarms"]) or "no alarms"
            return f"{who}baking step {d['step']} for {d['seconds']:g}s, watching {alarms}"
        if k == "alarm":
            reason = f" ({d['reason']})" if d.get("reason") else ""
            return f"{who}alarm {d['name']}: {d['previous'] or 'unknown'} -> {d['state']}{reason}"
        if k == "good":
            return f"{who}step {d['step']} good: {_w(d['weights'])}"
        if k == "rollback":
            return (
                f"{who}step {d['step']} failed: {d['reason']}; rolling back to {_w(d['weights'])}"
            )
        if k == "rolled_back":
            return (
                f"{who}rolled back: step {d['failed_step']} failed ({d['reason']}); "
                f"weights now {_w(d['weights'])}"
            )
        if k == "aborted":
            return f"{who}stopped: {d['reason']}"
        if k == "done":
            return f"{who}done: {_w(d['weights'])}"
        if k == "finalized":
            scaled = "; x86 provider decommissioned, its group at 0" if d.get("scaled_in") else ""
            strategy = format_strategy(strategy_from_api(d["strategy"]), d.get("dropped") or ())
            return f"{who}finalized: strategy {strategy}{scaled}"
        if k == "decommission":
            return f"{who}x86 decommission: {d['action']}"
        if k == "nothing":
            return f"{who}{d['reason']}"
        if k == "warning":
            return f"{who}WARNING {d['message']}"
        return f"{who}{k} {json.dumps(dict(d), default=str)}"


class Sink(Protocol):
    def emit(self, event: Event) -> None: ...

    def close(self) -> None: ...


class TextSink:
    """One plain line per event (not on a TTY, or when asked)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def emit(self, event: Event) -> None:
        if event.kind in QUIET:
            return
        self.stream.write(f"{event.time} {event.text()}\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class JsonSink:
    """``--format json``: one JSON object per event."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def emit(self, event: Event) -> None:
        if event.kind in QUIET:
            return
        self.stream.write(json.dumps(event.to_json(), default=str) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class ListSink:
    """Keeps the events (tests, bench)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events if e.kind not in QUIET]
