"""benchmarks/headroom.py: the CLI smoke-tested in a subprocess on toy with a tiny budget, and
the library functions on a fixed seed."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import rex_env.eval.headroom as library
from benchmarks.headroom import ROLES, bound, headroom, members, run_day, score, table
from rex_env.scenarios import make_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_cli_on_toy_prints_every_role_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "h.json"
    proc = subprocess.run([sys.executable, "benchmarks/headroom.py", "toy", "--n-seeds", "2",
                           "--quiet", "--json", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for role in ("households", "wind", "plant", "storage"):
        assert f"| {role} |" in proc.stdout
    assert "pv_battery" not in proc.stdout  # toy has no household with a battery
    d = json.loads(out.read_text())
    assert d["scenario"] == "toy" and len(d["seeds"]) == 2
    st = d["roles"]["storage"]
    assert st["members"] == ["battery"] and len(st["scores"]["bound"]) == 2
    # the bound is over the prototype's day: the idle dealer (0: leftover charge is valued
    # as a change of stored energy) is below it; the rolling intrinsic trader never loses
    # like the random trader does
    sc = st["scores"]
    assert all(b >= p - 1e-9 and p == 0.0
               for b, p in zip(sc["bound"], sc["prototype"], strict=True))
    assert all(x > r for x, r in zip(sc["baseline"], sc["random"], strict=True))
    assert np.isnan(d["roles"]["plant"]["summary"]["baseline"][0])  # no baseline for the plant


def test_cli_refuses_bad_arguments() -> None:
    proc = subprocess.run([sys.executable, "benchmarks/headroom.py", "toy", "--n-seeds", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--n-seeds" in proc.stderr


def test_members_are_the_learners_of_the_role() -> None:
    sc = make_scenario("community")
    got = {r.name: members(sc, r) for r in ROLES}
    assert got["households"] == [f"house{i:02d}" for i in range(5)]
    assert got["pv_battery"] == ["house05", "house06", "house07"]
    assert got["wind"] == ["wind"] and got["plant"] == ["plant"]
    assert got["storage"] == ["battery"]


def test_under_single_pricing_the_newsvendor_reserves_the_median_like_the_prototype() -> None:
    (res,) = headroom(make_scenario("toy"), [5], roles=("households",))
    assert res.scores["baseline"] == res.scores["prototype"]


def test_bound_is_scored_like_the_accounts_and_an_idle_battery_scores_zero() -> None:
    m = run_day(make_scenario("toy"), 3)
    # the storage bound credits the change of stored energy as the accounts do, so doing
    # nothing is feasible for it and scores exactly what the idle dealer scores
    assert score(m, "battery") == pytest.approx(0.0, abs=1e-9)
    assert bound(m, "battery") >= score(m, "battery") - 1e-9
    assert bound(m, "plant") >= 0.0


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="households"):
        headroom(make_scenario("toy"), [1], roles=("wizard",))


def test_a_role_without_a_bound_gets_none_not_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    # the plant made unbounded stands in for the spatial role (no assets, so no bound) at the
    # cost of one toy prototype day and one random day
    monkeypatch.setattr(library, "ROLES", tuple(
        replace(r, bounded=False) if r.name == "plant" else r for r in library.ROLES))
    (res,) = headroom(make_scenario("toy"), [5], roles=("plant",))
    assert np.isnan(res.scores["bound"]).all() and np.isfinite(res.scores["prototype"]).all()
    s = res.summary()
    assert all(np.isnan(s[k][0]) for k in ("bound", "headroom", "normalised_prototype"))
    cells = [c.strip() for c in table([res]).splitlines()[2].strip("|").split("|")]
    assert cells[0] == "plant" and cells[3] != "—"  # the prototype is scored
    assert cells[5] == cells[6] == "—"  # bound, headroom
