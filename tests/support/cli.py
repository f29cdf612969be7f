"""Run the ``graviton`` CLI as a separate process against a moto server, streaming its
``--format json`` events (so a test can act at a given event: set an alarm, kill it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.support.moto_server import FAKE_CREDENTIALS


@dataclass
class Result:
    code: int
    events: list[dict[str, Any]] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""

    def kinds(self) -> list[str]:
        return [e["event"] for e in self.events]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind]


def env_for(region: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, **FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region, "NO_COLOR": "1"}


def graviton(
    args: Sequence[str],
    region: str,
    on_event: Callable[[dict[str, Any], subprocess.Popen[str]], None] | None = None,
    timeout: float = 120,
) -> Result:
    """Run ``python -m graviton.cli ARGS``; JSON lines on stdout are parsed into events and
    passed to ``on_event(event, process)`` as they arrive."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "graviton.cli", *args],
        env=env_for(region),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    result = Result(code=-1)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("{"):
            event = json.loads(line)
            result.events.append(event)
            if on_event is not None:
                on_event(event, proc)
    _, err = proc.communicate(timeout=timeout)
    result.code, result.stdout, result.stderr = proc.returncode, "".join(lines), err
    return result
