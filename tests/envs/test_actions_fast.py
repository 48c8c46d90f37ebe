"""The env's box-action check and targets compiled (``rex_env._core.box_action`` and
``box_targets``, issue 12) against the env's numpy code, the reference: at every step of whole
episodes over the action modes both must give the same arrays and counts (bit for bit) and the
same target lists; on hostile actions the compiled check hands back and the reference raises
its error or decides. ``tests/sim/test_fingerprints.py`` pins the trajectories end to end."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import rex_env
from rex_env import _core
from rex_env.envs.parallel import RexParallelEnv

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")
_VALIDATE = RexParallelEnv._validate  # the env's own, before a test wraps it


def _reference_targets(fc: Any, action: Any, lot_kw: float, reach: float) -> list[int]:
    """RexParallelEnv._decode's numpy expression."""
    n = len(fc)
    return np.rint(-fc / lot_kw + action[0:2 * n:2] * reach).astype(np.int64).tolist()


def _validate_both(env: RexParallelEnv, monkeypatch: pytest.MonkeyPatch, agent: str,
                   action: Any) -> tuple[Any, Any]:
    """``env._validate`` with the compiled check and with the numpy one: result or error."""
    out = []
    for on in (True, False):
        monkeypatch.setattr(_core, "COMPILED_AGENTS", on)
        try:
            out.append(_VALIDATE(env, agent, action))
        except ValueError as exc:
            out.append(("raised", str(exc)))
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
    return out[0], out[1]


def _same(got: Any, ref: Any) -> None:
    if isinstance(ref[0], str):  # ("raised", message)
        assert got == ref
        return
    assert got[1:] == ref[1:]
    assert got[0].dtype == ref[0].dtype == np.float64
    assert got[0].tobytes() == ref[0].tobytes()


@pytest.mark.parametrize("overrides,seed", [
    ({}, 1),
    ({"learners": "pv_battery", "feasible": True}, 2),
    ({"learners": "storage", "action_mode": "price"}, 3),
    ({"learners": "households", "action_mode": "offset", "target_range": 0.1}, 4),
])
def test_every_step_s_action_and_targets_are_the_reference_s(
        monkeypatch: pytest.MonkeyPatch, overrides: dict[str, Any], seed: int) -> None:
    tally = {"actions": 0, "targets": 0, "clipped": 0, "handed back": 0}
    box_action, box_targets = _core.box_action, _core.box_targets

    def checked_validate(self: RexParallelEnv, agent: str, action: Any) -> Any:
        got, ref = _validate_both(self, monkeypatch, agent, action)
        _same(got, ref)
        tally["clipped"] += got[1]
        return _VALIDATE(self, agent, action)

    def counted_action(action: Any, n: int) -> Any:
        got = box_action(action, n)
        tally["actions" if got is not None else "handed back"] += 1
        return got

    def checked_targets(fc: Any, action: Any, lot_kw: float, reach: float) -> Any:
        got = box_targets(fc, action, lot_kw, reach)
        assert got == _reference_targets(fc, action, lot_kw, reach)
        assert all(type(x) is int for x in got)
        tally["targets"] += 1
        return got

    monkeypatch.setattr(RexParallelEnv, "_validate", checked_validate)
    monkeypatch.setattr(_core, "box_action", counted_action)
    monkeypatch.setattr(_core, "box_targets", checked_targets)
    env = rex_env.parallel_env("community", **overrides)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for t in range(60):
        dtype = np.float64 if t % 3 == 0 else np.float32
        env.step({a: rng.uniform(-1.3, 1.3, env.action_space(a).shape).astype(dtype)
                  for a in env.agents})
    assert tally["handed back"] == 0
    assert tally["actions"] > 100 and tally["clipped"] > 20
    assert tally["targets"] > 50


