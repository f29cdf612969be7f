"""The live view on a TTY (rich): per service, step i/n, a weight bar x86|ARM, the deployment
state, running tasks per provider, each alarm's state and the bake countdown. Every event is
printed once above the panel, so after the run the terminal keeps the whole history
(preflight, plan, every step) with the final panel below it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from graviton.rollout.events import Event

_ALARM_STYLE = {"OK": "green", "ALARM": "bold red", "INSUFFICIENT_DATA": "yellow"}


@dataclass
class _ServiceModel:
    name: str
    step: str = "-"
    weights: dict[str, int] = field(default_factory=lambda: {"x86": 100, "arm": 0})
    deployment: str = "-"
    intended: dict[str, int] = field(default_factory=dict)
    running: dict[str, int] = field(default_factory=dict)
    alarms: dict[str, str] = field(default_factory=dict)
    arch: dict[str, int] = field(default_factory=dict)
    bake_ends: float | None = None
    paused: bool = False
    status: str = "starting"


def weight_bar(arm: int, width: int = 40) -> Text:
    arm_cells = round(width * arm / 100)
    bar = Text()
    bar.append("█" * (width - arm_cells), style="blue")
    bar.append("▒" * arm_cells, style="magenta")  # readable without colour too
    return Text.assemble(
        ("x86 ", "blue"), f"{100 - arm:>3} ", bar, f" {arm:>3}", (" ARM", "magenta")
    )


class LiveSink:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.services: dict[str, _ServiceModel] = {}
        self.live = Live(self, console=self.console, refresh_per_second=4, transient=False)
        self.live.start()

    def _model(self, name: str) -> _ServiceModel:
        if name not in self.services:
            self.services[name] = _ServiceModel(name)
        return self.services[name]

    def emit(self, event: Event) -> None:
        d: Any = event.data
        if event.kind != "tick":  # scrolls above the panel: the history stays
            self.console.print(Text(f"{event.time[11:19]} {event.text()}", style="dim"))
        if event.service is None:
            self.live.refresh()
            return
        m = self._model(event.service)
        if event.kind == "plan":
            m.weights = {"x86": 100 - d["start"], "arm": d["start"]}
            m.alarms = dict.fromkeys(d["alarms"], "?")
            m.status = "planned"
        elif event.kind == "step":
            m.step, m.weights, m.status = f"{d['step']}/{d['of']}", d["weights"], "deploying"
            m.bake_ends = None
        elif event.kind == "deployment":
            m.deployment = f"{d['state']} {d['running']}/{d['desired']}"
        elif event.kind == "settled":
            m.deployment = "settled"
        elif event.kind == "split":
            m.intended, m.running = d["intended"], d["running"]
            m.arch = dict(d.get("arch") or {})
        elif event.kind == "bake":
            m.bake_ends, m.status = time.monotonic() + d["seconds"], "baking"
        elif event.kind == "tick":
            m.bake_ends = time.monotonic() + d["remaining_s"]
            m.paused = d["paused"]
            m.alarms.update(d["alarms"])
        elif event.kind == "alarm":
            m.alarms[d["name"]] = d["state"]
        elif event.kind == "good":
            m.status, m.bake_ends = "step good", None
        elif event.kind == "rollback":
            m.status, m.weights, m.bake_ends = "ROLLING BACK", d["weights"], None
        elif event.kind == "rolled_back":
            m.status, m.weights = "ROLLED BACK", d["weights"]
        elif event.kind == "done":
            m.status, m.weights = "done", d["weights"]
        elif event.kind == "aborted":
            m.status = "stopped"
        elif event.kind == "finalized":
            m.status = "finalized"
        self.live.refresh()

    def _panel(self, m: _ServiceModel) -> Panel:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        grid.add_row("step", f"{m.step}   {m.status}")
        grid.add_row("weights", weight_bar(m.weights["arm"]))
        grid.add_row("deployment", m.deployment)
        providers = sorted(set(m.intended) | set(m.running))
        tasks = ", ".join(f"{p} {m.running.get(p, 0)}/{m.intended.get(p, 0)}" for p in providers)
        grid.add_row("tasks", tasks + "  (running/intended)" if tasks else "-")
        if m.arch:
            grid.add_row("arch", ", ".join(f"{a} {n}" for a, n in sorted(m.arch.items())))
        alarms = Text()
        for name, state in m.alarms.items():
            alarms.append(f"{name} ", style="dim")
            alarms.append(f"{state}  ", style=_ALARM_STYLE.get(state, ""))
        grid.add_row("alarms", alarms if m.alarms else Text("none"))
        if m.bake_ends is not None:
            left = max(0.0, m.bake_ends - time.monotonic())
            grid.add_row("bake", f"{left:5.1f}s left" + ("  (paused: no data)" if m.paused else ""))
        return Panel(grid, title=f"graviton shift · {m.name}", expand=False)

    def __rich__(self) -> RenderableType:
        return Group(*[self._panel(m) for m in self.services.values()])

    def close(self) -> None:
        self.live.refresh()
        self.live.stop()
