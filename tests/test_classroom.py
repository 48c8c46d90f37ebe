"""The classroom market (Gode & Sunder 1993) on the Rex exchange: ZI-C reaches high allocative
efficiency, ZI-U markedly less; the shout count matters; the CLI writes its results and
refuses bad input naming the field."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rex_env.classroom import (
    ClassroomMarket,
    example_markets,
    run_classroom,
    smith_market,
)
from rex_env.simulate import main

ROOT = Path(__file__).resolve().parents[1]


def mean_eff(market: ClassroomMarket, trader: str, shouts: int, periods: int = 10,
             seed: int = 1, reset: bool = False) -> float:
    return float(np.mean(run_classroom(market, trader, periods, shouts, seed, reset).efficiency))


# -- the Gode-Sunder result -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(example_markets()))
def test_zic_reaches_high_efficiency_and_ziu_markedly_less(name: str) -> None:
    market = example_markets()[name]
    zic = mean_eff(market, "zic", 1000)
    ziu = mean_eff(market, "ziu", 1000)
    assert zic > 0.95, zic
    assert ziu < zic - 0.15, (zic, ziu)


def test_the_original_protocol_gives_the_same_result() -> None:
    """All unaccepted quotes cancelled after each trade (--reset-book-after-trade)."""
    market = smith_market()
    assert mean_eff(market, "zic", 1000, reset=True) > 0.95
    assert mean_eff(market, "ziu", 1000, reset=True) < 0.8


def test_too_few_shouts_leave_profitable_units_untraded() -> None:
    market = smith_market()
    effs = [mean_eff(market, "zic", s) for s in (25, 100, 500)]
    assert effs[0] < 0.6 < effs[1] < effs[2]
    trades = [np.mean(run_classroom(market, "zic", 10, s, 1).trades) for s in (25, 500)]
    assert trades[0] < trades[1] <= market.equilibrium().quantity


def test_zic_never_trades_at_a_loss_and_ziu_does() -> None:
    market = smith_market()
    zic = run_classroom(market, "zic", 10, 500, 3)
    # every ZI-C trade is between a bid <= value and an ask >= cost: no period loses surplus
    assert all(0 <= e <= 1 for e in zic.efficiency)
    assert all(1 <= p <= 200 for ps in zic.prices for p in ps)
    # ZI-U trades extramarginal units too: more trades than the equilibrium quantity
    ziu = run_classroom(market, "ziu", 10, 500, 3)
    assert np.mean(ziu.trades) > market.equilibrium().quantity >= np.mean(zic.trades)


def test_same_seed_same_result_and_seeds_differ() -> None:
    m = smith_market()
    a, b = run_classroom(m, "zic", 3, 200, 7), run_classroom(m, "zic", 3, 200, 7)
    assert a.prices == b.prices and a.efficiency == b.efficiency
    assert run_classroom(m, "zic", 3, 200, 8).prices != a.prices


def test_example_files_match_the_markets_in_code() -> None:
    for name, market in example_markets().items():
        assert ClassroomMarket.load(ROOT / "examples" / "classroom" / f"{name}.json") == market


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "field"), [
    ({"buyers": [], "sellers": [[10]]}, "buyers"),
    ({"buyers": [[50]], "sellers": []}, "sellers"),
    ({"buyers": [[]], "sellers": [[10]]}, r"buyers\[0\]"),
    ({"buyers": [[50, "x"]], "sellers": [[10]]}, r"buyers\[0\]\[1\]"),
    ({"buyers": [[50]], "sellers": [[True]]}, r"sellers\[0\]\[0\]"),
    ({"buyers": [[50]], "sellers": [[10]], "price_min": 100, "price_max": 100}, "price_min"),
    ({"buyers": [[50]], "sellers": [[10]], "price_max": "high"}, "price_max"),
    ({"buyers": [[500]], "sellers": [[10]]}, r"buyers\[0\]\[0\].*outside"),
    ({"buyers": [[10]], "sellers": [[50]]}, "no unit can trade at a gain"),
    ({"buyers": [[50]]}, "sellers: missing"),
    ({"buyers": [[50]], "sellers": [[10]], "colour": 1}, "unknown field"),
    ({"buyers": 5, "sellers": [[10]]}, "buyers"),
    ([1, 2], "JSON object"),
])
def test_invalid_markets_are_refused_naming_the_field(data: object, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ClassroomMarket.from_dict(data)


@pytest.mark.parametrize(("kw", "field"), [
    ({"trader": "zip"}, "trader"), ({"periods": 0}, "periods"), ({"shouts": -1}, "shouts"),
    ({"seed": -2}, "seed"), ({"tick": 0}, "tick"), ({"periods": 2.0}, "periods"),
])
def test_invalid_parameters_are_refused_naming_them(kw: dict, field: str) -> None:  # type: ignore[type-arg]
    args = {"trader": "zic", "periods": 1, "shouts": 10, "seed": 0} | kw
    with pytest.raises(ValueError, match=field):
        run_classroom(smith_market(), **args)


# -- the command line -------------------------------------------------------------------------


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "rex_env.simulate", "classroom", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_cli_writes_the_results(tmp_path: Path) -> None:
    market = tmp_path / "market.json"
    market.write_text(json.dumps({"buyers": [[150, 120], [140, 100]],
                                  "sellers": [[60, 90], [70, 130]],
                                  "price_min": 1, "price_max": 200}))
    out = tmp_path / "sub" / "out.json"
    proc = cli("--market", str(market), "--trader", "zic", "--periods", "4", "--shouts", "300",
               "--seed", "3", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "mean efficiency" in proc.stdout

    def strict(name: str) -> None:
        raise AssertionError(f"OUT.json is not strict JSON: {name}")

    d = json.loads(out.read_text(), parse_constant=strict)
    assert len(d["efficiency"]) == 4 and all(0 <= e <= 1 for e in d["efficiency"])
    assert d["mean_efficiency"] == pytest.approx(np.mean(d["efficiency"]))
    assert len(d["trades"]) == 4 and len(d["prices"]) == 4
    assert [len(p) for p in d["prices"]] == d["trades"]
    assert d["config"]["trader"] == "zic" and d["config"]["shouts"] == 300
    assert d["equilibrium"]["quantity"] == 3


BAD_FILES = [
    ('{"buyers": [], "sellers": [[10]]}', (), "buyers"),
    ('{"buyers": [[50, "ten"]], "sellers": [[10]]}', (), r"buyers\[0\]\[1\]"),
    ('{"buyers": [[50]], "sellers": [[10]], "price_min": 9, "price_max": 9}', (), "price_min"),
    ('{"buyers": [[50]], "sellers": [[10]]}', ("--shouts", "-5"), "shouts"),
    ("{not json", (), "not valid JSON"),
]


@pytest.mark.parametrize(("content", "args", "field"), [BAD_FILES[0], BAD_FILES[3]])
def test_cli_refuses_bad_input_naming_the_field(tmp_path: Path, content: str,
                                                args: tuple[str, ...], field: str) -> None:
    market = tmp_path / "market.json"
    market.write_text(content)
    proc = cli("--market", str(market), *args)
    assert proc.returncode != 0
    assert "error" in proc.stderr and re.search(field, proc.stderr), proc.stderr


@pytest.mark.parametrize(("content", "args", "field"), BAD_FILES)
def test_cli_refuses_every_bad_file_in_process(tmp_path: Path, content: str,
                                               args: tuple[str, ...], field: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    market = tmp_path / "market.json"
    market.write_text(content)
    assert main(["classroom", "--market", str(market), *args]) != 0
    assert re.search(field, capsys.readouterr().err)


@pytest.mark.parametrize(("args", "field"), [
    (("--periods", "0"), "periods"), (("--seed", "-1"), "seed"),
    (("--trader", "zip"), "trader"), (("--shouts", "many"), "shouts"),
    (("--market", "/nonexistent/market.json"), "cannot read"),
])
def test_cli_refuses_bad_parameters(args: tuple[str, ...], field: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Same code path as the subprocess runs above, in-process to keep the suite fast."""
    try:
        rc = main(["classroom", *args])
    except SystemExit as exc:  # argparse refuses a bad choice or type itself
        rc = exc.code  # type: ignore[assignment]
    assert rc not in (0, None)
    assert field in capsys.readouterr().err
