"""A market reset reuses what depends on no draw (issue 12: a cheap ``reset()``).

Each reset builds every prosumer again, but takes the forecasts' standard deviations and the PV
error scale from the previous episode's prosumer of the same owner (``Prosumer(like=...)``),
restores the lifecycle events from the first episode's kernel and builds a generator only for
the streams a prosumer draws from. None of this may change a number: a market that has run
other episodes must rebuild exactly the episode a fresh market builds from the same seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agents import build_population
from rex_env.envs.parallel import RexParallelEnv
from rex_env.physics import ForecastPath
from rex_env.scenarios import make_scenario
from rex_env.sim.market import Market
from rex_env.sim.prosumer import Prosumer
from rex_env.spec.prosumer import load_peak_kw
from tests.sim.test_prosumer import FULL, SCHED

L = SCHED.slot_len


def episode_tables(m: Market) -> dict[str, Any]:
    """Everything a reset draws or derives: prosumer tables, forecasts, curve, queued events."""
    s = m.schedule
    out: dict[str, Any] = {}
    for owner, p in m.prosumers.items():
        reads = [p.forecast(k, t) for k in s.slots[::5] for t in (0, 4000, s.open_time(k))]
        out[owner] = (p.fc_mean.tolist(), p.fc_std.tolist(), p.generation.tolist(),
                      p.consumption.tolist(), p._phase, reads,
                      [(path.errors.tolist(), np.asarray(path.sigma_table).tolist())
                       for path, _ in p.paths])
    out["curve"] = (m.curve.prices.tolist(), m.curve.bids.tolist(), m.curve.asks.tolist())
    out["queue"] = sorted((e[0], int(e[1]), e[2], e[3], e[4].__name__, e[5])
                          for e in m.kernel._queue)
    out["rng"] = m.rng.bit_generator.state
    return out


def new_market(name: str) -> Market:
    sc = make_scenario(name)
    return Market(sc, build_population(sc))


def cold_reset(m: Market, seed: int) -> None:
    """Reset with nothing reused: the state a market keeps across episodes dropped first (its
    own construction already ran one reset, so a new market alone would not do)."""
    m.prosumers = {}
    m._pv_clear_kw = None
    m._lifecycle = None
    m.reset(seed)


@pytest.mark.parametrize("name", ["community", "toy", "two_towns"])
def test_a_reset_after_other_episodes_builds_what_a_cold_reset_builds(name: str) -> None:
    fresh = new_market(name)
    cold_reset(fresh, 3)
    m = new_market(name)
    m.reset(5)
    m.run_until(3 * 3600)  # part of a day: forecasts read, events consumed
    m.reset(8)
    first_std = {o: p.fc_std for o, p in m.prosumers.items()}
    m.reset(3)
    assert episode_tables(m) == episode_tables(fresh)
    # ... and the seed-independent tables were reused, not rebuilt (else this test tests
    # nothing about reuse)
    assert all(p.fc_std is first_std[o] for o, p in m.prosumers.items())


def test_an_env_reset_after_other_episodes_replays_the_fresh_envs_steps() -> None:
    def run(env: RexParallelEnv) -> list[Any]:
        acts = np.random.default_rng(0)
        obs, _ = env.reset(seed=2)
        out: list[Any] = [[obs[a].tolist() for a in sorted(obs)]]
        for _ in range(8):
            obs, rew, *_ = env.step({a: acts.uniform(-1.0, 1.0, env.action_space(a).shape)
                                     for a in env.agents})
            out.append(([obs[a].tolist() for a in sorted(obs)], sorted(rew.items())))
        return out

    want = run(RexParallelEnv(scenario="community"))
    env = RexParallelEnv(scenario="community")
    env.reset(seed=9)
    for _ in range(5):
        env.step({a: env.action_space(a).sample() for a in env.agents})
    env.reset(seed=4)
    assert run(env) == want


def test_a_prosumer_built_like_an_earlier_one_equals_a_fresh_one() -> None:
    earlier = Prosumer(FULL, SCHED, np.random.default_rng(1))
    earlier.forecast(SCHED.first_slot, 0)  # builds the list rows that are handed on
    p = Prosumer(FULL, SCHED, np.random.default_rng(2), like=earlier)
    q = Prosumer(FULL, SCHED, np.random.default_rng(2))
    np.testing.assert_array_equal(p.fc_mean, q.fc_mean)
    np.testing.assert_array_equal(p.fc_std, q.fc_std)
    assert p.fc_std is earlier.fc_std and not p.fc_std.flags.writeable
    for k in SCHED.slots[::7]:
        for t in (0, 5000, SCHED.open_time(k), SCHED.delivery_start(k)):
            assert p.forecast(k, t) == q.forecast(k, t)


def test_like_must_be_the_same_owner_schedule_and_revision_period() -> None:
    earlier = Prosumer(FULL, SCHED, np.random.default_rng(1))
    other = make_scenario("toy").prosumers[0]
    with pytest.raises(ValueError, match="like must be a prosumer of the same spec"):
        Prosumer(other, SCHED, np.random.default_rng(2), like=earlier)
    with pytest.raises(ValueError, match="like must be a prosumer of the same spec"):
        Prosumer(FULL, SCHED, np.random.default_rng(2), update_s=300, like=earlier)


@pytest.mark.parametrize("owned", [False, True])
@pytest.mark.parametrize("used", [0, 2])
def test_the_prosumers_streams_are_those_spawn_returns(owned: bool, used: int) -> None:
    """Generators are built only for drawn streams, from seed sequences built alone: the
    draws are those of ``rng.spawn(5)`` and the forecast stream's ``spawn(3)``, also from a
    generator that spawned before (``used``); the caller's spawn counter advances as with
    ``spawn(5)`` unless the prosumer owns ``rng``."""
    rng = np.random.default_rng(7)
    rng.spawn(used)
    p = Prosumer(FULL, SCHED, rng, update_s=300, owned=owned)
    r_w, r_pv, r_load, r_fc, r_phase = np.random.default_rng(7).spawn(used + 5)[used:]
    f_w, f_pv, f_load = r_fc.spawn(3)
    n, doy = SCHED.n_slots, SCHED.day_of_year
    assert p._phase == int(r_phase.integers(300))
    wind = FULL.wind.sample(r_w, n, L)  # type: ignore[union-attr]
    pv = FULL.pv.sample(r_pv, doy, n, L)  # type: ignore[union-attr]
    load = FULL.load.sample(r_load, doy, n, L)  # type: ignore[union-attr]
    np.testing.assert_array_equal(p.generation, np.zeros(n) + wind + pv)
    np.testing.assert_array_equal(p.consumption, np.zeros(n) + load)
    revisions = -(-SCHED.open_lead // 300)
    ref = ForecastPath(f_load, load, load_peak_kw(FULL.load), revisions,  # type: ignore[arg-type]
                       slot_len=L, update_s=300)
    np.testing.assert_array_equal(p.paths[2][0].errors, ref.errors)
    assert p.paths[0][0].errors.tolist() == ForecastPath(
        f_w, wind, FULL.wind.capacity_kw, revisions,  # type: ignore[union-attr]
        slot_len=L, update_s=300).errors.tolist()
    assert p.paths[1][0].errors.tolist() == ForecastPath(
        f_pv, pv, FULL.pv.capacity_kw, revisions,  # type: ignore[union-attr]
        slot_len=L, update_s=300, scale=p._pv_scale).errors.tolist()
    # the caller's generator spawned five children, as rng.spawn(5) would have (unless owned)
    after = used if owned else used + 5
    assert rng.spawn(1)[0].random() == np.random.default_rng(7).spawn(after + 1)[after].random()

