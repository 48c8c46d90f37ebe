"""The optional ``trading`` training reward leaves out only the value of consumption."""

from __future__ import annotations

import numpy as np
import pytest

import rex_env


def _day(reward: str) -> tuple[float, object]:
    env = rex_env.parallel_env("toy", reward=reward)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    total = 0.0
    while env.agents:
        acts = {a: rng.uniform(-1, 1, 14).astype(np.float32) for a in env.agents}
        _, r, _, _, _ = env.step(acts)
        total += r["prosumer_0"] * env._reward_scale["prosumer_0"]
    return total, env.market.accounts[env.owner_of["prosumer_0"]]


def test_rewards_sum_to_the_surplus_or_to_the_surplus_without_consumption_value() -> None:
    surplus_total, acct = _day("surplus")
    trading_total, acct2 = _day("trading")
    assert surplus_total == pytest.approx(acct.surplus, abs=1e-9)  # type: ignore[attr-defined]
    assert acct2.surplus == pytest.approx(acct.surplus)  # type: ignore[attr-defined]
    assert trading_total == pytest.approx(
        acct2.surplus - acct2.consumption_value, abs=1e-9)  # type: ignore[attr-defined]
    assert acct2.consumption_value > 0  # type: ignore[attr-defined]


def test_an_unknown_reward_is_refused_naming_the_allowed() -> None:
    with pytest.raises(ValueError, match="'surplus' or 'trading'"):
        rex_env.parallel_env("toy", reward="profit")
