"""The kernel's compiled tie-break draw (``rex_env._core.UniformDraw``, issue 12) against
``Generator.random()``, the reference: the same floats from the same state, interleaved with
every other kind of draw from the generator, on each of numpy's bit generators, after
pickling and deep-copying (the generator stays shared with the market that holds it)."""

from __future__ import annotations

import copy
import pickle
import random

import numpy as np
import pytest

from agents import build_population
from rex_env import _core
from rex_env.scenarios import make_scenario
from rex_env.sim.market import Market

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")

BIT_GENERATORS = [np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64,
                  np.random.MT19937]


def _mixed(g: np.random.Generator, draw: object, n: int = 300) -> list[float]:
    """``n`` draws of the tie-break interleaved with the other draws an episode makes."""
    out: list[float] = []
    for i in range(n):
        out.append(draw())  # type: ignore[operator]
        if i % 3 == 0:
            out.append(float(g.normal()))
        if i % 5 == 0:
            out.append(float(g.integers(0, 1000)))
        if i % 7 == 0:
            out.extend(g.random(3).tolist())
        if i % 11 == 0:
            out.append(float(g.exponential(2.0)))
    return out


@pytest.mark.parametrize("bitgen", BIT_GENERATORS)
def test_it_draws_what_generator_random_draws(bitgen: type) -> None:
    a = np.random.Generator(bitgen(2026))
    b = np.random.Generator(bitgen(2026))
    assert _mixed(a, _core.UniformDraw(a)) == _mixed(b, b.random)
    assert a.random() == b.random()  # the state advanced alike


def test_pickles_and_copies_with_its_generator() -> None:
    g = np.random.default_rng(7)
    draw = _core.UniformDraw(g)
    draw()
    for clone in (pickle.loads(pickle.dumps((g, draw))), copy.deepcopy((g, draw))):
        g2, draw2 = clone
        assert draw2.generator is g2
        ref = copy.deepcopy(g)
        assert _mixed(g2, draw2, 50) == _mixed(ref, ref.random, 50)
    assert draw.generator is g


@pytest.mark.parametrize("bad", [random.Random(1), np.random.RandomState(1), None, 3.0])
def test_anything_but_a_generator_is_refused(bad: object) -> None:
    with pytest.raises(TypeError, match="numpy Generator"):
        _core.UniformDraw(bad)


def test_the_market_kernel_uses_it_where_the_compiled_paths_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sc = make_scenario("toy")
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
    m = Market(sc, build_population(sc))
    m.reset(3)
    assert isinstance(m.kernel._draw, _core.UniformDraw) and m.kernel._draw.generator is m.rng
    monkeypatch.setattr(_core, "COMPILED_AGENTS", False)
    m.reset(3)
    assert m.kernel._draw == m.rng.random
