"""Shared helpers for the environment tests: budgets per preset, seeded action streams,
lockstep rollouts and a deep equality with a readable failure path.

Budgets: ``toy`` is 14 steps per day and cheap, so the checkers play whole days there;
``community`` is 118 steps (~3 s per random day), so the checkers are cut with
``max_cycles``; ``town`` is the large preset, so it gets only a handful of cycles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import rex_env

PRESETS = ("toy", "community", "town")


@dataclass(frozen=True)
class Budget:
    """How much of a preset the checkers play: ``num_cycles`` and the env's ``max_cycles``."""

    num_cycles: int
    max_cycles: int | None


BUDGETS = {
    "toy": Budget(num_cycles=1000, max_cycles=None),  # whole trading days
    "community": Budget(num_cycles=20, max_cycles=20),
    "town": Budget(num_cycles=4, max_cycles=4),
}

#: ``pytest.mark.parametrize("preset", PRESET_PARAMS)`` with readable ids
PRESET_PARAMS = [pytest.param(p, id=p) for p in PRESETS]


def make_par(preset: str, **kwargs: Any) -> Any:
    """A parallel env of ``preset`` cut to its budget (``max_cycles`` may be overridden)."""
    kwargs.setdefault("max_cycles", BUDGETS[preset].max_cycles)
    return rex_env.parallel_env(preset, **kwargs)


def make_aec(preset: str, **kwargs: Any) -> Any:
    """The AEC form of :func:`make_par`."""
    kwargs.setdefault("max_cycles", BUDGETS[preset].max_cycles)
    return rex_env.env(preset, **kwargs)


class ActionStream:
    """Seeded actions for every live agent, independent of the spaces' own generators.

    Box actions are drawn from ``[-spread, spread]`` (``spread > 1`` exercises clipping);
    discrete actions uniformly from ``[0, n)``, or from the valid ones if ``masked``.
    """

    def __init__(self, seed: int, spread: float = 1.0, masked: bool = False) -> None:
        self.rng = np.random.default_rng(seed)
        self.spread = spread
        self.masked = masked

    def __call__(self, env: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a in env.agents:
            space = env.action_space(a)
            if hasattr(space, "n"):
                if self.masked:
                    valid = np.flatnonzero(env.action_masks(a))
                    out[a] = int(self.rng.choice(valid))
                else:
                    out[a] = int(self.rng.integers(space.n))
            else:
                out[a] = self.rng.uniform(-self.spread, self.spread, space.shape).astype(
                    np.float32)
        return out


def copy_actions(actions: dict[str, Any]) -> dict[str, Any]:
    """An independent copy (so one env cannot alter what its twin receives)."""
    return {a: np.array(v, copy=True) if isinstance(v, np.ndarray) else v
            for a, v in actions.items()}


def trades_since(env: Any, start: int) -> list[Any]:
    return list(env.unwrapped.market.trades[start:])


def step_record(env: Any, actions: dict[str, Any]) -> tuple[Any, ...]:
    """``step`` plus the trades printed during it: (obs, rew, term, trunc, infos, trades)."""
    start = len(env.unwrapped.market.trades)
    out = env.step(copy_actions(actions))
    return (*out, trades_since(env, start))


def lockstep(env1: Any, env2: Any, actions: ActionStream, max_steps: int | None = None,
             seed: int | None = None, reset: bool = True) -> int:
    """Reset both (same ``seed``) and step them in lockstep with the same actions until the
    episode ends, asserting identical observations, rewards, flags, infos and trades at
    every step. Returns the number of steps."""
    if reset:
        r1 = env1.reset(seed=seed)
        r2 = env2.reset(seed=seed)
        assert_same(r1, r2, "reset")
    n = 0
    while env1.agents and (max_steps is None or n < max_steps):
        assert env1.agents == env2.agents
        acts = actions(env1)
        rec1 = step_record(env1, acts)
        rec2 = step_record(env2, acts)
        assert_same(rec1, rec2, f"step {n}")
        n += 1
    assert env1.agents == env2.agents
    return n


def trajectory(env: Any, actions: ActionStream, seed: int | None = None,
               max_steps: int | None = None, reset_kwargs: dict[str, Any] | None = None,
               ) -> list[Any]:
    """Reset (``reset_kwargs`` or ``seed=seed``), then play; every reset and step record."""
    out: list[Any] = [env.reset(**(reset_kwargs if reset_kwargs is not None
                                   else {"seed": seed}))]
    n = 0
    while env.agents and (max_steps is None or n < max_steps):
        out.append(step_record(env, actions(env)))
        n += 1
    return out


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """The path of the first difference between two nested structures, or None."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        if a_arr.dtype != b_arr.dtype or a_arr.shape != b_arr.shape:
            return f"{path}: {a_arr.dtype}{a_arr.shape} != {b_arr.dtype}{b_arr.shape}"
        if not np.array_equal(a_arr, b_arr, equal_nan=a_arr.dtype.kind == "f"):
            idx = np.flatnonzero(a_arr.ravel() != b_arr.ravel())[:5]
            return f"{path}: arrays differ at flat indices {idx.tolist()}"
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            d = first_difference(a[k], b[k], f"{path}[{k!r}]")
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if type(a) is not type(b) or len(a) != len(b):
            return f"{path}: {type(a).__name__}[{len(a)}] != {type(b).__name__}[{len(b)}]"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r} != {type(b).__name__} {b!r}"
    if a != a and b != b:  # both NaN
        return None
    if a != b:
        return f"{path}: {a!r} != {b!r}"
    return None


def assert_same(a: Any, b: Any, path: str = "") -> None:
    d = first_difference(a, b, path)
    assert d is None, f"first difference at {d}"


def differs(a: Any, b: Any) -> bool:
    return first_difference(a, b) is not None


# Checker warnings that point to a real defect of the env: these fail the test (as
# warnings filters, so they stay visible where they are benign).
DEFECT_WARNINGS = (
    # pettingzoo.test.api_test / parallel_test / env.py
    "Observation contains",
    "Observation is not a NumPy array",
    "Observations between agents are different",
    "Observations are different shapes",
    "Observations have different number of dimensions",
    "Observation numpy array is not a numeric dtype",
    "Live agent was not given",
    "Agent was given",
    "No agents present",
    "action_space should return the exact same space object",
    "observation_space should return the exact same space object",
    "Agents have different",
    "The class of",
    "The info of each agent should be a dict",
    "Reward should be",
    "Your environment should override",
    "Action mask",
    # gymnasium (passive checker and check_env), whose warnings read "WARN: ...": all are
    # defects except the ones about how the checker was called. No ":" in these patterns,
    # since pytest splits filter strings on it.
    "WARN. (?!.*(different from the unwrapped version|is now ignored))",
)

#: module-level ``pytestmark``: every warning is shown, the defect ones are errors
WARNING_FILTERS = [
    pytest.mark.filterwarnings("always::UserWarning"),
    *(pytest.mark.filterwarnings(f"error:.*{pattern}") for pattern in DEFECT_WARNINGS),
]
