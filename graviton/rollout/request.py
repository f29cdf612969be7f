"""What a shift is asked to do (:class:`ShiftRequest`), the injectable clock, and exit codes."""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from graviton.rollout.bake import NoData
from graviton.rollout.plan import Timing
from graviton.timeutil import utc_timestamp


class RollbackTo(StrEnum):
    LAST_GOOD = "last-good"
    X86 = "x86"


@dataclass(frozen=True)
class ShiftRequest:
    cluster: str
    services: tuple[str, ...]
    step: int = 25
    to: int = 100
    x86: str | None = None
    arm: str | None = None
    alarms: tuple[str, ...] = ()
    timing: Timing = field(default_factory=lambda: Timing(600.0, 15.0, 1800.0))
    once: bool = False
    dry_run: bool = False
    rollback_to: RollbackTo = RollbackTo.LAST_GOOD
    on_insufficient_data: NoData = NoData.FAIL
    lock_table: str | None = None
    finalize: bool = False
    scale_in_x86: bool = False
    strict_images: bool = False  # an image whose registry does not answer fails preflight


@dataclass
class Clock:
    """Time, injectable: monotonic for deadlines, wall for the recorded timestamps."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall: Callable[[], float] = time.time
    jitter: Callable[[], float] = random.random

    def iso(self) -> str:
        return utc_timestamp(self.wall())


EXIT_OK, EXIT_ROLLED_BACK = 0, 1


def new_run_id(clock: Clock) -> str:
    stamp = utc_timestamp(clock.wall()).replace("-", "").replace(":", "").rstrip("Z")
    return f"r{stamp}-{secrets.token_hex(2)}"
