"""``python -m rex_env.simulate``: smoke-tested in a subprocess with a tiny budget."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rex_env.scenarios import make_scenario
from rex_env.simulate import main

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("slots.csv", "owners.csv", "settlements.csv", "trades.csv")
PLOTS = ("depth_heatmap.png", "price_vs_gate.png", "positions.png", "imbalance.png",
         "stylized.png")


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "rex_env.simulate", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def strict_json(path: Path) -> dict:  # type: ignore[type-arg]
    def no_constants(name: str) -> None:
        raise ValueError(f"{path.name} is not strict JSON: it contains {name}")

    return json.loads(path.read_text(), parse_constant=no_constants)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str],
                                                                Path]:
    out = tmp_path_factory.mktemp("toy")
    return simulate("toy", "--days", "2", "--out", str(out), "--no-progress"), out


def test_toy_run_exits_zero_and_writes_every_file(toy_run: tuple) -> None:  # type: ignore
    proc, out = toy_run
    assert proc.returncode == 0, proc.stderr
    for name in (*TABLES, "summary.json", "stylized.json", *PLOTS):
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    for name in PLOTS:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "Scenario toy: 2 day(s)" in proc.stdout  # the summary table
    facts = strict_json(out / "stylized.json")
    assert facts["scenario"] == "toy" and facts["days"] == 2
    assert len(facts["daily_vwap_range"]["per_day"]) == 2


def test_toy_run_tables_are_consistent(toy_run: tuple) -> None:  # type: ignore
    proc, out = toy_run
    assert proc.returncode == 0, proc.stderr
    sc = make_scenario("toy")
    n_slots, n_owners = sc.schedule.n_slots, len(sc.prosumers)
    summary = strict_json(out / "summary.json")
    assert summary["scenario"] == "toy" and summary["days"] == 2
    assert summary["seed"] == 0 and summary["elapsed_s"] > 0
    assert [d["day"] for d in summary["per_day"]] == [0, 1]
    trades = rows(out / "trades.csv")
    for day in (0, 1):
        n = sum(1 for t in trades if t["day"] == str(day))
        assert n == summary["per_day"][day]["trades"] > 0
    slots = rows(out / "slots.csv")
    assert len(slots) == 2 * n_slots
    # the first version's columns first, in order (users' scripts read them); new ones after
    assert list(slots[0])[:12] == ["day", "slot", "n_trades", "volume_kw", "vwap", "high",
                                   "low", "volatility", "mean_spread", "mean_bid_depth_kw",
                                   "mean_ask_depth_kw", "system_imbalance_kwh"]
    assert {(r["wholesale"], r["grid_bid"], r["grid_ask"]) for r in slots} == {
        ("100", "80.0", "300.0")}  # toy has flat tariffs
    settlements = rows(out / "settlements.csv")
    assert len(settlements) == 2 * n_slots * n_owners
    for day in ("0", "1"):  # trade cash sums to zero in every slot of the file
        for k in sc.schedule.slots:
            cash = [float(r["trade_cash"]) for r in settlements
                    if r["day"] == day and r["slot"] == str(k)]
            assert abs(sum(cash)) < 1e-3
    owners = rows(out / "owners.csv")
    assert len(owners) == 2 * n_owners
    assert {r["owner"] for r in owners} == set(sc.owners)
    assert set(summary["by_agent"]) == {p.agent for p in sc.prosumers}


def test_an_unknown_scenario_exits_non_zero_listing_the_presets() -> None:
    proc = simulate("nowhere", "--days", "1", "--no-progress", "--no-plots")
    assert proc.returncode != 0
    assert "unknown scenario 'nowhere'" in proc.stderr
    for name in ("community", "town", "toy"):
        assert name in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--days", "0"), "--days must be >= 1, got 0"),
        (("--days", "-3"), "--days must be >= 1, got -3"),
        (("--seed", "-1"), "--seed must be >= 0, got -1"),
        (("--settlement", "nope"), "invalid choice: 'nope'"),
    ],
    ids=["days-0", "days-negative", "seed-negative", "settlement"],
)
def test_bad_arguments_are_refused_with_a_message(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["toy", *args, "--out", str(tmp_path / "x"), "--no-progress", "--no-plots"])
    assert exc.value.code != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # refused before anything ran


@pytest.mark.parametrize("mode", ["dual", "curtail"])
def test_settlement_override_in_process(mode: str, tmp_path: Path) -> None:
    assert main(["toy", "--days", "1", "--out", str(tmp_path), "--no-progress", "--no-plots",
                 "--settlement", mode, "--seed", "3"]) == 0
    summary = strict_json(tmp_path / "summary.json")
    assert summary["settlement"] == mode and summary["seed"] == 3
    assert not any((tmp_path / p).exists() for p in PLOTS)
    if mode == "curtail":
        assert all(float(r["imbalance_cash"]) == 0.0
                   for r in rows(tmp_path / "settlements.csv"))


def test_an_unwritable_output_folder_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["toy", "--days", "1", "--out", str(blocker), "--no-progress",
                 "--no-plots"]) != 0
    assert "cannot write the results" in capsys.readouterr().err


def test_summary_is_strict_json_when_nothing_traded(tmp_path: Path) -> None:
    """A day without trades has no VWAP, spread or HHI: null in the file, never NaN."""
    from rex_env.sim.market import Market
    from rex_env.simulate import DayRecord, write_outputs

    m = Market(make_scenario("toy"), {})
    m.reset(0)
    m.run()
    summary = write_outputs([DayRecord(0, 0, m, elapsed_s=1.0)], tmp_path, plots=False,
                            extra={"seed": 0})
    assert summary["per_day"][0]["trades"] == 0
    data = strict_json(tmp_path / "summary.json")
    assert data["mean"]["vwap"] is None and data["per_day"][0]["hhi"] is None
    assert data["seed"] == 0
