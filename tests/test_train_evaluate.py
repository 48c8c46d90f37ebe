"""train.py and evaluate.py smoke-run in a subprocess with a tiny budget (issue 6)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--scenario", "toy", "--timesteps", "256", "--n-envs", "1", "--n-steps", "64",
        "--batch-size", "64", "--n-epochs", "1", "--no-progress", "--checkpoint-every", "128"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    proc = run("train.py", *TINY, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_train_writes_a_complete_run_folder(trained: Path) -> None:
    for name in ("config.json", "model.zip", "vecnormalize.pkl", "timing.json"):
        assert (trained / name).exists(), name
    cfg = json.loads((trained / "config.json").read_text())
    assert cfg["scenario"] == "toy" and cfg["timesteps"] == 256 and cfg["seed"] == 0
    assert cfg["env_kwargs"]["scenario"] == "toy"
    assert list((trained / "tb").glob("*/events.out.tfevents.*")), "TensorBoard logs"
    assert list((trained / "checkpoints").glob("ppo_*_steps.zip")), "checkpoints"
    timing = json.loads((trained / "timing.json").read_text())
    parts = [timing[k] for k in ("env_seconds", "policy_inference_seconds", "update_seconds")]
    assert all(p > 0 for p in parts)  # where the time goes: env, policy inference, updates
    assert sum(parts) == pytest.approx(timing["seconds"], rel=0.05)


def test_resume_continues_the_run(trained: Path) -> None:
    before = json.loads((trained / "timing.json").read_text())["agent_steps"]
    proc = run("train.py", *TINY, "--out", str(trained), "--resume")
    assert proc.returncode == 0, proc.stderr
    after = json.loads((trained / "timing.json").read_text())["agent_steps"]
    assert after > before


def test_same_seed_same_model(tmp_path: Path) -> None:
    for d in ("a", "b"):
        proc = run("train.py", *TINY, "--out", str(tmp_path / d), "--checkpoint-every", "0")
        assert proc.returncode == 0, proc.stderr

    def params(d: str) -> bytes:
        with zipfile.ZipFile(tmp_path / d / "model.zip") as z:
            return z.read("policy.pth")

    assert params("a") == params("b")


@pytest.mark.parametrize("route", ["shared", "single"])
def test_worker_processes_train_the_same_model(tmp_path: Path, route: str) -> None:
    """Two env copies stepped by two worker processes (RexVecEnv / SubprocVecEnv) or in this
    process give the same experience, hence the same weights."""
    for workers in ("0", "2"):
        proc = run("train.py", *TINY, "--n-envs", "2", "--workers", workers, "--route", route,
                   "--out", str(tmp_path / workers), "--checkpoint-every", "0")
        assert proc.returncode == 0, proc.stderr

    def params(d: str) -> bytes:
        with zipfile.ZipFile(tmp_path / d / "model.zip") as z:
            return z.read("policy.pth")

    assert params("0") == params("2")


def test_evaluate_prints_the_table_and_writes_files(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    proc = run("evaluate.py", "--run", str(trained), "--n-seeds", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "| controller |" in proc.stdout and "| ppo |" in proc.stdout
    assert "| prototype (intermittent) |" in proc.stdout and "| random |" in proc.stdout
    assert "| baseline (newsvendor) |" in proc.stdout and "| bound |" in proc.stdout
    assert "| role | random | prototype | strong baseline | PPO alone |" in proc.stdout
    # the market with each controller in it: welfare and the stylized facts, and their row
    assert "| controller | welfare | welfare_vs_prototype | traded_kwh | vwap_range |" \
        in proc.stdout
    assert "| role | role's imbalance kWh | welfare | welfare: PPO − prototype |" in proc.stdout
    for name in ("results.csv", "results.json", "table.md", "surplus_by_controller.png",
                 "learning_curve.png", "price_trajectories.png"):
        assert (out / name).exists(), name
    res = json.loads((out / "results.json").read_text())
    assert res["seeds"] == [1_000_000_000, 1_000_000_001] and res["role"] == "households"
    s = res["summary"]
    assert set(s) == {"random", "prototype", "baseline", "ppo", "bound"}
    assert s["prototype"]["vs_prototype"][0] == 0.0
    assert s["prototype"]["welfare_vs_prototype"][0] == 0.0
    assert res["row"].startswith("| households | ") and res["market_row"] in proc.stdout
    for c in ("random", "prototype", "ppo"):
        assert s[c]["traded_kwh"][0] > 0 and 0 <= s[c]["grid_share"][0] <= 1
        assert 0 < s[c]["one_price_share"][0] <= 1 and s[c]["vwap_range"][0] >= 0
    # the bound is at least the prototype on every seed (perfect foresight, same prices)
    rows = [r.split(",") for r in (out / "results.csv").read_text().splitlines()[1:]]
    proto = [r for r in rows if r[0] == "prototype"]
    assert all(float(r[-1]) >= float(r[3]) - 1e-9 for r in proto)


def test_budget_curve_scores_every_checkpoint_on_the_same_seeds(trained: Path,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "budget"
    proc = run("evaluate.py", "--run", str(trained), "--n-seeds", "1", "--controllers", "ppo",
               "prototype", "--budget-curve", "--out", str(out), "--first-seed",
               "1000000100")
    assert proc.returncode == 0, proc.stderr
    rows = (out / "budget.csv").read_text().splitlines()
    ckpts = sorted(int(p.stem.split("_")[1]) for p in (trained / "checkpoints").glob("*.zip"))
    final = json.loads((trained / "timing.json").read_text())["agent_steps"]
    steps = [int(r.split(",")[0]) for r in rows[1:]]
    # a checkpoint within one rollout of the final model is that model: scored once
    cfg = json.loads((trained / "config.json").read_text())
    kept = [c for c in ckpts if final - c >= cfg["n_steps"] * cfg["num_envs"]]
    assert steps == [*kept, final] and kept and len(kept) < len(ckpts)
    assert rows[0].startswith("agent_steps,surplus,ci,diff,diff_ci")
    # the final model's row is the main table's PPO score (same seeds, same episodes)
    res = json.loads((out / "results.json").read_text())
    assert res["budget"][-1]["surplus"] == pytest.approx(res["summary"]["ppo"]["surplus"][0])
    assert (out / "budget_curve.png").exists()
    assert res["seeds"] == [1_000_000_100]
    assert "| agent-steps | PPO surplus |" in proc.stdout


def test_evaluate_in_worker_processes_writes_the_same_files(trained: Path,
                                                          tmp_path: Path) -> None:
    """The learned run, each checkpoint of the budget curve and the hand-coded controllers,
    scored in two worker processes: every file byte for byte the serial run's."""
    for workers in ("0", "2"):
        proc = run("evaluate.py", "--run", str(trained), "--n-seeds", "2", "--budget-curve",
                   "--workers", workers, "--out", str(tmp_path / workers))
        assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "0").iterdir())
    assert {"results.json", "results.csv", "table.md", "budget.csv"} <= set(names)
    assert sorted(p.name for p in (tmp_path / "2").iterdir()) == names
    for name in names:
        assert (tmp_path / "2" / name).read_bytes() == (tmp_path / "0" / name).read_bytes(), \
            name


