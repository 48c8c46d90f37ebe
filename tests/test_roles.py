"""Roles (rex_env.spec.roles), learners= by role, the by-role VecEnv split, and the statistics of
rex_env.eval (issue 13)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rex_env.envs import RexParallelEnv
from rex_env.eval.stats import (
    mean_ci,
    normalised,
    normalised_ci,
    paired_diff,
    t_critical,
    two_way_ci,
)
from rex_env.scenarios import make_scenario
from rex_env.spec.roles import ROLE_NAMES, get_role, role_owners, scenario_roles


# -- roles -------------------------------------------------------------------------------------
def test_every_spec_role_exists_in_community_and_owners_are_grouped_by_assets() -> None:
    sc = make_scenario("community")
    # every role of assets (spatial, the one role without assets, needs zones)
    assert scenario_roles(sc) == tuple(r for r in ROLE_NAMES if r != "spatial")
    assert "spatial" in ROLE_NAMES and not get_role("spatial").bounded
    households = role_owners(sc, "households")
    assert len(households) == 21 and "house05" not in households  # house05 has a battery
    assert role_owners(sc, "pv_battery") == ("house05", "house06", "house07")
    assert role_owners(sc, "wind") == ("wind",)
    assert role_owners(sc, "plant") == ("plant",)
    assert role_owners(sc, "storage") == ("battery",)
    # the scenario's own learners of the role, when asked (what headroom.py scores)
    assert role_owners(sc, "households", prefer_learners=True) == tuple(
        f"house{i:02d}" for i in range(5))
    assert get_role("storage").baseline == "rolling_intrinsic"
    assert get_role("plant").baseline is None


def test_unknown_role_and_missing_role_name_what_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"unknown role 'wizard'; allowed: households, "
                                         r"pv_battery, wind, plant, storage"):
        get_role("wizard")
    with pytest.raises(ValueError, match=r"scenario 'toy' has no prosumer of role 'pv_battery';"
                                         r" its roles: households, wind, plant, storage"):
        role_owners(make_scenario("toy"), "pv_battery")


def test_env_learners_by_role_and_all() -> None:
    assert RexParallelEnv("toy", learners="storage").owner_of == {"prosumer_0": "battery"}
    assert list(RexParallelEnv("toy", learners="households").owner_of.values()) == [
        "house00", "house01"]
    every = RexParallelEnv("toy", learners="all")
    assert list(every.owner_of.values()) == ["house00", "house01", "wind", "plant", "battery"]
    with pytest.raises(ValueError, match="has no prosumer of role 'pv_battery'"):
        RexParallelEnv("toy", learners="pv_battery")
    with pytest.raises(ValueError, match="roles: households, wind, plant, storage"):
        RexParallelEnv("toy", learners="wizard")


def test_observation_carries_what_each_role_needs() -> None:
    env = RexParallelEnv("toy", learners="all")
    obs, _ = env.reset(seed=3)
    names = env.feature_names()
    idx = {n: i for i, n in enumerate(names)}
    # the price curve ahead (per window slot) and the private state every role reads
    assert "slot00.wholesale" in idx and f"slot{env.window - 1:02d}.wholesale" in idx
    battery, plant = env.agent_of["battery"], env.agent_of["plant"]
    spec = env.scenario.spec("battery").battery
    assert obs[battery][idx["soc"]] == pytest.approx(spec.initial_soc)
    assert obs[battery][idx["has_battery"]] == 1.0 and obs[plant][idx["has_plant"]] == 1.0
    start = env.market.prosumers["plant"].plant_kw / env.scenario.spec("plant").plant.capacity_kw
    assert obs[plant][idx["plant_output"]] == pytest.approx(start)


@pytest.mark.parametrize("vec", ["SharedVecEnv", "RexVecEnv"])
def test_role_hub_splits_the_learners_by_role_and_steps_them_in_lockstep(vec: str) -> None:
    import threading

    from rex_env.envs.byrole import RoleHub
    from rex_env.envs.rexvec import RexVecEnv
    from rex_env.envs.vec import SharedVecEnv

    kw = {"scenario": "toy", "learners": "all", "action_mode": "offset"}
    venv = SharedVecEnv.make(2, **kw) if vec == "SharedVecEnv" else RexVecEnv.make(2, 2, **kw)
    venv.seed(5)
    hub = RoleHub(venv)
    assert hub.roles == ["households", "wind", "plant", "storage"]
    assert [len(hub.indices[r]) for r in hub.roles] == [4, 2, 2, 2]  # 2 copies
    assert sorted(np.concatenate(list(hub.indices.values()))) == list(range(10))
    assert hub.timesteps(3, 8) == {"households": 96, "wind": 48, "plant": 48, "storage": 48}
    got: dict[str, tuple[int, int]] = {}

    def drive(role: str) -> None:
        view = hub.views[role]
        obs = view.reset()
        for _ in range(3):
            view.step_async(np.zeros((view.num_envs, 2), np.float32))
            obs, rew, done, infos = view.step_wait()
        got[role] = (obs.shape[0], len(infos))

    threads = [threading.Thread(target=drive, args=(r,)) for r in hub.roles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {r: (len(hub.indices[r]),) * 2 for r in hub.roles}
    assert venv.get_attr("_step_count", [0, 9]) == [3, 3]  # one market step per lockstep step
    venv.close()


# -- statistics ------------------------------------------------------------------------------
def test_t_critical_matches_the_table() -> None:
    for df, t in ((5, 2.5706), (10, 2.2281), (30, 2.0423), (1000, 1.9623)):
        assert t_critical(df) == pytest.approx(t, abs=2e-3)
    assert math.isnan(t_critical(0))


def test_mean_ci_and_two_way_ci_on_one_run_agree() -> None:
    x = [1.0, 2.0, 3.0, 4.0]
    m, h = mean_ci(x)
    assert m == 2.5 and h == pytest.approx(t_critical(3) * np.std(x, ddof=1) / 2)
    assert two_way_ci([x]) == (m, h)
    assert math.isnan(mean_ci([7.0])[1]) and math.isnan(mean_ci([])[0])


def test_two_way_ci_includes_training_seed_variance() -> None:
    seeds = np.linspace(-1, 1, 10)
    same = np.array([seeds, seeds, seeds])  # three runs that learned the same policy
    apart = same + np.array([[-0.5], [0.0], [0.5]])  # runs apart by more than the seed noise
    assert two_way_ci(apart)[1] > 1.5 * two_way_ci(same)[1]
    with pytest.raises(ValueError, match="non-empty runs x seeds"):
        two_way_ci(np.zeros((0, 3)))


def test_two_way_ci_covers_the_mean_at_about_95_percent() -> None:
    rng = np.random.default_rng(0)
    hits = 0
    n = 1000
    for _ in range(n):
        y = (rng.normal(0, 1.0, (3, 1)) + rng.normal(0, 1.0, (1, 10))
             + rng.normal(0, 0.5, (3, 10)))
        m, h = two_way_ci(y)
        hits += abs(m) <= h
    assert 0.93 <= hits / n <= 0.995


def test_paired_difference_cancels_the_common_seed_effect() -> None:
    seed_effect = np.array([5.0, -3.0, 10.0, 0.0, 2.0])
    policy = np.array([seed_effect + 1.0 + 0.01 * np.arange(5), seed_effect + 1.1])
    proto = seed_effect
    d, h = paired_diff(policy, proto)
    assert d == pytest.approx(1.06) and h < 0.5
    assert two_way_ci(policy)[1] > 5 * h
    with pytest.raises(ValueError, match="same seeds"):
        paired_diff(policy, proto[:3])


def test_normalised_score_and_share_of_headroom() -> None:
    rnd, proto, bound = np.array([0.0, 1.0]), np.array([0.5, 2.0]), np.array([1.0, 3.0])
    np.testing.assert_allclose(normalised(proto, rnd, bound), [[0.5, 0.5]])
    np.testing.assert_allclose(normalised(bound, proto, bound), [[1.0, 1.0]])
    # no headroom on a seed: undefined there, not infinite
    share = normalised([1.0, 2.5], [1.0, 2.0], [1.0, 3.0])
    assert math.isnan(share[0, 0]) and share[0, 1] == 0.5
    assert normalised_ci([1.0, 2.5], [1.0, 2.0], [1.0, 3.0])[0] == 0.5


def test_the_tables_normalised_score_and_headroom_share_include_training_seed_variance() -> None:
    from rex_env.eval.benchmark import Benchmark
    from rex_env.eval.episodes import Episode

    seeds = [1, 2, 3, 4, 5]

    def day(name: str, seed: int, surplus: float, bound: float = math.nan) -> Episode:
        return Episode(name, seed, surplus=surplus, imbalance_kwh=0.0, imbalance_cost=0.0,
                       benefit=0.0, spread=0.0, volatility=0.0, welfare=10.0 + surplus,
                       bound=bound)

    def bench(offsets: tuple[float, ...]) -> dict[str, tuple[float, float]]:
        b = Benchmark("storage", {"scenario": "community"}, seeds)
        b.episodes["random"] = [[day("random", s, 0.1 * s) for s in seeds]]
        b.episodes["prototype"] = [[day("prototype", s, 1 + 0.1 * s, 3 + 0.1 * s)
                                    for s in seeds]]
        b.episodes["ppo"] = [[day("ppo", s, 2 + 0.1 * s + d + 0.01 * (s % 2)) for s in seeds]
                             for d in offsets]
        return b.summary()["ppo"]

    alike, apart = bench((0.0, 0.0, 0.0)), bench((-0.4, 0.0, 0.4))
    for key in ("normalised", "headroom_share", "vs_prototype", "welfare_vs_prototype"):
        # the same mean; a CI several times wider when the training seeds disagree
        assert apart[key][0] == pytest.approx(alike[key][0]), key
        assert apart[key][1] > 5 * alike[key][1], key
    assert alike["headroom_share"][0] == pytest.approx(0.5, abs=0.01)
    assert alike["normalised"][0] == pytest.approx(np.mean([(2 + 0.1 * s + 0.01 * (s % 2)
                                                             - 0.1 * s) / 3 for s in seeds]))


def test_the_table_pairs_ppo_with_the_strong_baseline_too() -> None:
    """A policy built on the strong baseline (tune_base="baseline") must be read against it:
    beating the prototype by the baseline's own margin is not learning."""
    from rex_env.eval.benchmark import Benchmark, markdown
    from rex_env.eval.episodes import Episode

    seeds = [1, 2, 3, 4]

    def day(name: str, seed: int, surplus: float) -> Episode:
        return Episode(name, seed, surplus=surplus, imbalance_kwh=0.0, imbalance_cost=0.0,
                       benefit=0.0, spread=0.0, volatility=0.0, welfare=surplus)

    b = Benchmark("storage", {"scenario": "community"}, seeds)
    b.episodes["prototype"] = [[day("prototype", s, 1.0 + s) for s in seeds]]
    b.episodes["baseline"] = [[day("baseline", s, 3.0 + s) for s in seeds]]
    b.episodes["ppo"] = [[day("ppo", s, 3.0 + s + 0.01 * (s % 2)) for s in seeds]]
    s = b.summary()
    assert s["ppo"]["vs_prototype"][0] == pytest.approx(2.005)
    assert s["ppo"]["vs_baseline"][0] == pytest.approx(0.005)
    assert s["ppo"]["vs_baseline"][1] > 0.005  # not significant: no better than the baseline
    assert s["baseline"]["vs_baseline"] == (0.0, 0.0)
    text = markdown(b)
    assert "ppo − prototype: +2.0050" in text and "(significant at 95 %)" in text
    assert "ppo − baseline: +0.0050" in text and "(not significant at 95 %)" in text
