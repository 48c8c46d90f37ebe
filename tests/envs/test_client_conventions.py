"""What every RL client relies on (issue 14): flat numeric infos, terminated vs truncated,
masks in the observation and enforced in ``step``, ``state()`` for centralised critics,
strict action dicts with an explicit hold, and registration.

The spec is the docstring of :class:`rex_env.envs.parallel.RexParallelEnv`.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pettingzoo
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test, parallel_api_test, state_test

import rex_env
from rex_env.envs.observation import PRIVATE_FEATURES
from rex_env.envs.parallel import INFO_KEYS, PRIVATE_SLOT_FEATURES, RexParallelEnv
from rex_env.envs.single import ProsumerEnv
from rex_env.envs.vec import SharedVecEnv

from .helpers import WARNING_FILTERS, ActionStream

MODES = [
    pytest.param({}, id="box"),
    pytest.param({"action_mode": "offset"}, id="offset"),
    pytest.param({"action_mode": "discrete"}, id="discrete"),
    pytest.param({"action_mode": "discrete", "action_mask_in_obs": True}, id="discrete-obs"),
]
MASKED = {"action_mode": "discrete", "action_mask_in_obs": True}

pytestmark = WARNING_FILTERS  # the checkers' defect warnings are errors


def _vector(obs: Any) -> np.ndarray:
    return obs["observation"] if isinstance(obs, dict) else obs


# -- infos ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", MODES)
def test_infos_are_flat_numbers_with_the_same_keys_at_reset_and_every_step(kwargs: Any) -> None:
    """What TorchRL's ``PettingZooWrapper`` stacks into tensors: no strings, no dicts."""
    env = rex_env.parallel_env("toy", **kwargs)
    _, infos = env.reset(seed=0)
    acts = ActionStream(0, spread=1.2)
    seen = [infos]
    while env.agents:
        seen.append(env.step(acts(env))[4])
    for infos in seen:
        for a, info in infos.items():
            assert list(info) == list(INFO_KEYS), (a, info)
            for k, v in info.items():
                assert type(v) in (int, float) and np.isfinite(v), (a, k, v)


# -- episode end ------------------------------------------------------------------------------
def test_aec_terminates_every_agent_at_the_end_of_the_day() -> None:
    env = rex_env.env("toy")
    env.reset(seed=0)
    ends: dict[str, tuple[bool, bool]] = {}
    for agent in env.agent_iter():
        _, _, term, trunc, _ = env.last()
        if term or trunc:
            ends[agent] = (term, trunc)
            env.step(None)
        else:
            env.step(env.action_space(agent).sample())
    assert ends == dict.fromkeys(env.possible_agents, (True, False))


@pytest.mark.parametrize(("max_cycles", "terminated", "truncated"),
                         [(None, True, False), (3, False, True)], ids=["day", "cut"])
def test_single_agent_env_ends_like_the_parallel_env(max_cycles: Any, terminated: bool,
                                                     truncated: bool) -> None:
    env = ProsumerEnv("toy", max_cycles=max_cycles)
    env.reset(seed=0)
    while True:
        _, _, term, trunc, info = env.step(env.action_space.sample())
        if term or trunc:
            break
    assert (term, trunc) == (terminated, truncated)
    assert list(info) == list(INFO_KEYS)


@pytest.mark.parametrize(("max_cycles", "cut"), [(None, False), (3, True)], ids=["day", "cut"])
def test_vec_env_marks_only_a_max_cycles_cut_as_a_time_limit(max_cycles: Any, cut: bool) -> None:
    """SB3 bootstraps a value past ``TimeLimit.truncated`` ends only: never past a settled day."""
    v = SharedVecEnv.make(n_envs=1, scenario="toy", max_cycles=max_cycles)
    v.seed(0)
    v.reset()
    while True:
        _, _, dones, infos = v.step(np.stack([v.action_space.sample()
                                              for _ in range(v.num_envs)]))
        if dones.any():
            break
    assert dones.all()
    assert [i["TimeLimit.truncated"] for i in infos] == [cut] * v.num_envs


# -- the actions dict -------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", MODES)
def test_an_unknown_agent_id_raises_naming_it_and_the_live_agents(kwargs: Any) -> None:
    env = rex_env.parallel_env("toy", **kwargs)
    env.reset(seed=0)
    acts = {a: env.action_space(a).sample() for a in env.agents}
    acts["prosumr_1"] = acts["prosumer_1"]
    with pytest.raises(ValueError, match=r"prosumr_1.*\['prosumer_0', 'prosumer_1'\]"):
        env.step(acts)
    assert env._step_count == 0, "the rejected call changed nothing"
    with pytest.raises(TypeError, match="dict"):
        env.step([0, 0])


