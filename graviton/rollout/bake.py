"""The bake policy, pure: from the watched alarms' readings, decide whether a step's bake goes
on (WAIT), passed (PASS), failed (FAIL) or was taken over by `graviton rollback` (TAKEOVER).

The I/O loop that reads the alarms and calls :func:`judge_bake` once per poll is
:mod:`graviton.rollout.watch`. Rules, in order:

* a run taken over by someone else stops (TAKEOVER), whatever the alarms say;
* a watched alarm that no longer exists fails the bake (it was deleted: the bake would watch
  nothing), whatever ``--on-insufficient-data`` says;
* an alarm in ALARM fails the bake;
* an alarm whose state changed since it was last seen in a way its current state does not show
  (it went and came back between two polls, or while no controller ran) fails unless its history
  shows it never entered ALARM (nor, with ``fail``, INSUFFICIENT_DATA);
* INSUFFICIENT_DATA fails (``fail``), pauses the bake clock (``wait``, failing after the no-data
  limit) or counts as OK (``pass``);
* the bake passes once ``bake_s`` seconds were credited (paused time is not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from graviton.timeutil import utc_timestamp


class NoData(StrEnum):
    """``--on-insufficient-data``: what an alarm without data does to a bake."""

    FAIL = "fail"
    WAIT = "wait"
    PASS = "pass"


class BakeOutcome(StrEnum):
    WAIT = "wait"  # keep baking: poll again
    PASS = "pass"  # the bake time is over and nothing fired
    FAIL = "fail"  # the step failed: roll back
    TAKEOVER = "takeover"  # `graviton rollback` (or someone) took the run over: stop here


ALARM, BLIND = "ALARM", ("INSUFFICIENT_DATA",)


@dataclass(frozen=True)
class AlarmReading:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    updated: float | None = None  # StateUpdatedTimestamp (epoch seconds)
    reason: str = ""
    # the states the alarm entered after it was last seen, when its history was read
    history: tuple[str, ...] | None = None


@dataclass(frozen=True)
class BakePolicy:
    bake_s: float
    no_data: NoData = NoData.FAIL
    no_data_limit_s: float = 1800.0  # with WAIT: fail after this long without data


@dataclass(frozen=True)
class Seen:
    state: str
    updated: float | None


@dataclass(frozen=True)
class BakeProgress:
    """What the previous judgements of this bake established."""

    last: float | None = None  # ``now`` of the previous judgement
    baked_s: float = 0.0
    no_data_since: float | None = None
    seen: Mapping[str, Seen] = field(default_factory=dict)


@dataclass(frozen=True)
class BakeDecision:
    outcome: BakeOutcome
    reason: str
    progress: BakeProgress
    remaining_s: float
    paused: bool = False


def hidden_change(reading: AlarmReading, seen: Seen | None, since: float) -> bool:
    """True when the alarm changed state after it was last seen (or after ``since`` when it was
    never seen) and its current state cannot tell what it went through."""
    if reading.updated is None:
        return False
    if seen is None:
        return reading.updated > since
    changed = seen.updated is not None and reading.updated > seen.updated
    return changed and reading.state == seen.state


def judge_bake(
    alarm_states: Mapping[str, AlarmReading],
    policy: BakePolicy,
    since: float,
    now: float,
    *,
    watched: Sequence[str] | None = None,
    progress: BakeProgress | None = None,
    taken_over: str | None = None,
    step: str = "?",
) -> BakeDecision:
    """One poll of a bake that started at ``since`` (epoch seconds), judged at ``now``."""
    progress = progress or BakeProgress()
    names = list(alarm_states) if watched is None else list(watched)
    remaining = max(0.0, policy.bake_s - progress.baked_s)

    def done(outcome: BakeOutcome, reason: str, **kw: object) -> BakeDecision:
        return BakeDecision(outcome, reason, progress, remaining, **kw)  # type: ignore[arg-type]

    if taken_over is not None:
        return done(BakeOutcome.TAKEOVER, taken_over)
    for name in names:
        if name not in alarm_states:
            return done(
                BakeOutcome.FAIL,
                f"alarm {name} was deleted during the bake of step {step}: it watches nothing",
            )
    firing = [n for n in names if alarm_states[n].state == ALARM]
    if firing:
        return done(BakeOutcome.FAIL, f"alarm {firing[0]} is ALARM during the bake of step {step}")
    for name in names:
        reading = alarm_states[name]
        if not hidden_change(reading, progress.seen.get(name), since):
            continue
        at = utc_timestamp(reading.updated) if reading.updated is not None else "?"
        if reading.history is None:
            return done(
                BakeOutcome.FAIL,
                f"alarm {name} changed state unobserved at {at} during the bake of step {step} "
                f"(now {reading.state}) and its history could not be read",
            )
        entered = [s for s in reading.history if s == ALARM]
        if not entered and policy.no_data is NoData.FAIL:
            entered = [s for s in reading.history if s in BLIND]
        if not entered:  # a history entry that does not say which state: not proven
            entered = [s for s in reading.history if s not in (ALARM, "OK", *BLIND)]
        if entered:
            return done(
                BakeOutcome.FAIL,
                f"alarm {name} was {entered[0]} between two polls (at {at}) during the bake "
                f"of step {step}, now {reading.state}",
            )
    seen = {n: Seen(alarm_states[n].state, alarm_states[n].updated) for n in names}
    blind = [n for n in names if alarm_states[n].state in BLIND]
    if blind and policy.no_data is NoData.FAIL:
        return done(
            BakeOutcome.FAIL,
            f"alarm {blind[0]} has {alarm_states[blind[0]].state} during the bake of step "
            f"{step} (--on-insufficient-data fail)",
        )
    if blind and policy.no_data is NoData.WAIT:
        no_data_since = progress.no_data_since if progress.no_data_since is not None else now
        nxt = BakeProgress(now, progress.baked_s, no_data_since, seen)
        if now - no_data_since >= policy.no_data_limit_s:
            return BakeDecision(
                BakeOutcome.FAIL,
                f"alarm {blind[0]} had no data for {policy.no_data_limit_s:g}s during the bake "
                f"of step {step}",
                nxt,
                remaining,
                paused=True,
            )
        return BakeDecision(BakeOutcome.WAIT, "no data: bake paused", nxt, remaining, paused=True)
    baked = progress.baked_s + (now - progress.last if progress.last is not None else 0.0)
    nxt = BakeProgress(now, baked, None, seen)
    left = max(0.0, policy.bake_s - baked)
    if left <= 0:
        return BakeDecision(BakeOutcome.PASS, "baked", nxt, 0.0)
    return BakeDecision(BakeOutcome.WAIT, "baking", nxt, left)
