"""Every role of SPEC §10 trains and evaluates on a tiny budget, alone and all at once
(issue 13); bad input fails before any work, naming what is wrong and what is allowed.

The smoke runs go through one subprocess each for training and evaluation (the imports of
torch and stable-baselines3 dominate a tiny run). ``pv_battery`` has no member in ``toy``: it
runs on ``toy`` with one household given a battery, saved as a scenario file.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

import evaluate
import train
from rex_env.scenarios import make_scenario
from rex_env.scenarios.loader import save_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--timesteps", "128", "--n-envs", "1", "--n-steps", "32", "--batch-size", "32",
        "--n-epochs", "1", "--no-progress", "--checkpoint-every", "0"]
TOY_ROLES = ("households", "wind", "plant", "storage", "all")


def driver(module: str, argvs: list[list[str]]) -> subprocess.CompletedProcess[str]:
    """Run ``module.main(argv)`` for each argv in one fresh interpreter."""
    code = (f"import json, sys, {module}\n"
            f"for argv in json.loads(sys.argv[1]):\n"
            f"    rc = {module}.main(argv)\n"
            f"    if rc: sys.exit(f'{{argv}} -> {{rc}}')\n")
    return subprocess.run([sys.executable, "-c", code, json.dumps(argvs)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("roles")
    sc = make_scenario("toy")
    batt = sc.spec("battery").battery
    prosumers = tuple(dataclasses.replace(p, battery=batt) if p.owner == "house01" else p
                      for p in sc.prosumers)
    save_scenario(sc.replace(prosumers=prosumers, name="toy_pv_battery"),
                  d / "toy_pv_battery.json")
    return d


@pytest.fixture(scope="module")
def runs(home: Path) -> dict[str, Path]:
    argvs = [["--scenario", "toy", "--role", r, *TINY, "--out", str(home / r)]
             for r in TOY_ROLES]
    argvs.append(["--scenario", str(home / "toy_pv_battery.json"), "--role", "pv_battery",
                  *TINY, "--out", str(home / "pv_battery")])
    proc = driver("train", argvs)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {r: home / r for r in (*TOY_ROLES, "pv_battery")}


def test_every_role_trains_alone_and_all_at_once(runs: dict[str, Path]) -> None:
    for role, out in runs.items():
        cfg = json.loads((out / "config.json").read_text())
        assert cfg["role"] == role and cfg["env_kwargs"]["learners"] == role
        design = train.ROLE_ACTIONS[role]
        assert cfg["env_kwargs"]["action_mode"] == design.mode
        assert cfg["env_kwargs"]["target_range"] == design.target_range
        assert cfg["log_std_init"] == design.log_std_init
        if design.mode == "tune":
            assert cfg["env_kwargs"]["tune_base"] == design.tune_base
        if role == "all":
            assert cfg["roles"] == {"households": 2, "wind": 1, "plant": 1, "storage": 1}
            for r in cfg["roles"]:
                assert (out / r / "model.zip").exists() and (out / r / "vecnormalize.pkl").exists()
            steps = json.loads((out / "timing.json").read_text())["agent_steps"]
            assert steps == 5 * 32 * 1  # one rollout of 32 steps, 5 learners
        else:
            assert (out / "model.zip").exists()
    owners = json.loads((runs["pv_battery"] / "config.json").read_text())["owners"]
    assert owners == {"prosumer_0": "house01"}
    assert json.loads((runs["storage"] / "config.json").read_text())["owners"] == {
        "prosumer_0": "battery"}


def test_every_role_evaluates_with_its_table_row(runs: dict[str, Path], tmp_path: Path
                                                 ) -> None:
    common = ["--n-seeds", "1", "--no-plots"]
    argvs = [["--run", str(runs[r]), *common, "--out", str(tmp_path / r)]
             for r in ("households", "wind", "plant", "pv_battery")]
    argvs.append(["--run", str(runs["storage"]), "--all-run", str(runs["all"]), "--role",
                  "storage", *common, "--out", str(tmp_path / "storage")])
    proc = driver("evaluate", argvs)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for role in ("households", "wind", "plant", "pv_battery", "storage"):
        res = json.loads((tmp_path / role / "results.json").read_text())
        assert res["role"] == role
        s = res["summary"]
        assert {"random", "prototype", "ppo", "bound"} <= set(s)
        assert ("baseline" in s) == (role != "plant"), role
        for c in ("random", "prototype", "ppo"):
            assert all(k in s[c] for k in ("normalised", "headroom_share", "vs_prototype"))
        assert f"| {role} |" in (tmp_path / role / "table.md").read_text()
    s = json.loads((tmp_path / "storage" / "results.json").read_text())["summary"]
    assert "ppo_all" in s  # the storage learner scored in the all-roles market
    assert "role plant has no strong baseline" in proc.stdout


# -- bad input: refused before any work -----------------------------------------------------
def test_train_refuses_an_unknown_role_or_one_the_scenario_lacks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    assert train.main(["--scenario", "toy", "--role", "wizard", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "unknown role 'wizard'; allowed: scenario, households, pv_battery, wind, plant, " \
           "storage, spatial, all" in err
    assert train.main(["--scenario", "toy", "--role", "pv_battery", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "scenario 'toy' has no prosumer of role 'pv_battery'; its roles: households, " \
           "wind, plant, storage" in err
    assert train.main(["--scenario", "toy", "--role", "all", "--route", "single",
                       "--out", str(out)]) == 2
    assert "needs --route shared" in capsys.readouterr().err
    assert not out.exists()


def test_evaluate_refuses_bad_roles_runs_and_seeds_before_any_work(
        runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"

    def refuse(*argv: str) -> str:
        assert evaluate.main([*argv, "--out", str(out), "--no-plots"]) == 2
        return capsys.readouterr().err

    assert "unknown role 'wizard'; allowed: households, pv_battery" in refuse(
        "--role", "wizard", "--scenario", "toy")
    assert "has no prosumer of role 'pv_battery'; its roles: households, wind" in refuse(
        "--role", "pv_battery", "--scenario", "toy")
    err = refuse("--run", str(runs["storage"]), "--role", "plant")
    assert "was trained for role 'storage'" in err and "give a run of 'plant'" in err
    assert "no evaluation seeds" in refuse("--run", str(runs["storage"]), "--n-seeds", "0")
    assert "no evaluation seeds" in refuse("--role", "plant", "--scenario", "toy",
                                           "--n-seeds", "0")
    assert "no evaluation seeds" in refuse("--role", "plant", "--scenario", "toy", "--seeds")
    assert "no controllers to score; give at least one of random, prototype" in refuse(
        "--run", str(runs["plant"]), "--controllers")
    assert "--controllers ppo needs --run" in refuse("--role", "plant", "--scenario", "toy",
                                                     "--controllers", "ppo")
    assert "give it as --all-run together with --role" in refuse("--run", str(runs["all"]))
    assert "--all-run needs --role" in refuse("--all-run", str(runs["all"]))
    err = refuse("--run", str(runs["storage"]), str(runs["plant"]))
    assert "trained on different envs" in err and "learners" in err
    assert "nothing to evaluate" in refuse()
    assert "unknown controllers ['oracle']" in refuse("--run", str(runs["plant"]),
                                                      "--controllers", "oracle")
    assert "--budget-curve needs --run" in refuse("--role", "plant", "--scenario", "toy",
                                                  "--budget-curve")
    # by-role runs of another market, or a one-role run given as the by-role run
    err = refuse("--run", str(runs["pv_battery"]), "--all-run", str(runs["all"]), "--role",
                 "pv_battery")
    assert "the by-role runs were trained with scenario 'toy'" in err
    assert "is not a by-role run" in refuse("--run", str(runs["storage"]), "--all-run",
                                            str(runs["plant"]), "--role", "storage")
    # a model trained for other learners than the env's (its role's members changed since)
    moved = tmp_path / "moved"
    moved.mkdir()
    for f in ("model.zip", "vecnormalize.pkl"):
        (moved / f).write_bytes((runs["storage"] / f).read_bytes())
    cfg = json.loads((runs["storage"] / "config.json").read_text())
    cfg["owners"] = {"prosumer_0": "plant"}
    (moved / "config.json").write_text(json.dumps(cfg))
    err = refuse("--run", str(moved))
    assert "was trained for learners ['plant'] (role 'storage'), the env has ['battery']" in err
    assert not out.exists()


def test_the_full_table_is_one_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    from benchmarks import roles

    out = tmp_path / "r"
    assert roles.main(["--dry-run", "--roles", "storage", "all", "--seeds", "0", "1",
                       "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5  # 2 roles x 2 seeds of training, 1 evaluation (all is not a row)
    assert lines[0].startswith("train.py --scenario community --role storage --seed 0 "
                               f"--timesteps {roles.BUDGETS['storage']}")
    assert lines[-1].startswith(f"evaluate.py --run {out}/storage/s0 {out}/storage/s1 ")
    assert f"--all-run {out}/all/s0 {out}/all/s1 --role storage" in lines[-1]
    assert set(roles.BUDGETS) == set(roles.ROLES)
    assert roles.main(["--dry-run", "--roles", "plant", "--seeds", "3", "--checkpoints", "0",
                       "--settlement", "curtail", "--scale", "0.5", "--out", str(out)]) == 0
    train_line, eval_line = capsys.readouterr().out.splitlines()
    assert f"--timesteps {roles.BUDGETS['plant'] // 2} " in train_line
    assert "--checkpoint-every 0 " in train_line
    assert train_line.endswith("--settlement curtail")
    assert "--budget-curve" not in eval_line and "--all-run" not in eval_line


@pytest.mark.parametrize(("argv", "words"), [
    (["--roles", "wizard"], "invalid choice: 'wizard' (choose from 'households'"),
    (["--scenario", "toy", "--roles", "pv_battery", "wind"],
     "scenario 'toy' has no prosumer of role pv_battery; its roles: households, wind, plant, "
     "storage (and all)"),
    (["--scenario", "atlantis"], "unknown scenario 'atlantis'; allowed:"),
    (["--seeds"], "--seeds: expected at least one argument"),
    (["--n-seeds", "0"], "need training seeds and --n-seeds >= 1"),
    (["--settlement", "barter"], "--settlement must be one of single, dual, curtail"),
    (["--reference", "nowhere.json"], "--reference nowhere.json: no such file"),
], ids=["role", "missing-role", "scenario", "no-seeds", "no-eval-seeds", "settlement",
        "reference"])
def test_the_table_command_refuses_bad_input_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
        ) -> None:
    from benchmarks import roles

    out = tmp_path / "never"
    with pytest.raises(SystemExit):
        roles.main([*argv, "--out", str(out)])  # no --dry-run: it would train if it passed
    assert words in capsys.readouterr().err
    assert not out.exists()


def test_the_published_full_table_is_honest_and_printed_beside_a_short_one() -> None:
    from benchmarks import roles

    full = json.loads(roles.PUBLISHED.read_text())
    assert full["status"] in ("not yet measured", "measured")
    if full["status"] == "not yet measured":  # a placeholder holds no numbers
        assert full["rows"] == {} and full["market_rows"] == {}
    else:
        assert full["rows"] and set(full["rows"]) <= set(roles.ROLES) - {"all"}
    row = "| storage | −27 | 9.8 | 15.3 | 5.6 | — | −4.1 ± 3.0 * | — | 29.0 | 0.57 | −0.22 | — |"
    short = {"rows": {"storage": row}, "agent_steps": {"storage": 9216}, "training_seeds": [0]}
    lines = roles.beside(short, {"status": "not yet measured", "rows": {}}).splitlines()
    assert lines[0].startswith("| role | budget | random | prototype |")
    assert lines[2] == "| storage | this run: 9 k × 1 seed | −27 | 9.8 | 15.3 | 5.6 | — " \
                       "| −4.1 ± 3.0 * | — | 29.0 | 0.57 | −0.22 | — |"
    assert lines[3].startswith("| storage | full | not yet measured |")
    assert lines[3].count("|") == lines[2].count("|")
    ref = {"status": "measured", "rows": {"storage": row.replace("5.6", "12.0")},
           "agent_steps": {"storage": 110592}, "training_seeds": [0, 1, 2]}
    assert roles.beside(short, ref).splitlines()[3].startswith(
        "| storage | full: 111 k × 3 seeds | −27 | 9.8 | 15.3 | 12.0 |")


def test_the_table_command_trains_evaluates_collects_and_publishes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    from benchmarks import roles

    monkeypatch.setattr(roles, "PUBLISHED", tmp_path / "results" / "roles_full.json")
    out = tmp_path / "t"
    argv = ["--scenario", "toy", "--roles", "storage", "--seeds", "0", "--scale", "0.005",
            "--n-seeds", "1", "--checkpoints", "2", "--parallel", "1", "--out", str(out)]
    reference = ROOT / "benchmarks" / "results" / "roles_full.json"  # the committed one
    assert roles.main([*argv, "--reference", str(reference), "--publish"]) == 0
    text = capsys.readouterr().out
    assert "| storage | this run: 1 k × 1 seed |" in text  # one rollout: 512 steps x 2 copies
    status = json.loads(reference.read_text())["status"]
    assert "| storage | full" in text and (status != "not yet measured"
                                           or "| storage | full | not yet measured |" in text)
    assert "| role | role's imbalance kWh | welfare |" in text
    assert (out / "learning_curves.png").exists() and (out / "table.md").exists()
    table = json.loads((out / "table.json").read_text())
    assert table["agent_steps"] == {"storage": 1024} and list(table["rows"]) == ["storage"]
    assert table["seconds"]["train_cpu"] > 0 and table["seconds"]["evaluate_cpu"] > 0
    published = json.loads(roles.PUBLISHED.read_text())
    assert published["status"] == "measured" and published["rows"] == table["rows"]
    assert roles.PUBLISHED.with_name("roles_full_learning_curves.png").exists()
    # everything is done: a second call would train and evaluate nothing
    assert roles.main([*argv, "--dry-run"]) == 0
    assert capsys.readouterr().out == ""