@pytest.mark.parametrize("kwargs", MODES)
def test_a_missing_agent_holds_and_makes_no_fills(kwargs: Any) -> None:
    """Leaving an agent out of the dict is a hold (no new orders), not the zero action, which
    trades in box mode."""
    env = rex_env.parallel_env("toy", **kwargs)
    env.reset(seed=0)
    learners = set(env.owner_of.values())
    fills = 0
    while env.agents:
        infos = env.step({})[4]
        fills += sum(i["fills"] for i in infos.values())
    assert fills == 0
    assert not [t for t in env.market.trades if {t.buyer, t.seller} & learners]
    assert all(env.market.exchange.position(o, k) == 0 for o in learners
               for k in env.schedule.slots)


def test_a_hold_keeps_the_working_orders() -> None:
    env = rex_env.parallel_env("toy", action_mode="discrete")
    env.reset(seed=0)
    for _ in range(3):
        env.step({})
    n_open = len(env.market.view.open_slots()[: env.window])
    assert n_open >= 2
    # window slot 1, sell, passive price, smallest size: rests in the book
    p, q = env.config.price_levels, len(env.config.size_levels)
    action = 1 + ((1 * 2 + 1) * p + 0) * q + 0
    env.step({"prosumer_0": action})
    working = dict(env._steer["prosumer_0"].working)
    assert len(working) == 1
    env.step({})
    order = next(iter(working.values()))
    assert env._steer["prosumer_0"].live(order.first_slot) is order, "a hold cancels nothing"


# -- masks --------------------------------------------------------------------------------------
def test_a_masked_action_is_a_counted_noop_the_2_10_capacities_case() -> None:
    """At 1.8 capacities, buying 0.3 more would reach 2.10 against the limit of 2.0 (what a
    client ignoring the mask did before masks were enforced): now it is a no-op, counted."""
    from rex_env.exchange import Side, Tif
    from rex_env.sim.agent_api import submit

    env = rex_env.parallel_env("toy", action_mode="discrete", learners=("house01",))
    env.reset(seed=0)
    agent = "prosumer_0"
    owner = env.owner_of[agent]
    cap_lots = env._capacity[agent] / env._lot_kw
    for _ in range(6):
        env.step({})
    slots = list(env.market.view.open_slots()[: env.window])
    j = len(slots) - 2  # a slot in continuous trading
    slot = slots[j]
    lots = round(1.8 * cap_lots)
    env.market.execute(owner, [submit(Side.BUY, slot, env._bounds[1], lots, Tif.IOC)])
    assert env.market.exchange.position(owner, slot) / cap_lots == pytest.approx(1.8)
    p, q = env.config.price_levels, len(env.config.size_levels)
    buy = 1 + ((j * 2 + 0) * p + (p - 1)) * q + env.config.size_levels.index(0.3)
    assert env.action_masks(agent)[buy] == 0
    twin = copy.deepcopy(env)  # what the action does when it is executed anyway
    twin.market.execute(owner, twin._decode(agent, buy))
    assert twin.market.exchange.position(owner, slot) / cap_lots == pytest.approx(2.1)
    info = env.step({agent: buy})[4][agent]
    assert info["masked"] == 1 and info["rejected"] == 0
    assert env.market.exchange.position(owner, slot) / cap_lots == pytest.approx(1.8)
    sell = buy + p * q  # the same order on the sell side is valid and executes
    assert env.action_masks(agent)[sell] == 1
    assert env.step({agent: sell})[4][agent]["masked"] == 0


def test_unmasked_random_play_never_passes_the_position_limit() -> None:
    env = rex_env.parallel_env("toy", action_mode="discrete")
    env.reset(seed=4)
    acts = ActionStream(4)  # ignores the mask
    masked = 0
    peak = 0.0
    while env.agents:
        masked += sum(i["masked"] for i in env.step(acts(env))[4].values())
        for a, owner in env.owner_of.items():
            cap_lots = env._capacity[a] / env._lot_kw
            peak = max(peak, *(abs(env.market.exchange.position(owner, k)) / cap_lots
                               for k in env.schedule.slots))
    assert masked > 0
    assert peak <= 2.0 + 1e-9, f"a position of {peak:.2f} capacities"


def test_the_mask_uses_the_true_order_size_after_rounding_to_lots() -> None:
    """A learner of 1 lot: the smallest order (0.1 capacities) is one whole lot, so from a
    position of 2 lots (2 capacities) every buy is masked."""
    from rex_env.envs.actions import discrete_mask, discrete_table, order_lots

    table = discrete_table(1, 2, (0.1, 1.0))
    sizes = tuple(order_lots(f, 1.0) / 1.0 for f in (0.1, 1.0))
    assert sizes == (1.0, 1.0)
    mask = discrete_mask(1, np.array([2.0]), table, sizes)
    buys = 1 + np.flatnonzero(table[:, 1] == 0)
    assert not mask[buys].any() and mask[0] == 1


