"""The pure rollout plan: steps, strategies, intended split, durations."""

from __future__ import annotations

import pytest

from graviton.errors import UsageError
from graviton.rollout.plan import (
    StrategyItem,
    arm_percent,
    finalized_strategy,
    intended_split,
    plan_steps,
    strategy_for,
)
from graviton.timeutil import parse_duration

X, A = "x86", "arm"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10m", 600), ("15s", 15), ("2s", 2), ("1h", 3600), ("1m30s", 90), ("500ms", 0.5), ("3", 3)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten", "10x", "m", "-5", "10m garbage", "5s10", "0", "0s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("start", "step", "to", "steps"),
    [
        (0, 25, 100, (25, 50, 75, 100)),
        (0, 30, 100, (30, 60, 90, 100)),
        (30, 25, 100, (50, 75, 100)),
        (25, 25, 50, (50,)),
        (0, 100, 100, (100,)),
        (0, 25, 60, (25, 50, 60)),
        (100, 25, 100, ()),
        (0, 25, 0, ()),
    ],
)
def test_plan_steps(start: int, step: int, to: int, steps: tuple[int, ...]) -> None:
    assert plan_steps(start, step, to) == steps


@pytest.mark.parametrize(
    ("start", "step", "to"), [(0, 0, 100), (0, 101, 100), (0, 25, 101), (50, 25, 25)]
)
def test_plan_steps_rejects(start: int, step: int, to: int) -> None:
    with pytest.raises(UsageError):
        plan_steps(start, step, to)


def test_strategy_sends_zero_weights_and_keeps_base() -> None:
    current = (StrategyItem(X, 1, base=2),)
    assert strategy_for(0, current, X, A) == (StrategyItem(X, 100, 2), StrategyItem(A, 0, 0))
    assert strategy_for(100, current, X, A) == (StrategyItem(X, 0, 2), StrategyItem(A, 100, 0))
    assert strategy_for(25, current, X, A)[1] == StrategyItem(A, 25, 0)


def test_finalize_moves_base_to_arm_and_drops_x86() -> None:
    current = (StrategyItem(X, 0, base=2), StrategyItem(A, 100))
    assert finalized_strategy(current, X, A) == (StrategyItem(A, 100, 2),)


def test_arm_percent() -> None:
    assert arm_percent((StrategyItem(X, 1),), X, A) == 0
    assert arm_percent((StrategyItem(X, 75), StrategyItem(A, 25)), X, A) == 25
    assert arm_percent((StrategyItem(X, 0), StrategyItem(A, 100)), X, A) == 100
    assert arm_percent((StrategyItem(X, 3), StrategyItem(A, 1)), X, A) == 25
    assert arm_percent((StrategyItem(X, 0),), X, A) is None
    assert arm_percent((StrategyItem(X, 1), StrategyItem("other", 1)), X, A) is None


def test_intended_split_bases_first_then_weights() -> None:
    strategy = (StrategyItem(X, 50, base=1), StrategyItem(A, 50))
    assert intended_split(strategy, 5) == {X: 3, A: 2}
    assert intended_split((StrategyItem(X, 75), StrategyItem(A, 25)), 4) == {X: 3, A: 1}
    assert intended_split((StrategyItem(X, 0, 1), StrategyItem(A, 100)), 4) == {X: 1, A: 3}
    assert sum(intended_split((StrategyItem(X, 1), StrategyItem(A, 2)), 7).values()) == 7
