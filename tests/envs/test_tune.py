"""``action_mode="tune"``: the policy sets its prototype's parameters (rex_env/envs/tune.py)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.rolling_intrinsic import RollingIntrinsicTrader
from agents.storage import StorageDealer
from rex_env.envs import RexParallelEnv


def _day(env: RexParallelEnv, action: float | None, seed: int = 3, steps: int = 40) -> float:
    env.reset(seed=seed)
    total = 0.0
    for _ in range(steps):
        acts = {a: (None if action is None else
                    np.full(env.action_space(a).shape, action, np.float32)) for a in env.agents}
        _, r, *_ = env.step(acts)
        total += sum(r.values())
    return total


@pytest.mark.parametrize(("role", "base", "kind", "dims"), [
    ("storage", "prototype", "storage", 3), ("plant", "prototype", "plant", 1),
    ("storage", "baseline", "rolling_intrinsic", 2)])
def test_action_zero_is_the_tuned_agent_exactly(role: str, base: str, kind: str,
                                                dims: int) -> None:
    tuned = RexParallelEnv(scenario="community", learners=role, action_mode="tune",
                           tune_base=base)
    assert tuned.action_space("prosumer_0").shape == (dims,)
    proto = RexParallelEnv(scenario="community", learners=role, controlled_by=kind)
    assert _day(tuned, 0.0) == _day(proto, 0.0)


def test_a_tuned_dealer_trades_differently_and_its_parameters_follow_the_action() -> None:
    env = RexParallelEnv(scenario="community", learners="storage", action_mode="tune")
    base = _day(env, 0.0)
    assert _day(env, 1.0) != base  # the upper ends: other trades
    dealer = next(iter(env._tuned.values()))
    assert isinstance(dealer, StorageDealer)
    assert (dealer.q_buy, dealer.q_sell, dealer.margin) == pytest.approx((0.45, 0.95, 0.12))
    dealer.tune((-1.0, -1.0, -1.0))
    assert (dealer.q_buy, dealer.q_sell, dealer.margin) == pytest.approx((0.05, 0.55, 0.0))
    dealer.tune((0.0, 0.0, 0.0))
    assert (dealer.q_buy, dealer.q_sell, dealer.margin) == pytest.approx((0.25, 0.75, 0.02))


def test_a_tuned_rolling_intrinsic_values_carried_charge_as_told() -> None:
    env = RexParallelEnv(scenario="community", learners="storage", action_mode="tune",
                         tune_base="baseline")
    base = _day(env, 0.0, steps=24)
    trader = next(iter(env._tuned.values()))
    assert isinstance(trader, RollingIntrinsicTrader)
    assert _day(env, -1.0, steps=24) != base  # carried charge worth half: it sells more
    assert (trader.terminal_scale, trader.min_gain) == pytest.approx((0.5, 0.0))
    trader.tune((1.0, 1.0))
    assert (trader.terminal_scale, trader.min_gain) == pytest.approx((1.5, 0.1))
    trader.tune((0.0, 0.0))
    assert (trader.terminal_scale, trader.min_gain) == pytest.approx((1.0, 0.0))


def test_tune_refuses_learners_whose_prototype_has_no_parameters() -> None:
    with pytest.raises(ValueError, match="tunable parameters.*households"):
        RexParallelEnv(scenario="community", learners="households", action_mode="tune")
    with pytest.raises(ValueError, match="tune_base='baseline'.*plant.*baseline None"):
        RexParallelEnv(scenario="community", learners="plant", action_mode="tune",
                       tune_base="baseline")
    with pytest.raises(ValueError, match="tune_base must be one of"):
        RexParallelEnv(scenario="community", learners="storage", action_mode="tune",
                       tune_base="best")
