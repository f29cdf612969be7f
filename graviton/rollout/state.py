"""The rollout's state, stored on the ECS service as tags so any machine can read it.

Real ECS tag values hold at most 256 characters of letters, digits, spaces and
``_ . : / = + - @`` (keys at most 128); moto does not enforce this, so every tag written is
checked here first. Free text (alarm names, reasons) is made to fit before it is checked.

Example (a run at step 2 of 4, baking)::

    graviton:run        r20261128T000949-3f2a
    graviton:phase      baking
    graviton:steps      25 50 75 100
    graviton:step       2/4
    graviton:start      0
    graviton:weights    x86=50 arm=50
    graviton:last-good  x86=75 arm=25
    graviton:x86        prod-x86          (the x86 capacity provider)
    graviton:arm        prod-graviton     (the ARM capacity provider)
    graviton:updated    2026-11-28T00:09:49Z
    graviton:failed     step 2/4                      (after a rollback)
    graviton:reason     alarm orders-5xx-rate is ALARM (after a rollback)
    graviton:deployment ecs-svc/1234567890123          (the step's deployment, once settled)
    graviton:lock       graviton-locks                 (the lease table of the controller)
    graviton:expect     2026-11-28T00:21:04Z           (a live controller writes again by then)
    graviton:config-1   eJyrVkrOz8...                  (the service's own deployment
                                                        configuration, restored at the end:
                                                        zlib + base64, in 1..4 tags)

ECS allows 50 tags per resource: :func:`tags_needed` is what a run may write at most, counted
by preflight against the service's own tags before anything is changed.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from graviton.errors import GravitonError

PREFIX = "graviton:"
MAX_KEY = 128
MAX_VALUE = 256
MAX_TAGS = 50  # ECS: user tags per resource
CONFIG_CHUNKS = 4  # at most this many tags for the saved deployment configuration
_ALLOWED = re.compile(r"^[A-Za-z0-9 _.:/=+\-@]*$")
_DISALLOWED_CHAR = re.compile(r"[^A-Za-z0-9 _.:/=+\-@]")


class StateError(GravitonError):
    """The recorded state cannot be read or would not fit in a tag."""

    exit_code = 2


class Phase(StrEnum):
    GOOD = "step-good"  # the current step (or the start, before step 1) is good
    DEPLOYING = "deploying"  # the step's weights are sent; waiting for the deployment
    BAKING = "baking"  # deployment settled; watching alarms
    DONE = "done"  # reached the target
    ROLLING_BACK = "rolling-back"
    ROLLED_BACK = "rolled-back"  # stays so: a new `graviton shift` starts a new run
    FINALIZED = "finalized"  # x86 dropped from the strategy

    @property
    def active(self) -> bool:
        """A controller was in the middle of this; a rerun must resume it."""
        return self in (Phase.DEPLOYING, Phase.BAKING, Phase.ROLLING_BACK)


@dataclass(frozen=True)
class RolloutState:
    run_id: str
    x86: str
    arm: str
    steps: tuple[int, ...]
    start: int  # ARM % when the run started
    index: int  # 0-based index of the current step in ``steps``; -1 before step 1
    current: int  # ARM % applied (or being applied)
    last_good: int  # ARM % of the last step that baked clean (``start`` before step 1)
    phase: Phase
    updated: str  # ISO 8601 UTC
    failed_step: int | None = None  # 1-based
    reason: str = ""
    deployment: str = ""  # the ECS deployment id of the current step, once it settled
    lock: str = ""  # the lease table of the controller driving it ("" without a lease)
    saved_config: str = ""  # the service's own deploymentConfiguration, JSON ("" = not saved)
    expect: str = ""  # ISO time by which a live controller writes again (active phases)

    @property
    def target(self) -> int:
        return self.steps[-1] if self.steps else self.start

    @property
    def step_label(self) -> str:
        return f"{self.index + 1}/{len(self.steps)}"

    def with_(self, **changes: object) -> RolloutState:
        return replace(self, **changes)  # type: ignore[arg-type]


def fit(text: str, limit: int = MAX_VALUE) -> str:
    """Free text made tag-safe: disallowed characters become ``_``; cut to ``limit``."""
    return _DISALLOWED_CHAR.sub("_", text)[:limit]


def check_tag(key: str, value: str) -> None:
    """Raise :class:`StateError` unless real ECS would accept this tag."""
    if not key or len(key) > MAX_KEY or not _ALLOWED.match(key) or key.lower().startswith("aws:"):
        raise StateError(f"tag key not allowed by ECS: {key!r}")
    if len(value) > MAX_VALUE or not _ALLOWED.match(value):
        raise StateError(f"tag value not allowed by ECS for {key}: {value!r}")


def _weights(percent: int) -> str:
    return f"x86={100 - percent} arm={percent}"


def _parse_weights(text: str) -> int:
    m = re.fullmatch(r"x86=(\d+) arm=(\d+)", text)
    if not m or int(m[1]) + int(m[2]) != 100:
        raise ValueError(f"bad weights {text!r}")
    return int(m[2])


def encode(state: RolloutState) -> dict[str, str]:
    """Tags for ``state``; each is checked against the ECS rule."""
    tags = {
        "run": state.run_id,
        "phase": state.phase.value,
        "steps": " ".join(str(s) for s in state.steps),
        "step": state.step_label,
        "start": str(state.start),
        "weights": _weights(state.current),
        "last-good": _weights(state.last_good),
        "x86": state.x86,
        "arm": state.arm,
        "updated": state.updated,
    }
    if state.failed_step is not None:
        tags["failed"] = f"step {state.failed_step}/{len(state.steps)}"
    if state.reason:
        tags["reason"] = fit(state.reason)
    if state.deployment:
        tags["deployment"] = fit(state.deployment)
    if state.lock:
        tags["lock"] = state.lock
    if state.expect:
        tags["expect"] = state.expect
    for i, chunk in enumerate(_config_chunks(state.saved_config), start=1):
        tags[f"config-{i}"] = chunk
    out = {PREFIX + k: v for k, v in tags.items()}
    for key, value in out.items():
        check_tag(key, value)
    return out


def decode(tags: Mapping[str, str]) -> RolloutState | None:
    """The state recorded in ``tags``; None when there is none."""
    mine = {k[len(PREFIX) :]: v for k, v in tags.items() if k.startswith(PREFIX)}
    if "run" not in mine:
        return None
    try:
        steps = tuple(int(s) for s in mine["steps"].split())
        index = int(mine["step"].split("/")[0]) - 1
        failed = mine.get("failed")
        return RolloutState(
            run_id=mine["run"],
            x86=mine["x86"],
            arm=mine["arm"],
            steps=steps,
            start=int(mine["start"]),
            index=index,
            current=_parse_weights(mine["weights"]),
            last_good=_parse_weights(mine["last-good"]),
            phase=Phase(mine["phase"]),
            updated=mine["updated"],
            failed_step=int(failed.split()[1].split("/")[0]) if failed else None,
            reason=mine.get("reason", ""),
            deployment=mine.get("deployment", ""),
            lock=mine.get("lock", ""),
            expect=mine.get("expect", ""),
            saved_config=_config_from(mine),
        )
    except (KeyError, ValueError, IndexError, zlib.error) as exc:
        raise StateError(f"graviton state tags on the service are unreadable ({exc})") from None


def stale_keys(tags: Mapping[str, str], state: RolloutState) -> list[str]:
    """Our tag keys present on the service that ``state`` no longer has (e.g. an old reason)."""
    keep = encode(state)
    return [k for k in tags if k.startswith(PREFIX) and k not in keep]


def _config_chunks(config: str) -> list[str]:
    if not config:
        return []
    packed = base64.b64encode(zlib.compress(config.encode(), 9)).decode()
    chunks = [packed[i : i + MAX_VALUE] for i in range(0, len(packed), MAX_VALUE)]
    if len(chunks) > CONFIG_CHUNKS:
        raise StateError(
            f"the service's deployment configuration does not fit in {CONFIG_CHUNKS} tags"
        )
    return chunks


def _config_from(mine: Mapping[str, str]) -> str:
    packed = "".join(
        mine[f"config-{i}"] for i in range(1, CONFIG_CHUNKS + 1) if f"config-{i}" in mine
    )
    return zlib.decompress(base64.b64decode(packed)).decode() if packed else ""


def config_json(config: Mapping[str, Any]) -> str:
    """A deployment configuration as the compact JSON kept in :attr:`RolloutState.saved_config`."""
    return json.dumps(dict(config), sort_keys=True, separators=(",", ":"), default=str)


def config_of(state: RolloutState) -> dict[str, Any] | None:
    return dict(json.loads(state.saved_config)) if state.saved_config else None


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The service's own tags (not graviton's)."""
    return {k: v for k, v in tags.items() if not k.startswith(PREFIX)}


def tags_needed(saved_config: str) -> int:
    """The most tags a run writes for a service whose configuration is ``saved_config``: every
    key (failure, reason, deployment and lease included) plus the configuration's chunks."""
    fixed = [
        "run",
        "phase",
        "steps",
        "step",
        "start",
        "weights",
        "last-good",
        "x86",
        "arm",
        "updated",
        "failed",
        "reason",
        "deployment",
        "lock",
        "expect",
    ]
    return len(fixed) + len(_config_chunks(saved_config))
