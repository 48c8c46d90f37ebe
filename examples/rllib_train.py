"""Train Rex prosumers with Ray RLlib PPO (new API stack), locally or on a Ray cluster.

Needs the ``rllib`` extra (``pip install "rex-env[rllib]"``). Writes a run folder that
``evaluate.py`` scores against the prototypes, like one from ``train.py``::

    OUT/config.json          every option + env_kwargs, role, seed, n_envs (evaluate.py)
    OUT/rllib_checkpoint/    the algorithm checkpoint (+ rex_rllib.json: agent -> module)
    OUT/timing.json          env and agent steps per second, per iteration
    OUT/tb/rllib/            TensorBoard: rollout/ep_rew_mean per learner (learning curve)

Examples::

    python examples/rllib_train.py --scenario community --env-runners 2 --iterations 20 \\
        --mapping by_role --out runs/rllib
    python examples/rllib_train.py --address auto --env-runners 16 ...   # on a Ray cluster
    python evaluate.py --run runs/rllib --n-seeds 20
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from rex_env.spec.roles import TRAINABLE as ROLES


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--scenario", default="community", help="scenario preset")
    p.add_argument("--role", default="scenario", choices=ROLES,
                   help="who learns: the scenario's learners, every prosumer of a role "
                        "(rex_env.spec.roles), or all roles (with --mapping by_role: one module "
                        "per role, as train.py --role all)")
    p.add_argument("--mapping", default="shared", choices=("shared", "by_role", "independent"),
                   help="learner -> RLModule: one shared, one per asset role, one per learner")
    p.add_argument("--fixed", nargs="*", default=(), metavar="OWNER",
                   help="learners kept on the frozen hold-forecast module (not trained)")
    p.add_argument("--iterations", type=int, default=10, help="PPO training iterations")
    p.add_argument("--env-runners", type=int, default=1,
                   help="remote env runners (Ray actors sampling in parallel; 0: sample in "
                        "the driver)")
    p.add_argument("--envs-per-runner", type=int, default=1, help="env copies per runner")
    p.add_argument("--cpus-per-runner", type=float, default=1.0,
                   help="CPUs Ray reserves per env runner")
    p.add_argument("--sample-timeout", type=float, default=0.0,
                   help="seconds to wait for one batch from the runners (0: no limit)")
    p.add_argument("--train-batch", type=int, default=944,
                   help="env steps per iteration (community: 118 per episode)")
    p.add_argument("--minibatch", type=int, default=256,
                   help="PPO minibatch per module, in agent steps (as train.py's batch size)")
    p.add_argument("--epochs", type=int, default=5, help="PPO epochs per iteration")
    p.add_argument("--lr", type=float, default=3e-4, help="Adam learning rate")
    p.add_argument("--gamma", type=float, default=0.999,
                   help="discount (close to 1: imbalance is settled long after the trade)")
    p.add_argument("--gae-lambda", type=float, default=0.95, help="GAE lambda")
    p.add_argument("--hidden", type=int, nargs="+", default=[128, 128], help="hidden layers")
    p.add_argument("--decision-interval", type=int, default=0,
                   help="seconds between decisions (0: one slot)")
    p.add_argument("--seed", type=int, default=0,
                   help="env copies start from seed*1000 + runner index; torch from seed*1000")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads of the driver, where the learner runs (1 is fastest for "
                        "small MLPs on a shared machine)")
    p.add_argument("--address", default=None,
                   help="Ray cluster to join (e.g. auto or HEAD_IP:6379); default: a local "
                        "Ray on this machine")
    p.add_argument("--num-cpus", type=int, default=None,
                   help="CPUs of the local Ray (default: all); ignored with --address")
    p.add_argument("--checkpoint-every", type=int, default=10,
                   help="also save the checkpoint every this many iterations (0: only at the "
                        "end)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/rllib_checkpoint")
    p.add_argument("--out", type=Path, default=Path("runs/rllib"), help="run folder")
    return p.parse_args(argv)


def env_kwargs(a: argparse.Namespace) -> dict[str, Any]:
    """The env's keywords (as in train.py's config.json): ``learners`` is the role, which the
    env resolves (:mod:`rex_env.spec.roles`)."""
    from rex_env.scenarios import PRESETS, make_scenario
    from rex_env.spec.roles import role_owners

    if a.scenario not in PRESETS:
        raise ValueError(f"unknown scenario {a.scenario!r}; allowed: {', '.join(PRESETS)}")
    learners = None
    if a.role not in ("scenario", "all"):
        role_owners(make_scenario(a.scenario), a.role)  # the scenario must have the role
    if a.role != "scenario":
        learners = a.role
    # feasible recorded explicitly: evaluate.py scores a run without it as unprojected
    kw: dict[str, Any] = {"scenario": a.scenario, "learners": learners, "feasible": True}
    if a.decision_interval:
        kw["decision_interval"] = a.decision_interval
    return kw


def validate(a: argparse.Namespace) -> None:
    for name in ("iterations", "envs_per_runner", "train_batch", "minibatch", "epochs",
                 "threads"):
        if getattr(a, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1")
    if a.env_runners < 0 or a.checkpoint_every < 0:
        raise ValueError("--env-runners and --checkpoint-every must be >= 0")
    if not 0 <= a.seed < 1_000_000:
        raise ValueError("--seed must be in [0, 1000000) (evaluation seeds live above)")
    if a.resume and not (a.out / "rllib_checkpoint").exists():
        raise FileNotFoundError(f"--resume: no checkpoint at {a.out / 'rllib_checkpoint'}")
    cfg = a.out / "config.json"
    if cfg.exists() and json.loads(cfg.read_text()).get("backend") != "rllib":
        raise ValueError(f"{a.out} holds another run (e.g. from train.py); choose another --out")


def _total(x: Any) -> float:
    """A per-agent dict of counts (or one count) summed."""
    return float(sum(x.values()) if isinstance(x, dict) else (x or 0))


def throughput(r: dict[str, Any]) -> dict[str, float]:
    """Env and agent steps of one iteration and their rates over its wall time (sampling
    and learning). ``learn_seconds`` is RLlib's learner timer, a moving average."""
    er = r.get("env_runners", {})
    env_steps = float(er.get("num_env_steps_sampled", 0))
    agent_steps = _total(er.get("num_agent_steps_sampled", {}))
    secs = float(r.get("time_this_iter_s", math.nan))
    returns = er.get("agent_episode_returns_mean", {})
    ret = float(sum(returns.values()) / len(returns)) if returns else math.nan
    return {"env_steps": env_steps, "agent_steps": agent_steps, "seconds": secs,
            "env_steps_per_s": env_steps / secs if secs > 0 else math.nan,
            "agent_steps_per_s": agent_steps / secs if secs > 0 else math.nan,
            "learn_seconds": float(r.get("timers", {}).get("learner_update_timer", math.nan)),
            "agent_steps_lifetime": _total(er.get("num_agent_steps_sampled_lifetime", {})),
            "episode_return_mean": ret, "episodes": float(er.get("num_episodes", 0))}


