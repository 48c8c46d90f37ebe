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

Digests are per numeric platform. numpy picks its transcendental functions by CPU at run time
(``numpy.lib.introspect.opt_func_info``): ``arccos``, ``tan``, ``power``, ``expm1`` ... have
AVX-512 versions that differ from the baseline ones in the last bit, and the physics
(pvlib's solar geometry) feeds them into decisions, so a day on an AVX-512 machine differs
from one on an AVX2 machine — each is reproducible on its own platform. :func:`probe` hashes
those functions' results on a fixed vector; the file holds one digest set per probe. A machine
whose probe is recorded must match its set exactly; on another machine a digest must equal one
of the recorded ones (the set recorded before probes existed, for instance), else the case is
skipped with the probe to record (run the reference commit's code there: the module's
``__main__`` with ``--platform LABEL``). The cross-engine and compiled-vs-Python equalities
(``test_engines_market``, ``test_compiled_agents`` ...) hold on every platform.
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


PROBED = ("sin", "cos", "tan", "arcsin", "arccos", "arctan", "exp", "expm1", "log", "log1p",
          "tanh", "cbrt")
"""numpy's float64 functions that have CPU-specific versions (one argument)."""


def probe() -> str:
    """A digest of numpy's float64 math on this machine: equal probes, equal results."""
    x = np.linspace(-0.999, 0.999, 4099)
    h = hashlib.sha256()
    for name in PROBED:
        h.update(getattr(np, name)(50.0 * np.abs(x) + 1e-3 if "log" in name else x).tobytes())
    h.update(np.arctan2(x, x[::-1]).tobytes())
    h.update(np.power(np.abs(x) + 0.5, 3.7 * x).tobytes())
    return h.hexdigest()[:16]


def platforms() -> list[dict[str, Any]]:
    return list(json.loads(FINGERPRINTS.read_text())["platforms"])


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
    sets = platforms()
    assert sets and all(sorted(p["digests"]) == sorted(dict(cases())) for p in sets)
    probes = [p["probe"] for p in sets if p["probe"] is not None]
    assert len(probes) == len(set(probes)), "one digest set per probe"


def test_the_probe_sees_numpys_math(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe is a function of the results: the same on every call, another one when a
    single function answers one ulp differently."""
    here = probe()
    assert probe() == here
    real = np.tan
    monkeypatch.setattr(np, "tan", lambda x: np.nextafter(real(x), np.inf))
    assert probe() != here


@pytest.mark.parametrize("case", sorted(dict(cases())))
def test_a_pinned_episode_is_unchanged(case: str) -> None:
    here = probe()
    sets = platforms()
    mine = [p for p in sets if p["probe"] == here]
    got = fingerprint(case)
    if mine:
        assert got == mine[0]["digests"][case], f"{case}: behaviour changed ({mine[0]['label']})"
    elif got not in {p["digests"][case] for p in sets}:
        pytest.skip(f"numeric platform {here} has no recorded digests and {case} matches none "
                    "of the recorded platforms': record this platform's with the reference "
                    "commit's code (python -m tests.sim.test_fingerprints --platform LABEL)")


if __name__ == "__main__":
    # python -m tests.sim.test_fingerprints [--platform LABEL] [case ...]: (re)write the digests
    # of this machine's probe (a new set, labelled, with --platform)
    args = sys.argv[1:]
    label = None
    if args[:1] == ["--platform"]:
        label, args = args[1], args[2:]
    data = json.loads(FINGERPRINTS.read_text())
    here = probe()
    entry = next((p for p in data["platforms"] if p["probe"] == here), None)
    if entry is None:
        if label is None:
            sys.exit(f"no digest set for probe {here}: name the platform with --platform LABEL")
        entry = {"label": label, "probe": here, "digests": {}}
        data["platforms"].append(entry)
    for c in args or sorted(dict(cases())):
        entry["digests"][c] = fingerprint(c)
        print(c, entry["digests"][c], flush=True)
    entry["digests"] = dict(sorted(entry["digests"].items()))
    FINGERPRINTS.write_text(json.dumps(data, indent=1) + "\n")