def test_action_mask_in_obs_follows_the_pettingzoo_convention() -> None:
    env = rex_env.parallel_env("toy", **MASKED)
    space = env.observation_space("prosumer_0")
    assert isinstance(space, spaces.Dict) and list(space) == ["action_mask", "observation"]
    n = env.action_space("prosumer_0").n
    assert space["action_mask"] == spaces.MultiBinary(int(n))
    obs, _ = env.reset(seed=0)
    acts = ActionStream(0, masked=True)
    while True:
        for a, o in obs.items():
            assert space.contains(o)
            np.testing.assert_array_equal(o["action_mask"], env.action_masks(a))
        if not env.agents:
            break
        obs = env.step(acts(env))[0]
    parallel_api_test(rex_env.parallel_env("toy", **MASKED), num_cycles=100)
    with warnings.catch_warnings():  # api_test says so of every Dict observation not its own
        warnings.filterwarnings("ignore", "Observation is not a NumPy array")
        api_test(rex_env.env("toy", **MASKED), num_cycles=100)
    check_env(gym.make(rex_env.GYM_ID, scenario="toy", **MASKED).unwrapped)


def test_action_mask_in_obs_needs_discrete_mode_and_a_box_for_the_vec_env() -> None:
    with pytest.raises(ValueError, match="action_mask_in_obs.*discrete"):
        rex_env.parallel_env("toy", action_mask_in_obs=True)
    with pytest.raises(ValueError, match="action_mask_in_obs"):
        SharedVecEnv.make(n_envs=1, scenario="toy", **MASKED)


# -- state ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, MASKED], ids=["box", "discrete-obs"])
def test_pettingzoo_state_test(kwargs: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        state_test(rex_env.env("toy", **kwargs), rex_env.parallel_env("toy", **kwargs))


@pytest.mark.parametrize("preset", ["toy", "community"])
def test_state_is_the_public_part_once_plus_every_private_block(preset: str) -> None:
    """And an observation is the public part plus its own block: nothing of another
    learner's private block reaches it."""
    env = rex_env.parallel_env(preset, max_cycles=6)
    names = env.feature_names()
    private = set(PRIVATE_SLOT_FEATURES) | set(PRIVATE_FEATURES)
    pub = [i for i, n in enumerate(names) if n.rpartition(".")[2] not in private]
    own = [i for i, n in enumerate(names) if n.rpartition(".")[2] in private]
    k = len(env.possible_agents)
    assert env.state_space.shape == (len(pub) + k * len(own),)
    assert env.state_names() == [names[i] for i in pub] + [
        f"{a}.{names[i]}" for a in env.possible_agents for i in own]
    with pytest.raises(RuntimeError, match="reset"):
        env.state()
    obs, _ = env.reset(seed=1)
    acts = ActionStream(1)
    blocks_differ = False
    while True:
        state = env.state()
        assert state.dtype == np.float32 and env.state_space.contains(state)
        for j, a in enumerate(env.possible_agents):
            vec = _vector(obs[a])
            np.testing.assert_array_equal(vec[pub], state[: len(pub)])
            start = len(pub) + j * len(own)
            np.testing.assert_array_equal(vec[own], state[start:start + len(own)])
        blocks = state[len(pub):].reshape(k, len(own))
        blocks_differ |= bool((blocks != blocks[0]).any())
        if not env.agents:
            break
        obs = env.step(acts(env))[0]
    assert blocks_differ, "the learners' private blocks should differ somewhere"


# -- registration and keywords ----------------------------------------------------------------
def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_importing_rex_env_registers_with_plain_register_calls() -> None:
    out = _run("import sys; n = len(sys.meta_path); import rex_env, gymnasium, pettingzoo; "
               "print(len(sys.meta_path) == n, rex_env.GYM_ID in gymnasium.registry, "
               "rex_env.ENV_ID in pettingzoo.parallel_registry, "
               "rex_env.ENV_ID in pettingzoo.aec_registry)")
    assert out == "True True True True"


def test_without_a_pettingzoo_registry_the_factories_still_work() -> None:
    """PettingZoo 1.26 has no ``register``: importing ``rex_env`` must not fail there."""
    out = _run("import pettingzoo; del pettingzoo.register; import rex_env, gymnasium; "
               "env = rex_env.parallel_env('toy'); env.reset(seed=0); "
               "print(rex_env.GYM_ID in gymnasium.registry, len(env.agents))")
    assert out == "True 2"


@pytest.mark.parametrize("make", [
    pytest.param(lambda: rex_env.parallel_env("toy", bogus=1), id="parallel_env"),
    pytest.param(lambda: gym.make(rex_env.GYM_ID, scenario="toy", bogus=1), id="gymnasium"),
    pytest.param(lambda: pettingzoo.make("parallel", rex_env.ENV_ID, scenario="toy", bogus=1),
                 id="pettingzoo"),
    pytest.param(lambda: RexParallelEnv("toy", bogus=1), id="class"),
])
def test_an_unknown_keyword_raises_pythons_own_wording(make: Any) -> None:
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'bogus'; allowed:"):
        make()
