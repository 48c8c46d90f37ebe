"""The learned spatial arbitrager trains with train.py and evaluates against the hand-coded one
(issue 17, item 4), on a tiny budget in a short two_towns day (the pattern of
tests/test_role_training.py: one subprocess for training, one for evaluation)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import train
from rex_env.scenarios import make_scenario
from rex_env.scenarios.loader import save_scenario
from rex_env.spec import SlotSchedule
from tests.test_role_training import TINY, driver


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spatial") / "two_towns_short.json"
    sched = SlotSchedule(n_slots=12, open_lead=3 * 3600, gate_lead=900, call_len=300,
                         day_of_year=100, start_hour=16.0)
    save_scenario(make_scenario("two_towns").replace(schedule=sched, name="two_towns_short"),
                  path)
    return path


def test_the_spatial_learner_trains_and_is_compared_with_the_hand_coded_arbitrager(
        short: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = driver("train", [["--scenario", str(short), "--role", "spatial", *TINY,
                             "--out", str(out)]])
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["env_kwargs"]["learners"] == "spatial"
    assert cfg["env_kwargs"]["action_mode"] == train.ROLE_ACTIONS["spatial"][0] == "box"
    assert cfg["owners"] == {"prosumer_0": "arbitrager"}
    ev = tmp_path / "eval"
    proc = driver("evaluate", [["--run", str(out), "--n-seeds", "1", "--no-plots",
                                "--out", str(ev)]])
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((ev / "results.json").read_text())
    assert res["role"] == "spatial"
    s = res["summary"]
    assert {"random", "prototype", "ppo"} <= set(s)
    assert "baseline" not in s and "bound" not in s  # the role has neither
    assert "role spatial has no strong baseline" in proc.stdout
    assert "| spatial |" in (ev / "table.md").read_text()
