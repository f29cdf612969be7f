"""The rollout plan, pure: ARM percentages per step, the capacity provider strategy for a
percentage, the split of tasks that strategy intends.

A percentage ``p`` is sent as the strategy ``[x86 weight 100-p, ARM weight p]``: weights are
ratios, a zero weight is sent as such (0 and 100 are legal end points), and a ``base`` stays on
the provider that had it until ``graviton shift --finalize``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graviton.errors import UsageError


@dataclass(frozen=True)
class StrategyItem:
    provider: str
    weight: int
    base: int = 0

    def to_api(self) -> dict[str, str | int]:
        return {"capacityProvider": self.provider, "weight": self.weight, "base": self.base}

    @classmethod
    def from_api(cls, item: Mapping[str, object]) -> StrategyItem:
        return cls(
            provider=str(item["capacityProvider"]),
            weight=int(str(item.get("weight", 0))),
            base=int(str(item.get("base", 0) or 0)),
        )


Strategy = tuple[StrategyItem, ...]


def strategy_from_api(items: Sequence[Mapping[str, object]] | None) -> Strategy:
    return tuple(StrategyItem.from_api(i) for i in items or ())


def arm_percent(strategy: Strategy, x86: str, arm: str) -> int | None:
    """The ARM share of the weights, in percent; None when neither provider has weight or a
    third provider carries weight (the service is not in a shape we manage)."""
    weights = {i.provider: i.weight for i in strategy}
    if any(w and p not in (x86, arm) for p, w in weights.items()):
        return None
    total = weights.get(x86, 0) + weights.get(arm, 0)
    if total == 0:
        return None
    return round(100 * weights.get(arm, 0) / total)


def strategy_for(percent: int, current: Strategy, x86: str, arm: str) -> Strategy:
    """The strategy that puts ``percent`` % of the weight on ARM; a base stays where it is."""
    if not 0 <= percent <= 100:
        raise ValueError(f"percent out of range: {percent}")
    bases = {i.provider: i.base for i in current}
    return (
        StrategyItem(x86, 100 - percent, bases.get(x86, 0)),
        StrategyItem(arm, percent, bases.get(arm, 0)),
    )


def finalized_strategy(current: Strategy, x86: str, arm: str) -> Strategy:
    """All on ARM without the x86 provider; a base moves to ARM (finalize)."""
    base = max((i.base for i in current if i.provider in (x86, arm)), default=0)
    return (StrategyItem(arm, 100, base),)


def intended_split(strategy: Strategy, desired: int) -> dict[str, int]:
    """How ECS places ``desired`` tasks by ``strategy``: bases first, the rest by weight
    (largest remainder). Used to show the intended split beside the real one."""
    out = {i.provider: 0 for i in strategy}
    remaining = desired
    for item in strategy:
        take = min(item.base, remaining)
        out[item.provider] += take
        remaining -= take
    total = sum(i.weight for i in strategy)
    if remaining <= 0 or total == 0:
        return out
    exact = [(i.provider, remaining * i.weight / total) for i in strategy]
    floors = {p: int(x) for p, x in exact}
    left = remaining - sum(floors.values())
    for provider, _ in sorted(exact, key=lambda e: e[1] - int(e[1]), reverse=True)[:left]:
        floors[provider] += 1
    for provider, n in floors.items():
        out[provider] += n
    return out


def check_step_and_target(step: int, to: int) -> None:
    if not 1 <= step <= 100:
        raise UsageError(f"--step must be between 1 and 100, not {step}")
    if not 0 <= to <= 100:
        raise UsageError(f"--to must be between 0 and 100, not {to}")


def plan_steps(start: int, step: int, to: int) -> tuple[int, ...]:
    """ARM percentages from ``start`` (exclusive) to ``to`` (inclusive) on the ``step`` grid:
    ``plan_steps(0, 25, 100) == (25, 50, 75, 100)``;
    ``plan_steps(30, 25, 100) == (50, 75, 100)``."""
    check_step_and_target(step, to)
    if to < start:
        raise UsageError(
            f"the service is already at {start}% ARM, beyond --to {to}; "
            "use `graviton rollback` to move weight back"
        )
    steps = []
    nxt = (start // step + 1) * step
    while nxt < to:
        steps.append(nxt)
        nxt += step
    if to > start:
        steps.append(to)
    return tuple(steps)


@dataclass(frozen=True)
class Timing:
    bake: float  # seconds each step bakes
    poll: float  # seconds between alarm polls
    deploy_timeout: float  # seconds a deployment may take to settle

    def __post_init__(self) -> None:
        if self.poll <= 0:
            raise UsageError("--poll must be greater than 0")
        if self.deploy_timeout <= 0:
            raise UsageError("--deploy-timeout must be greater than 0")


def format_strategy(strategy: Strategy, dropped: Sequence[str] = ()) -> str:
    """``cp-arm:100 (base 0), cp-x86:0``: each provider with its weight, the base on the item
    that carries it (on the first when none does); ``dropped`` providers show as weight 0."""
    based = next((i for i in strategy if i.base), strategy[0] if strategy else None)
    parts = [
        f"{i.provider}:{i.weight}" + (f" (base {i.base})" if i is based else "") for i in strategy
    ]
    parts += [f"{p}:0" for p in dropped if p not in {i.provider for i in strategy}]
    return ", ".join(parts) or "none"
