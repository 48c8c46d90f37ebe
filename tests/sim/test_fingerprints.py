"""Whole-episode fingerprints pinned to a reference commit: speed work on the hand-coded
agents and the agent-facing market views (issue 12) must not change a single trade, order,
settlement, reward or observation.

Each case runs a seeded market day (:func:`tests.sim.test_engines_market.day_trace`: every
trade with price, rate, owners and time, every settlement, every surplus) or the first steps
of an env episode (observations and rewards) on one exchange engine, and reduces it to a
SHA-256 of its ``repr``. ``fingerprints.json`` holds the digests the code of commit
``f655655f`` (before the agents' hot paths were optimised) produced; a refactor that keeps
behaviour keeps every digest. A change that *means* to change behaviour regenerates the file
(``python -m tests.sim.test_fingerprints``) and says so in its commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rex_env
import rex_env.sim.market as market_module
from rex_env import _core
from rex_env.exchange import PythonExchange
from tests.sim.test_engines_market import day_trace

FINGERPRINTS = Path(__file__).with_name("fingerprints.json")

DAYS = [("toy", 0), ("toy", 7), ("community", 3), ("community", 11), ("town", 1)]
"""Market days (scenario, seed) run on both engines."""

ENVS = [("toy", {}, 0, None),
        ("community", {"learners": "plant", "action_mode": "tune"}, 5, None),
        ("community", {}, 2, None)]
"""Env episodes (scenario, overrides, seed, steps or ``None`` for the whole episode), random
actions from the seed."""

ZONAL_DAYS = [("two_towns", 4)]
"""Zonal market days: one exchange per zone, whatever the engine setting."""

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")


@contextmanager
def engine(name: str) -> Iterator[None]:
    """Markets built inside use the ``python`` reference or the ``c`` engine."""
    old = market_module.Exchange
    market_module.Exchange = PythonExchange if name == "python" else _core.Exchange
    try:
        yield
    finally:
        market_module.Exchange = old


def digest(trace: Any) -> str:
    """SHA-256 of a trace's ``repr`` (arrays by dtype, shape and bytes)."""
    def norm(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return (str(x.dtype), x.shape, x.tobytes().hex())
        if isinstance(x, dict):
            return [(k, norm(v)) for k, v in x.items()]
        if isinstance(x, (list, tuple)):
            return [norm(v) for v in x]
        return x
    return hashlib.sha256(repr(norm(trace)).encode()).hexdigest()


def env_trace(scenario: str, overrides: dict[str, Any], seed: int, steps: int | None
              ) -> dict[str, Any]:
    """Observations, rewards and the market's trades of an env run with seeded random
    actions."""
    env = rex_env.parallel_env(scenario, **overrides)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    observations = [[obs[a] for a in sorted(obs)]]
    rewards = []
    n = 0
    while env.agents and (steps is None or n < steps):
        acts = {a: rng.uniform(-1, 1, env.action_space(a).shape).astype(np.float32)
                for a in env.agents}
        obs, rew, _, _, _ = env.step(acts)
        rewards.append(sorted(rew.items()))
        observations.append([obs[a] for a in sorted(obs)])
        n += 1
    assert n > 2 and any(r != 0 for step in rewards for _, r in step)
    return {"obs": observations, "rewards": rewards,
            "trades": [tuple(t) for t in env.market.trades],
            "surplus": {o: a.surplus for o, a in sorted(env.market.accounts.items())}}


def cases() -> Iterator[tuple[str, Any]]:
    """``(case id, zero-argument trace function)`` of every pinned case."""
    for name in ("python", "c"):
        for sc, seed in DAYS:
            yield f"day/{sc}/{seed}/{name}", (name, lambda sc=sc, seed=seed: day_trace(sc, seed))
        for sc, ov, seed, steps in ENVS:
            key = ",".join(f"{k}={v}" for k, v in ov.items())
            yield (f"env/{sc}/{key}/{seed}/{steps}/{name}",
                   (name, lambda sc=sc, ov=ov, seed=seed, steps=steps:
                    env_trace(sc, ov, seed, steps)))
    for sc, seed in ZONAL_DAYS:
        yield f"day/{sc}/{seed}/zonal", ("python", lambda sc=sc, seed=seed: day_trace(sc, seed))


def fingerprint(case: str) -> str:
    """The digest of one case's trace (the engine name is dropped from a day trace: the
    cross-engine equality is pinned in :mod:`tests.sim.test_engines_market`)."""
    name, run = dict(cases())[case]
    with engine(name):
        trace = run()
    if isinstance(trace, dict):
        trace.pop("engine", None)
    return digest(trace)


def test_the_pinned_cases_are_the_listed_ones() -> None:
    assert sorted(json.loads(FINGERPRINTS.read_text())) == sorted(dict(cases()))


@pytest.mark.parametrize("case", sorted(dict(cases())))
def test_a_pinned_episode_is_unchanged(case: str) -> None:
    expected = json.loads(FINGERPRINTS.read_text())[case]
    assert fingerprint(case) == expected, f"{case}: behaviour changed"


if __name__ == "__main__":  # regenerate: python -m tests.sim.test_fingerprints [case ...]
    wanted = sys.argv[1:] or sorted(dict(cases()))
    out = json.loads(FINGERPRINTS.read_text()) if FINGERPRINTS.exists() else {}
    for c in wanted:
        out[c] = fingerprint(c)
        print(c, out[c], flush=True)
    FINGERPRINTS.write_text(json.dumps(dict(sorted(out.items())), indent=1) + "\n")
