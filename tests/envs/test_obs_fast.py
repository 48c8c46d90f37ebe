"""The learners' private slot features compiled (``rex_env._core.private_slots``, issue 12)
against the env's Python loop, the reference: at every observation of whole episodes both
compute the positions, working orders, their price features and the forecasts from the same
state, and the figures (bit for bit) and the working orders left must be equal — over the
scenario's learner roles; where the core cannot read a working order or a prosumer is not the
plain class, the reference decides. ``tests/sim/test_fingerprints.py`` pins the observations
end to end."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import rex_env
from rex_env import _core
from rex_env.envs.observation import DEPTH_SCALE, PublicBlock, slot_features
from rex_env.envs.parallel import RexParallelEnv
from rex_env.exchange import Side, Status
from rex_env.exchange.lob3d import LOB3D
from rex_env.sim.prosumer import Prosumer

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")


def _compare_every_observation(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    tally = {"compiled": 0, "handed back": 0, "observations": 0}
    private_slots, core = RexParallelEnv._private_slots, _core.private_slots

    def counted(*args: Any) -> bool:
        done = bool(core(*args))
        tally["compiled" if done else "handed back"] += 1
        return done

    def both(self: RexParallelEnv, agents: Any, owners: Any, slots: range, now: int) -> Any:
        steers = [self._steer[a] for a in agents]
        working = [dict(s.working) for s in steers]
        monkeypatch.setattr(_core, "COMPILED_AGENTS", False)
        ref = private_slots(self, agents, owners, slots, now)
        ref_working = [dict(s.working) for s in steers]
        for s, w in zip(steers, working, strict=True):
            s.working = dict(w)
        monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
        got = private_slots(self, agents, owners, slots, now)
        assert len(got) == len(ref) == 5
        for g, r in zip(got, ref, strict=True):
            assert g.shape == r.shape and g.dtype == r.dtype
            assert g.tobytes() == r.tobytes(), f"t={now}"
        assert [s.working for s in steers] == ref_working
        tally["observations"] += 1
        return got

    monkeypatch.setattr(_core, "private_slots", counted)
    monkeypatch.setattr(RexParallelEnv, "_private_slots", both)
    return tally


def _run(env: Any, seed: int, steps: int) -> None:
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        if not env.agents:
            break
        env.step({a: rng.uniform(-1.2, 1.2, env.action_space(a).shape).astype(np.float32)
                  for a in env.agents})


@pytest.mark.parametrize("scenario,overrides,seed", [
    ("toy", {}, 0),
    ("community", {}, 1),                                   # the default roles
    ("community", {"learners": "pv_battery", "feasible": True}, 2),
    ("community", {"learners": "storage", "action_mode": "price"}, 3),
    ("community", {"learners": "households", "action_mode": "offset",
                   "target_range": 0.1}, 4),
])
def test_every_observation_s_private_figures_are_the_reference_s(
        monkeypatch: pytest.MonkeyPatch, scenario: str, overrides: dict[str, Any],
        seed: int) -> None:
    tally = _compare_every_observation(monkeypatch)
    env = rex_env.parallel_env(scenario, **overrides)
    _run(env, seed, 120)
    assert tally["handed back"] == 0
    assert tally["compiled"] == tally["observations"] > 10
    # the comparison saw working orders and forecasts, not only zeros
    assert any(s.working for s in env.unwrapped._steer.values()) or scenario == "toy"


def test_a_working_order_the_core_cannot_read_goes_to_the_reference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tally = _compare_every_observation(monkeypatch)
    env = rex_env.parallel_env("community")
    _run(env, 5, 30)
    base = env.unwrapped
    slots = base.market.view.open_slots()[: base.window]
    agent, slot = next((a, k) for a, s in base._steer.items() for k, o in s.working.items()
                       if k in slots and o.status is Status.RESTING)
    steer = base._steer[agent]
    order = steer.working[slot]

    class Foreign:  # not a record of the core's exchange, with the fields the reference reads
        status, side, rate, price = order.status, order.side, order.rate, order.price
        order_id, first_slot = order.order_id, order.first_slot

    steer.working[slot] = Foreign()  # type: ignore[assignment]
    before = tally["handed back"]
    pos, wr, wp, fc, sd = base._private_slots(  # compared with the reference inside
        base.agents, [base.owner_of[a] for a in base.agents], slots, base.market.now)
    assert tally["handed back"] == before + 1
    i, j = base.agents.index(agent), list(slots).index(slot)
    assert wr[i, j] == (order.rate if order.side is Side.BUY else -order.rate) * base._lot_kw


def test_a_prosumer_subclass_goes_to_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    tally = _compare_every_observation(monkeypatch)

    class Mine(Prosumer):
        pass

    env = rex_env.parallel_env("community")
    _run(env, 6, 10)
    base = env.unwrapped
    owner = base.owner_of[base.agents[0]]
    base.market.prosumers[owner].__class__ = Mine
    calls = tally["compiled"]
    _run_more(env, 5)
    assert tally["compiled"] == calls, "a prosumer the core does not know: Python decides"
    assert tally["observations"] >= 5


def _run_more(env: Any, steps: int) -> None:
    rng = np.random.default_rng(99)
    for _ in range(steps):
        env.step({a: rng.uniform(-1, 1, env.action_space(a).shape).astype(np.float32)
                  for a in env.agents})


# -- the public per-slot block (rex_env._core.public_block against PublicBlock.fill) ----------
def _reference_block(pub: PublicBlock, lob: LOB3D, gate: Any, ref: float, lot_kw: float,
                     wholesale: Any) -> np.ndarray:
    """What the env computes on the Python engine: the open codes, then PublicBlock.fill."""
    block = PublicBlock(pub.window, pub.k)
    codes = np.where(lob.phase == 2, 1.0, np.where(lob.phase == 1, 0.5, 0.0))
    with np.errstate(all="ignore"):
        block.fill(lob, codes, gate, ref, lot_kw, wholesale)
    return block.values


@pytest.mark.parametrize("scenario,overrides,seed", [
    ("toy", {}, 0),
    ("community", {}, 1),
    ("community", {"learners": "storage", "action_mode": "price"}, 2),
    ("town", {}, 3),
])
def test_every_public_block_is_the_reference_s(monkeypatch: pytest.MonkeyPatch, scenario: str,
                                               overrides: dict[str, Any], seed: int) -> None:
    core = _core.public_block
    seen = {"calls": 0, "open": 0, "quoted": 0, "wholesale": 0}

    def both(values: Any, lob: LOB3D, gate: Any, ref: float, lot_kw: float, scale: float,
             wholesale: Any = None) -> None:
        core(values, lob, gate, ref, lot_kw, scale, wholesale)
        assert scale == DEPTH_SCALE
        want = _reference_block(PublicBlock(values.shape[0], lob.k), lob, gate, ref, lot_kw,
                                wholesale)
        assert values.dtype == want.dtype and values.tobytes() == want.tobytes()
        seen["calls"] += 1
        seen["open"] += int((lob.phase == 2).sum())
        seen["quoted"] += int((~np.isnan(lob.best_bid)).sum())
        seen["wholesale"] += wholesale is not None

    monkeypatch.setattr(_core, "public_block", both)
    env = rex_env.parallel_env(scenario, **overrides)
    _run(env, seed, 120)
    assert seen["calls"] > 10 and seen["open"] > 0 and seen["quoted"] > 0
    assert (seen["wholesale"] == 0) == env.unwrapped.market.curve.flat


def test_public_block_on_hostile_books_is_the_reference_s() -> None:
    """NaN, ±inf and huge figures, empty and partly quoted slots, every phase code."""
    rng = np.random.default_rng(7)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308, -1e308, 5e-324, 2.0**53])
    for trial in range(300):
        n, k = int(rng.integers(0, 9)), int(rng.integers(1, 6))
        window = n + int(rng.integers(0, 3))
        lob = LOB3D.empty(n, k)

        def draw(shape: Any, lo: float = -500.0, hi: float = 5000.0) -> np.ndarray:
            x = rng.uniform(lo, hi, shape)
            mask = rng.random(shape) < 0.2
            x[mask] = rng.choice(specials, int(mask.sum()))
            return x

        lob.phase[:] = rng.integers(-1, 4, n)
        lob.best_bid[:], lob.best_ask[:] = draw(n), draw(n)
        lob.bid_depth[:], lob.ask_depth[:] = draw((n, k), 0, 1e6), draw((n, k), 0, 1e6)
        lob.last_price[:], lob.vwap[:], lob.volume[:] = draw(n), draw(n), draw(n, 0, 1e9)
        gate = draw(n, 0, 1)
        wholesale = draw(n) if trial % 2 else None
        ref, lot = float(rng.choice([1.0, 97.0, 1000.0, -50.0])), float(rng.choice([0.1, 1.0]))
        values = np.full((window, len(slot_features(k))), 7.0, np.float32)  # all overwritten
        with np.errstate(all="ignore"):
            _core.public_block(values, lob, gate, ref, lot, DEPTH_SCALE, wholesale)
            want = _reference_block(PublicBlock(window, k), lob, gate, ref, lot, wholesale)
        assert values.tobytes() == want.tobytes(), f"trial {trial}"


def test_public_block_rejects_arrays_that_do_not_match() -> None:
    lob = LOB3D.empty(4, 3)
    values = np.zeros((4, len(slot_features(3))), np.float32)
    good = np.zeros(4)
    _core.public_block(values, lob, good, 100.0, 1.0, DEPTH_SCALE)
    with pytest.raises(ValueError, match="do not match"):
        _core.public_block(values, lob, np.zeros(3), 100.0, 1.0, DEPTH_SCALE)  # gate
    with pytest.raises(ValueError, match="do not match"):
        _core.public_block(values[:3], lob, good, 100.0, 1.0, DEPTH_SCALE)  # too few rows
    with pytest.raises(ValueError, match="do not match"):
        _core.public_block(np.zeros((4, 10), np.float32), lob, good, 100.0, 1.0,
                           DEPTH_SCALE)  # too few columns
    with pytest.raises(ValueError, match="4 slots"):
        _core.public_block(values, lob, good, 100.0, 1.0, DEPTH_SCALE, np.zeros(5))
    with pytest.raises((ValueError, TypeError)):
        _core.public_block(values.astype(np.float64), lob, good, 100.0, 1.0, DEPTH_SCALE)
    assert not values.any(), "a rejected call leaves the block as it was"


# -- the forecasts the feasibility projection reads (rex_env._core.forecast_means) -------------
@pytest.mark.parametrize("overrides,seed", [
    ({}, 1),                                                # households with batteries among them
    ({"learners": "pv_battery", "feasible": True}, 2),
])
def test_every_projection_reads_the_reference_s_forecasts(
        monkeypatch: pytest.MonkeyPatch, overrides: dict[str, Any], seed: int) -> None:
    core = _core.forecast_means
    seen = {"calls": 0, "slots": 0}

    def both(tables: Any, slots: range, now: int) -> Any:
        got = core(tables, slots, now)
        owner = next(p for p in env.unwrapped.market.prosumers.values()
                     if p.forecast_arrays()[5] is tables[5])
        want = [float(x) for x in owner.forecast_window(slots, now)[0]]
        assert got is not None and all(type(x) is float for x in got)
        assert np.array(got).tobytes() == np.array(want).tobytes()
        seen["calls"] += 1
        seen["slots"] += len(slots)
        return got

    monkeypatch.setattr(_core, "forecast_means", both)
    env = rex_env.parallel_env("community", **overrides)
    _run(env, seed, 96)
    assert seen["calls"] > 100 and seen["slots"] > 10 * seen["calls"]


def test_forecast_means_hands_back_outside_the_tables() -> None:
    env = rex_env.parallel_env("community")
    env.reset(seed=0)
    pro = next(iter(env.unwrapped.market.prosumers.values()))
    tables = pro.forecast_arrays()
    first, rows = tables[0], tables[5].shape[0]
    now = env.unwrapped.market.now
    inside = range(first, first + rows)
    assert _core.forecast_means(tables, inside, now) == [
        float(x) for x in pro.forecast_window(inside, now)[0]]
    assert _core.forecast_means(tables, range(first - 1, first + 2), now) is None
    assert _core.forecast_means(tables, range(first, first + rows + 1), now) is None
    assert _core.forecast_means(tables, range(first, first + 4, 2), now) is None
    assert _core.forecast_means(tables, range(first, first), now) == []
