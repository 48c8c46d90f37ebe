"""The env's compiled box-mode decoding (``rex_env._core.DecoderCore``, issue 12) against its
Python loop, the reference: every learner's action of whole episodes is decoded both ways
from the same state, and the instructions and the working orders left must be equal — box,
offset and price modes, touch and make-take pricing, with and without the feasible
projection. ``tests/sim/test_fingerprints.py`` pins the same end to end."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import rex_env
import rex_env.sim.market as market_module
from rex_env import _core
from rex_env.envs.parallel import RexParallelEnv
from tests.compiled import CountingCore

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")


def _compare_every_decode(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    tally = {"decided": 0, "handed back": 0, "decodes": 0, "instructions": 0}
    decode, compiled = RexParallelEnv._decode, RexParallelEnv._compiled_decoder

    def counting(self: RexParallelEnv) -> Any:
        core = compiled(self)
        return None if core is None else CountingCore(core, tally)

    def both(self: RexParallelEnv, agent: str, action: Any) -> Any:
        steer = self._steer[agent]
        working = dict(steer.working)
        monkeypatch.setattr(_core, "COMPILED_AGENTS", False)
        ref = list(decode(self, agent, action))
        ref_working = dict(steer.working)
        steer.working = working
        monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
        before = tally["decided"]
        got = decode(self, agent, action)
        assert got == ref, f"{agent} at t={self.market.now}"
        assert steer.working == ref_working
        if tally["decided"] > before:
            tally["decodes"] += 1
            tally["instructions"] += len(got)
        return got

    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    monkeypatch.setattr(RexParallelEnv, "_compiled_decoder", counting)
    monkeypatch.setattr(RexParallelEnv, "_decode", both)
    return tally


@pytest.mark.parametrize("scenario,overrides,seed", [
    ("toy", {}, 0),                                           # box, touch pricing
    ("community", {"pricing": "make_take"}, 1),               # the default roles' pricing
    ("community", {"learners": "pv_battery", "feasible": True}, 2),
    ("community", {"learners": "storage", "action_mode": "price", "feasible": True,
                   "pricing": "make_take"}, 3),
    ("community", {"learners": "households", "action_mode": "offset",
                   "target_range": 0.1, "pricing": "make_take"}, 4),
])
def test_every_action_decodes_as_the_reference(monkeypatch: pytest.MonkeyPatch, scenario: str,
                                               overrides: dict[str, Any], seed: int) -> None:
    tally = _compare_every_decode(monkeypatch)
    env = rex_env.parallel_env(scenario, **overrides)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    steps = 0
    while env.agents and steps < 60:
        acts = {a: rng.uniform(-1.2, 1.2, env.action_space(a).shape).astype(np.float32)
                for a in env.agents}
        env.step(acts)
        steps += 1
    assert tally["handed back"] == 0
    assert tally["decodes"] >= steps * len(env.possible_agents) // 2
    assert tally["instructions"] > 50


def test_the_decoder_is_built_once_per_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    env = rex_env.parallel_env("toy")
    env.reset(seed=0)
    core = env._compiled_decoder()
    assert core is not None and env._compiled_decoder() is core
    monkeypatch.setattr(_core, "COMPILED_AGENTS", False)
    assert env._compiled_decoder() is None


def test_the_python_engine_decodes_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    from rex_env.exchange import PythonExchange
    monkeypatch.setattr(market_module, "Exchange", PythonExchange)
    env = rex_env.parallel_env("toy")
    env.reset(seed=0)
    assert env._compiled_decoder() is None


def test_a_record_it_cannot_read_hands_back_with_nothing_changed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from rex_env.exchange import Side, Status
    from rex_env.sim.agent_api import submit
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    env = rex_env.parallel_env("toy")
    env.reset(seed=0)
    while len(env.market.view.open_slots()) < 2:
        env.step({a: np.zeros(env.action_space(a).shape, np.float32) for a in env.agents})
    agent = env.agents[0]
    owner = env.owner_of[agent]
    m = env.market
    a, b = list(m.view.open_slots())[:2]
    [(_, rep)] = m.execute(owner, [submit(Side.BUY, a, 1, 1)])
    assert rep.order is not None and rep.order.status is Status.RESTING
    foreign = object()  # not an order record of this exchange
    working = {a: rep.order, b: foreign}
    held = m.owner_views[owner].positions([a, b])
    core = env._compiled_decoder()
    # slot a at its target: its order would be cancelled; slot b: a record it cannot read
    got = core.decode([a, b], [held[0], held[1] + 3], held, [0.0, 0.0], False, m.now, working)
    assert got is None
    assert working == {a: rep.order, b: foreign}