def test_hostile_actions_get_the_reference_s_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    env = rex_env.parallel_env("community")
    env.reset(seed=0)
    base = env.unwrapped
    agent = base.agents[0]
    n = env.action_space(agent).shape[0]
    rng = np.random.default_rng(5)
    good = rng.uniform(-2, 2, n)
    cases: list[Any] = [
        good, good.astype(np.float32), good.astype(np.float16), np.round(good).astype(np.int64),
        good[::-1], np.repeat(good, 2)[::2],                     # strided views
        good.reshape(1, n), good[:-1], np.append(good, 0.0), np.zeros(0),
        [float(x) for x in good], np.float64(0.5), None,
        np.full(n, -0.0), np.full(n, 1.0), np.full(n, -1.0), np.full(n, np.nextafter(1.0, 2.0)),
        np.full(n, 1e308), np.full(n, 5e-324), np.full(n, np.float32(3e38), np.float32),
    ]
    for bad in (np.nan, np.inf, -np.inf):
        x = good.copy()
        x[int(rng.integers(n))] = bad
        cases += [x, x.astype(np.float32)]
    for action in cases:
        got, ref = _validate_both(base, monkeypatch, agent, action)
        if action is None:
            assert got == ref == (None, 0, 0)
        else:
            _same(got, ref)
    assert _core.box_action(good.astype(np.float16), n) is None
    assert _core.box_action(good.reshape(1, n), n) is None
    assert _core.box_action([0.0] * n, n) is None


def test_box_targets_hand_back_what_numpy_would_not_make_an_exact_int() -> None:
    rng = np.random.default_rng(9)
    for _ in range(2000):
        n = int(rng.integers(0, 12))
        fc = rng.normal(0, 10 ** rng.uniform(-3, 6), n)
        action = rng.uniform(-1, 1, 2 * n + int(rng.integers(0, 3)))
        lot, reach = float(rng.choice([0.1, 1.0, 2.5])), float(rng.uniform(0, 1e3))
        assert _core.box_targets(fc, action, lot, reach) == _reference_targets(
            fc, action, lot, reach)
    half = np.array([0.5, 1.5, 2.5, -0.5, -1.5]) * 0.1  # ties round half to even, as np.rint
    assert _core.box_targets(-half, np.zeros(10), 0.1, 1.0) == [0, 2, 2, 0, -2]
    assert _core.box_targets(np.array([1e300]), np.zeros(2), 0.1, 1.0) is None
    assert _core.box_targets(np.array([np.nan]), np.zeros(2), 0.1, 1.0) is None
    assert _core.box_targets(np.array([1.0, 2.0]), np.zeros(3), 0.1, 1.0) is None  # short
    # another dtype or shape: numpy's promotion rules decide (float32 * float stays float32)
    assert _core.box_targets(np.ones(2), np.zeros(4, np.float32), 0.1, 1.0) is None
    assert _core.box_targets(np.ones(2, np.float32), np.zeros(4), 0.1, 1.0) is None
    assert _core.box_targets(np.ones((1, 2)), np.zeros(4), 0.1, 1.0) is None
    assert _core.box_targets([1.0, 2.0], np.zeros(4), 0.1, 1.0) is None


@pytest.mark.parametrize("scenario,overrides,seed", [
    ("community", {}, 5),
    ("community", {"learners": "storage", "pricing": "make_take"}, 6),
])
def test_every_learner_s_reports_are_noted_as_the_steer_notes_them(
        monkeypatch: pytest.MonkeyPatch, scenario: str, overrides: dict[str, Any],
        seed: int) -> None:
    """``note_reports`` (the step's loop over a learner's reports) leaves the same working
    orders and rejection counts as ``OrderSteer.note`` and the count: at every step, given the
    same reports and a copy of the working orders, both end equal."""
    from rex_env.envs.actions import OrderSteer

    note = _core.note_reports
    tally = {"calls": 0, "noted": 0}

    def checked(pairs: Any, working: dict[int, Any], rejections: dict[str, int],
                resting: Any) -> None:
        steer = OrderSteer()
        steer.working = dict(working)
        ref_rejections = dict(rejections)
        for ins, rep in pairs:  # RexParallelEnv.step's Python loop
            steer.note(ins, rep.order)
            if rep.reason is not None:
                ref_rejections[rep.reason.value] = ref_rejections.get(rep.reason.value, 0) + 1
        before = len(working)
        note(pairs, working, rejections, resting)
        assert list(working.items()) == list(steer.working.items())
        assert rejections == ref_rejections
        tally["calls"] += 1
        tally["noted"] += len(working) - before

    monkeypatch.setattr(_core, "note_reports", checked)
    env = rex_env.parallel_env(scenario=scenario, **overrides)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    while env.agents:
        env.step({a: env.action_space(a).sample() if rng.random() < 0.2
                  else rng.uniform(-1, 1, env.action_space(a).shape).astype(np.float32)
                  for a in env.agents})
    assert tally["calls"] > 50 and tally["noted"] > 50