def test_the_settlement_option_reaches_training_and_evaluation(tmp_path: Path) -> None:
    out = tmp_path / "curtail"
    proc = run("train.py", *TINY, "--out", str(out), "--settlement", "curtail",
               "--checkpoint-every", "0")
    assert proc.returncode == 0, proc.stderr
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["settlement"] == "curtail" and cfg["env_kwargs"]["settlement"] == "curtail"
    proc = run("evaluate.py", "--run", str(out), "--n-seeds", "1", "--controllers", "ppo",
               "prototype", "--no-plots")
    assert proc.returncode == 0, proc.stderr
    assert "curtail settlement" in proc.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["--role", "wizard"], "unknown role"),
    (["--scenario", "atlantis"], "unknown scenario"),
    (["--route", "sideways"], "route must be"),
    (["--timesteps", "0"], "--timesteps must be >= 1"),
    (["--settlement", "barter"], "settlement must be single, dual, curtail"),
    (["--pricing", "haggle"], "pricing must be touch or make_take"),
    (["--tune-base", "baseline"], "--tune-base baseline needs --action-mode tune"),
    (["--workers", "2"], "--workers must be -1 (one per copy, at most one per core), 0"),
    (["--n-envs", "1000000000"], "--n-envs must be at most 256"),
    (["--action-mode", "tune", "--tune-base", "best"], "tune_base must be one of"),
], ids=["role", "scenario", "route", "timesteps", "settlement", "pricing", "tune-base-mode",
        "tune-base", "workers", "n-envs"])
