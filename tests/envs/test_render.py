"""Rendering: ``ansi`` returns text, ``rgb_array`` an HxWx3 uint8 picture, ``human`` None;
and rendering only reads the market (a twin env that never renders stays identical).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import rex_env

from .helpers import ActionStream, assert_same, step_record

MODES = ["ansi", "rgb_array", "human"]


def _check_result(mode: str | None, out: Any) -> None:
    if mode == "ansi":
        assert isinstance(out, str) and out
        assert "prosumer_0" in out and "prosumer_1" in out
    elif mode == "rgb_array":
        assert isinstance(out, np.ndarray)
        assert out.ndim == 3 and out.shape[2] == 3 and out.dtype == np.uint8
        assert out.shape[0] > 10 and out.shape[1] > 10
        assert out.min() < out.max(), "a blank picture"
    else:
        assert out is None


@pytest.mark.parametrize("mode", [*MODES, None], ids=[*MODES, "none"])
def test_render_returns_the_documented_type(mode: str | None) -> None:
    env = rex_env.parallel_env("toy", render_mode=mode)
    env.reset(seed=0)
    acts = ActionStream(0)
    for _ in range(3):
        env.step(acts(env))
    _check_result(mode, env.render())
    env.close()
    env.close()  # closing twice is harmless


def test_ansi_lists_the_window_and_learners() -> None:
    env = rex_env.parallel_env("toy", render_mode="ansi")
    env.reset(seed=1)
    text = env.render()
    for a, owner in env.owner_of.items():
        assert f"{a} ({owner})" in text
    assert text.splitlines()[0].startswith("t=")


def test_render_at_the_end_of_an_episode() -> None:
    for mode in ("ansi", "rgb_array"):
        env = rex_env.parallel_env("toy", render_mode=mode, max_cycles=2)
        env.reset(seed=0)
        while env.agents:
            env.step({})
        _check_result(mode, env.render())


@pytest.mark.parametrize("mode", MODES)
def test_rendering_has_no_side_effects(mode: str) -> None:
    """State digest before/after render are equal, and the env continues exactly like a twin
    that never renders (same actions, same observations, rewards, infos and trades)."""
    env = rex_env.parallel_env("toy", render_mode=mode)
    twin = rex_env.parallel_env("toy")
    assert_same(env.reset(seed=3), twin.reset(seed=3), "reset")
    acts = ActionStream(3, spread=1.2)
    step = 0
    while env.agents:
        if step % 8 == 1 or mode == "ansi":
            digest = _digest(env)
            env.render()
            env.render()
            assert_same(_digest(env), digest, f"digest around render at step {step}")
        a = acts(env)
        assert_same(step_record(env, a), step_record(twin, a), f"step {step}")
        step += 1
    assert_same(env.market.trades, twin.market.trades, "trades")


def _digest(env: Any) -> tuple[Any, ...]:
    """What the next step depends on: clock, generator, books, accounts, working orders."""
    m = env.market
    ex = m.exchange
    slots = list(m.view.open_slots())
    lob = ex.lob3d(slots, env.k)
    books = [(s, lob.best_bid[i], lob.best_ask[i], lob.bid_depth[i].tolist(),
              lob.ask_depth[i].tolist()) for i, s in enumerate(slots)]
    accounts = {o: vars(a).copy() for o, a in m.accounts.items()}
    working = {a: sorted((s, o.order_id, o.rate, o.price) for s, o in st.working.items())
               for a, st in env._steer.items()}
    return (m.now, m.events, len(m.trades), str(env._np_random.bit_generator.state), books,
            accounts, working, env._step_count, list(env.agents))


def test_rgb_render_keeps_the_matplotlib_backend() -> None:
    """Rendering must not switch the process's matplotlib backend (that would also stop
    ``human`` mode from ever showing a window, since it skips drawing under Agg)."""
    import matplotlib

    before = matplotlib.get_backend()
    try:
        matplotlib.use("svg")  # any non-Agg backend a user may have chosen
        env = rex_env.parallel_env("toy", render_mode="rgb_array")
        env.reset(seed=0)
        env.render()
        after = matplotlib.get_backend()
        assert after.lower() == "svg", f"render() switched the backend svg -> {after}"
    finally:
        matplotlib.use(before)


@pytest.mark.parametrize("mode", MODES)
def test_aec_and_gymnasium_forms_render(mode: str) -> None:
    aec = rex_env.env("toy", render_mode=mode)
    aec.reset(seed=0)
    for agent in aec.agent_iter(4):
        aec.step(None if aec.terminations[agent] or aec.truncations[agent]
                 else aec.action_space(agent).sample())
    _check_result(mode, aec.render())
    aec.close()
    single = gym.make(rex_env.GYM_ID, scenario="toy", render_mode=mode)
    single.reset(seed=0)
    single.step(single.action_space.sample())
    out = single.render()
    if mode == "ansi":
        assert isinstance(out, str) and "prosumer_0" in out
    else:
        _check_result(mode, out)
    single.close()


def test_bad_render_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="ansi"):
        rex_env.parallel_env("toy", render_mode="video")