def tb_writer(out: Path) -> Any:
    """A TensorBoard writer for evaluate.py's learning curve, or None without tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(out / "tb" / "rllib"))


def train(a: argparse.Namespace) -> Path:
    validate(a)
    import ray
    import torch

    from rex_env.rllib import build_config, policy_mapping, save_mapping

    kw = env_kwargs(a)
    table = policy_mapping(a.mapping, kw, a.fixed)  # fails early on a bad --fixed
    cfg = build_config(kw, mapping=a.mapping, fixed=a.fixed, env_runners=a.env_runners,
                       envs_per_runner=a.envs_per_runner, seed=a.seed,
                       train_batch=a.train_batch, minibatch=a.minibatch, epochs=a.epochs,
                       lr=a.lr, gamma=a.gamma, lam=a.gae_lambda, hidden=tuple(a.hidden),
                       cpus_per_runner=a.cpus_per_runner,
                       sample_timeout=a.sample_timeout or None)
    out: Path = a.out
    out.mkdir(parents=True, exist_ok=True)
    ckpt = (out / "rllib_checkpoint").resolve()
    config = {**{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
              "backend": "rllib", "env_kwargs": kw, "modules": table,
              "checkpoint": "rllib_checkpoint",
              # seeds used for training: seed*1000 + [0, n_envs) (evaluate.py's clash check)
              "n_envs": a.env_runners + a.envs_per_runner,
              "python": sys.version.split()[0], "ray": ray.__version__}
    (out / "config.json").write_text(json.dumps(config, indent=2, default=list))
    if a.address:
        ray.init(address=a.address)
    else:
        ray.init(num_cpus=a.num_cpus, include_dashboard=False)
    torch.set_num_threads(a.threads)
    algo = None
    writer = tb_writer(out)
    rows: list[dict[str, float]] = []
    try:
        algo = cfg.build_algo()
        if a.resume:
            algo.restore_from_path(str(ckpt))
        for i in range(1, a.iterations + 1):
            t = throughput(algo.train())
            rows.append({"iteration": i, **t})
            print(f"iter {i:3d}: {t['env_steps']:.0f} env steps, {t['agent_steps']:.0f} agent "
                  f"steps in {t['seconds']:.1f} s -> {t['env_steps_per_s']:.1f} env steps/s, "
                  f"{t['agent_steps_per_s']:.0f} agent steps/s (learner ~"
                  f"{t['learn_seconds']:.1f} s); return/learner "
                  f"{t['episode_return_mean']:.3f}", flush=True)
            if writer is not None and not math.isnan(t["episode_return_mean"]):
                writer.add_scalar("rollout/ep_rew_mean", t["episode_return_mean"],
                                  int(t["agent_steps_lifetime"]))
            if i == a.iterations or (a.checkpoint_every and i % a.checkpoint_every == 0):
                algo.save_to_path(str(ckpt))
                save_mapping(ckpt, kw, table)
    finally:
        if writer is not None:
            writer.close()
        if algo is not None:
            algo.stop()
        ray.shutdown()
    steady = rows[1:] or rows  # the first iteration includes warm-up
    summary = {k: sum(r[k] for r in steady) / len(steady)
               for k in ("env_steps_per_s", "agent_steps_per_s")}
    (out / "timing.json").write_text(json.dumps({"env_runners": a.env_runners,
                                                 "envs_per_runner": a.envs_per_runner,
                                                 "mean_after_first": summary,
                                                 "iterations": rows}, indent=2))
    print(f"mean after the first iteration: {summary['env_steps_per_s']:.1f} env steps/s, "
          f"{summary['agent_steps_per_s']:.0f} agent steps/s; saved {ckpt}")
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        train(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