def test_train_refuses_bad_options_before_any_work(tmp_path: Path, args: list[str],
                                                   words: str) -> None:
    out = tmp_path / "never"
    proc = run("train.py", *TINY, "--out", str(out), *args)
    assert proc.returncode != 0
    assert words in proc.stderr
    assert not (out / "model.zip").exists()


def test_train_resume_without_a_model_fails_clearly(tmp_path: Path) -> None:
    proc = run("train.py", *TINY, "--out", str(tmp_path / "none"), "--resume")
    assert proc.returncode == 2 and "no model at" in proc.stderr


def test_evaluate_refuses_missing_or_incompatible_models_and_empty_seeds(
        trained: Path, tmp_path: Path) -> None:
    proc = run("evaluate.py", "--run", str(tmp_path / "nothing"))
    assert proc.returncode == 2 and "no run at" in proc.stderr
    proc = run("evaluate.py", "--run", str(trained), "--n-seeds", "0")
    assert proc.returncode == 2 and "no evaluation seeds" in proc.stderr
    proc = run("evaluate.py", "--run", str(trained), "--seeds", "0")
    assert proc.returncode == 2 and "used for training" in proc.stderr
    # a model trained on toy cannot be scored on community (other observation size)
    other = tmp_path / "other"
    other.mkdir()
    cfg = json.loads((trained / "config.json").read_text())
    cfg["env_kwargs"]["scenario"] = "community"
    (other / "config.json").write_text(json.dumps(cfg))
    (other / "model.zip").write_bytes((trained / "model.zip").read_bytes())
    proc = run("evaluate.py", "--run", str(other), "--n-seeds", "1", "--controllers", "ppo")
    assert proc.returncode == 2 and "expects observations of shape" in proc.stderr
    # same size, another layout (a feature renamed): refused, naming the first difference
    names = json.loads((trained / "config.json").read_text())["feature_names"]
    cfg = json.loads((trained / "config.json").read_text())
    cfg["feature_names"] = [*names[:-1], "has_spaceship"]
    (other / "config.json").write_text(json.dumps(cfg))
    (other / "model.zip").write_bytes((trained / "model.zip").read_bytes())
    proc = run("evaluate.py", "--run", str(other), "--n-seeds", "1", "--controllers", "ppo")
    assert proc.returncode == 2 and "another observation layout" in proc.stderr
    assert "'has_spaceship' there, 'has_plant' here" in proc.stderr
    cfg["feature_names"] = names
    (other / "config.json").write_text(json.dumps(cfg))
    (other / "model.zip").write_bytes(b"not a zip")
    proc = run("evaluate.py", "--run", str(other), "--n-seeds", "1", "--controllers", "ppo")
    assert proc.returncode == 2 and "not a loadable PPO model" in proc.stderr


def test_feasible_does_not_split_training_seeds_of_a_role_without_flexible_assets(
        tmp_path: Path) -> None:
    """A wind run from before ``EnvConfig.feasible`` and one after it are one configuration
    (the projection only touches batteries and plants); for storage they are not."""
    import json

    from rex_env.eval.benchmark import load_runs

    def run(name: str, role: str, **extra: object) -> Path:
        d = tmp_path / name
        d.mkdir()
        kw = {"scenario": "community", "learners": role, **extra}
        (d / "config.json").write_text(json.dumps({"role": role, "env_kwargs": kw}))
        return d

    assert len(load_runs([run("w0", "wind"), run("w1", "wind", feasible=True)])) == 2
    with pytest.raises(ValueError, match="feasible"):
        load_runs([run("s0", "storage"), run("s1", "storage", feasible=True)])
