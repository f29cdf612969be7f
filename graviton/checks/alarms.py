"""Preflight checks on the alarms that gate a rollout, pure.

An alarm that does not exist, is in ALARM, or (by default) cannot see (INSUFFICIENT_DATA) fails:
ECS ignores alarms already in ALARM when a deployment starts, and an alarm without data is not a
pass. Shared by ``graviton shift`` and the CI gate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graviton.checks.ecs import PreflightCheck


def check_alarms(
    names: Sequence[str],
    states: Mapping[str, str],
    on_insufficient_data: str = "fail",
    *,
    resuming: bool = False,
) -> list[PreflightCheck]:
    """``states`` maps alarm name -> StateValue for the alarms that exist. When ``resuming`` a
    run interrupted mid-step, an alarm in ALARM (or without data) is not a preflight refusal:
    the resumed bake fails on it and rolls the step back."""
    if not names:
        return [PreflightCheck("alarms", True, "no alarms named: each bake is a plain wait")]
    out = []
    for name in names:
        state = states.get(name)
        if state is None:
            out.append(PreflightCheck(f"alarm {name}", False, f"alarm {name} does not exist"))
        elif resuming and state in ("ALARM", "INSUFFICIENT_DATA"):
            out.append(
                PreflightCheck(
                    f"alarm {name}",
                    True,
                    f"alarm {name} is {state}: the resumed step's bake judges it",
                    warning=True,
                )
            )
        elif state == "ALARM":
            out.append(PreflightCheck(f"alarm {name}", False, f"alarm {name} is in ALARM"))
        elif state == "INSUFFICIENT_DATA" and on_insufficient_data == "fail":
            out.append(
                PreflightCheck(
                    f"alarm {name}",
                    False,
                    f"alarm {name} has INSUFFICIENT_DATA (use --on-insufficient-data wait|pass "
                    "to accept it)",
                )
            )
        else:
            out.append(PreflightCheck(f"alarm {name}", True, f"alarm {name} is {state}"))
    return out
