"""Train prosumer policies on Rex with stable-baselines3 PPO.

Two routes:

* ``shared`` (default): parameter sharing — every learner of ``n_envs`` copies of the
  PettingZoo env is one sub-env of :class:`rex_env.envs.rexvec.RexVecEnv` (the copies
  stepped side by side in ``--workers`` processes) or, with ``--workers 0``, of
  :class:`rex_env.envs.vec.SharedVecEnv` (in this process; the same experience);
* ``single``: one learner in ``rex_env/Prosumer-v0`` (everyone else hand-coded), through
  SB3's ``SubprocVecEnv`` or ``DummyVecEnv``.

A run folder ``OUT`` holds ``config.json`` (every option), ``model.zip``,
``vecnormalize.pkl`` (observation/reward normalisation statistics, when used),
``checkpoints/``, ``tb/`` (TensorBoard: rewards and market metrics) and ``timing.json``
(agent-steps/s; seconds in the env, in policy inference and in PPO updates). Same seed, same
result (on the same machine and library versions)::

    python train.py --scenario community --settlement curtail --timesteps 200000 --out runs/ppo
    tensorboard --logdir runs/ppo/tb
"""

from __future__ import annotations

import dataclasses
import gc
import json
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from rex_env.spec.roles import TRAINABLE as ROLES


class Design(NamedTuple):
    """A role's action design: how its policy acts and how it starts exploring."""

    mode: str
    """the env's action_mode"""
    target_range: float = 1.0
    """the env's target_range (box and offset modes)"""
    tune_base: str = "prototype"
    """tune mode: the hand-coded agent the policy tunes (the env's tune_base)"""
    log_std_init: float = -2.0
    """initial log std of the Gaussian policy"""


ROLE_ACTIONS: dict[str, Design] = {
    "scenario": Design("offset", 0.1), "households": Design("offset", 0.1),
    "wind": Design("offset", 0.1), "pv_battery": Design("box", 1.0),
    "plant": Design("tune", log_std_init=-0.5),
    "storage": Design("tune", tune_base="baseline", log_std_init=-0.5),
    "all": Design("box", 1.0), "spatial": Design("box", 1.0)}
"""Each role's default action design. An intermittent seller's
useful action is a small hedge around its forecast, the same in every slot: ``offset`` with
a 0.1-capacity range, exploring about 1 % of capacity around the prototype (log std -2). A
battery or a plant has no forecast to deviate from (its forecast
feature is 0): it must choose a position per slot (buy the cheap slots, sell the dear ones;
run above marginal cost), over its whole capacity: ``box`` with range 1.0, its targets
projected onto what the battery's state of charge or the plant's ramp can deliver whatever
fills (``--feasible``, the env's default; ``rex_env/envs/feasible.py``). ``price``
(``--action-mode price``: level, slope, aggressiveness; each slot's target from its public
wholesale price) is the 3-dimensional alternative for the same roles. The storage dealer and
the plant default to ``tune`` (``rex_env/envs/tune.py``): a hand-coded agent trades and the
policy sets its parameters each step, 0 being the agent itself: at 30 k agent-steps on
training seeds, ``box`` and ``price`` storage policies made 1.4 and 1.7-4.7 a day against the
dealer's 11.76 on the same seeds, without imbalance but without the dealer's market making.
The plant tunes its prototype's markup; the storage role tunes its strong baseline, the
rolling-intrinsic trader (``tune_base="baseline"``: the value of carried charge and the gain a
re-plan must bring), since tuning the dealer could at best find the dealer's parameters while
the rolling-intrinsic schedule earns ≈ 5.5 a day more on the same days. Both explore with log
std -0.5 (std 0.6 of the parameter range): at -2 the plant's markup moved between 2 and 9 %
while the markups that pay lie near 50 % (a constant 50 % earned +1.2 a day over the
prototype's 2 % on training seeds 5000-5005; 10 % and 30 % earned +0.2 and 0.0). A spatial
arbitrager's box action is a signed flow and a minimum price gap per slot
(:mod:`rex_env.envs.spatial`). ``all`` shares one action space across roles (one env), so it
takes the one that can express every role's policy."""


@dataclass
class Args:
    """Options of ``train.py`` (every field is a command-line flag)."""

    scenario: str = "community"
    """scenario preset (toy, community, town, ...) or a scenario .json file"""
    role: str = "scenario"
    """which prosumers learn (everyone else is hand-coded): households, pv_battery, wind,
    plant, storage, spatial (every prosumer of that role, rex_env.spec.roles; spatial: the
    arbitrager of a scenario with zones, e.g. two_towns) or scenario (the scenario's
    learners)"""
    timesteps: int = 200_000
    """total agent-steps of experience (summed over all learners and copies)"""
    seed: int = 0
    """training seed: copy m of the env starts from seed*1000 + m; PPO and torch from seed"""
    n_envs: int = 2
    """env copies (each holds all learners)"""
    workers: int = -1
    """processes stepping the env copies side by side (RexVecEnv; results identical to 0);
    0 or 1: all copies in this process; -1: one per copy, at most one per core (--route
    single: SB3's SubprocVecEnv, one process per copy, whenever this asks for 2 or more)"""
    route: str = "shared"
    """shared (parameter sharing over all learners) or single (one learner, Prosumer-v0)"""
    device: str = "cpu"
    """torch device"""
    out: Path = Path("runs/ppo")
    """run folder"""
    resume: bool = False
    """continue from OUT/model.zip (and its normalisation statistics)"""
    checkpoint_every: int = 50_000
    """save a checkpoint every this many agent-steps (0: never)"""
    normalize: bool = True
    """VecNormalize observations and rewards (statistics saved with the model)"""
    learning_rate: float = 1e-4
    """Adam learning rate (3e-4 made the shared policy drift in `community`)"""
    n_steps: int = 512
    """rollout length per sub-env (x 16 sub-envs in `community` with 2 copies: 8192 steps per
    update, which averages out much of the reward noise of one market day)"""
    batch_size: int = 512
    """minibatch size"""
    n_epochs: int = 5
    """PPO epochs per rollout"""
    gamma: float = 0.999
    """discount; close to 1 on purpose: trade cash arrives at the fill but the imbalance it
    causes is settled up to a day of steps later, so a short horizon would reward
    over-trading (cash now, penalty discounted away)"""
    gae_lambda: float = 0.98
    """GAE lambda (1.0: Monte Carlo returns, unbiased for the day-long delay between a trade
    and the settlement of its imbalance)"""
    ent_coef: float = 0.0
    """entropy bonus"""
    log_std_init: float | None = None
    """initial log std of the Gaussian policy; None: the role's default (ROLE_ACTIONS: -2 with
    --target-range 0.1 explores about 1 % of capacity around the prototype's behaviour, the
    size of the deviations that pay; -0.5 for the tune roles)"""
    net_arch: tuple[int, ...] = (128, 128)
    """hidden layers of the policy and value networks"""
    reward: str = "surplus"
    """training reward: surplus, or trading (surplus minus the exogenous value of consumption:
    same optimum, less variance)"""
    decision_interval: int = 0
    """seconds between decisions (0: one slot)"""
    pricing: str = "make_take"
    """what the policy's aggressiveness 0 means: make_take (the prototypes' path: passive early,
    the touch 42 min before the gate, beyond it at the gate; the zero action then trades like
    the intermittent prototype) or
    touch (take at the best opposite quote, the env's default; costs ≈ 0.2 per household-day)"""
    action_mode: str = ""
    """box (a target and an aggressiveness per open slot), offset (one pair for every slot:
    46 -> 2 action dimensions in `community`), price (level, slope, aggressiveness: each
    slot's target from its public wholesale price), discrete, or empty for the role's default
    (ROLE_ACTIONS)"""
    tune_base: str = ""
    """tune mode: prototype or baseline (the role's strong baseline), or empty for the role's
    default (ROLE_ACTIONS)"""
    feasible: bool = True
    """clip a battery's or plant's targets to what the asset can deliver whatever fills
    (EnvConfig.feasible); --no-feasible: the first version's decoding (the shortfall is
    imbalance)"""
    target_range: float = 0.0
    """how far the target may go from the forecast, in capacities (smaller: finer control of
    small deviations for the same exploration noise); 0: the role's default (ROLE_ACTIONS)"""
    settlement: str = ""
    """imbalance settlement: single, dual, curtail, or empty for the scenario's own (curtail
    is hard 'no reservation, no service': a shortfall is unserved at the value of lost load,
    a surplus is spilled unpaid)"""
    progress: bool = True
    """show a progress bar"""
    threads: int = 1
    """torch threads (1 is fastest for small MLPs)"""


def learners_for(scenario: str, role: str) -> Any:
    """The env's ``learners=`` for a role; fails early naming the allowed values."""
    from rex_env.scenarios import make_scenario
    from rex_env.spec.roles import role_owners

    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; allowed: {', '.join(ROLES)}")
    if role == "scenario":
        return None
    if role != "all":
        role_owners(make_scenario(scenario), role)  # the scenario must have the role
    return role


def role_design(args: Args) -> Design:
    """The role's default action design (``ROLE_ACTIONS``)."""
    return ROLE_ACTIONS.get(args.role, ROLE_ACTIONS["scenario"])


def log_std_init(args: Args) -> float:
    """``--log-std-init``, or the role's default."""
    return role_design(args).log_std_init if args.log_std_init is None else args.log_std_init


def env_kwargs(args: Args) -> dict[str, Any]:
    kw: dict[str, Any] = {"scenario": args.scenario, "learners": learners_for(args.scenario,
                                                                             args.role)}
    if args.decision_interval:
        kw["decision_interval"] = args.decision_interval
    if args.reward != "surplus":
        kw["reward"] = args.reward
    if args.settlement:
        kw["settlement"] = args.settlement
    kw["pricing"] = args.pricing
    design = role_design(args)
    kw["action_mode"] = args.action_mode or design.mode
    kw["target_range"] = args.target_range or design.target_range
    if kw["action_mode"] == "tune":
        kw["tune_base"] = args.tune_base or design.tune_base
    kw["feasible"] = args.feasible
    return kw


def validate(args: Args) -> Any:
    """Every check that can fail before any work starts; returns one env of the run (its
    learners and observation layout go into ``config.json``)."""
    from rex_env.envs import RexParallelEnv
    from rex_env.scenarios import PRESETS

    if args.scenario not in PRESETS and not args.scenario.endswith(".json"):
        raise ValueError(f"unknown scenario {args.scenario!r}; allowed: "
                         f"{', '.join(sorted(PRESETS))} or a scenario .json file")
    if args.route not in ("shared", "single"):
        raise ValueError(f"route must be shared or single, got {args.route!r}")
    if args.role == "all" and args.route != "shared":
        raise ValueError("--role all trains one policy per role in one market: needs --route "
                         "shared")
    for name in ("timesteps", "n_envs", "n_steps", "batch_size", "n_epochs"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1")
    from rex_env.envs.vec import MAX_COPIES

    if args.n_envs > MAX_COPIES:
        raise ValueError(f"--n-envs must be at most {MAX_COPIES} (each copy is a whole market), "
                         f"got {args.n_envs}")
    if not -1 <= args.workers <= args.n_envs:
        raise ValueError(f"--workers must be -1 (one per copy, at most one per core), 0 (none) "
                         f"or at most --n-envs ({args.n_envs}); got {args.workers}")
    if not 0 <= args.seed < 1_000_000:
        raise ValueError("--seed must be in [0, 1000000) (evaluation seeds live above)")
    if args.tune_base and env_kwargs(args)["action_mode"] != "tune":
        raise ValueError(f"--tune-base {args.tune_base} needs --action-mode tune (the role's "
                         f"default for {args.role!r} is {role_design(args).mode!r})")
    if args.resume and not (args.out / "model.zip").exists():
        raise FileNotFoundError(f"--resume: no model at {args.out / 'model.zip'}")
    # the role, and the env's own checks of every env option (one list of what is allowed)
    return RexParallelEnv(**env_kwargs(args))


def n_workers(args: Args) -> int:
    """Worker processes for the env copies; 0: in this process (one worker gains nothing)."""
    from rex_env.envs.rexvec import default_workers

    w = default_workers(args.n_envs) if args.workers == -1 else args.workers
    return w if w >= 2 else 0


def make_venv(args: Args) -> Any:
    """The vectorised training env for the chosen route, seeded per copy; its copies in
    :func:`n_workers` processes (the same experience as in one process, sooner)."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from rex_env.envs.parallel import RexParallelEnv
    from rex_env.envs.rexvec import START_METHOD, RexVecEnv
    from rex_env.envs.single import ProsumerEnv
    from rex_env.envs.vec import SharedVecEnv

    kw = env_kwargs(args)
    workers = n_workers(args)
    venv: Any
    if args.route == "shared":
        venv = (RexVecEnv.make(args.n_envs, workers, **kw) if workers else
                SharedVecEnv.make(args.n_envs, **kw))
    else:
        learners = RexParallelEnv(**kw).owner_of
        kw.pop("learners")
        fns = [partial(ProsumerEnv, learner=learners["prosumer_0"], **kw)
               for _ in range(args.n_envs)]
        venv = float32_rewards(SubprocVecEnv(fns, START_METHOD)) if workers else \
            DummyVecEnv(fns)
    venv.seed(args.seed * 1000)
    return venv


def float32_rewards(venv: Any) -> Any:
    """``venv`` with its rewards as float32, as ``DummyVecEnv`` stores them (SB3's
    ``SubprocVecEnv`` passes float64 on): the same experience in one process or several."""
    from stable_baselines3.common.vec_env import VecEnvWrapper

    class Float32Rewards(VecEnvWrapper):  # type: ignore[misc]
        def reset(self) -> Any:
            return self.venv.reset()

        def step_wait(self) -> Any:
            obs, rewards, dones, infos = self.venv.step_wait()
            return obs, rewards.astype("float32"), dones, infos

    return Float32Rewards(venv)


def step_timer(venv: Any) -> Any:
    """Wrap ``venv`` so that the seconds spent inside the environment are counted
    (``.seconds``): the env part of "where the training time goes"."""
    from stable_baselines3.common.vec_env import VecEnvWrapper

    class StepTimer(VecEnvWrapper):  # type: ignore[misc]
        seconds = 0.0

        def reset(self) -> Any:
            t = time.perf_counter()
            obs = self.venv.reset()
            self.seconds += time.perf_counter() - t
            return obs

        def step_wait(self) -> Any:
            t = time.perf_counter()
            out = self.venv.step_wait()
            self.seconds += time.perf_counter() - t
            return out

    return StepTimer(venv)


def market_metrics_callback() -> Any:
    """A callback logging each learner's episode surplus and imbalance to TensorBoard, and
    the seconds spent collecting rollouts (``rollout_seconds``; the rest is PPO updates)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class MarketMetrics(BaseCallback):  # type: ignore[misc]
        rollout_seconds = 0.0
        _t = 0.0

        def _on_rollout_start(self) -> None:
            self._t = time.perf_counter()

        def _on_rollout_end(self) -> None:
            self.rollout_seconds += time.perf_counter() - self._t

        def _on_step(self) -> bool:
            for info, done in zip(self.locals["infos"], self.locals["dones"], strict=True):
                if done and "surplus" in info:
                    self.logger.record_mean("market/episode_surplus", info["surplus"])
                    self.logger.record_mean("market/episode_imbalance_kwh",
                                            info["imbalance_kwh"])
                    self.logger.record_mean("market/fills", info["fills"])
            return True

    return MarketMetrics()


def _normalised(venv: Any, args: Args, out: Path) -> Any:
    """``venv`` behind VecNormalize (resumed statistics with ``--resume``)."""
    from stable_baselines3.common.vec_env import VecNormalize

    if not args.normalize:
        return venv
    stats = out / "vecnormalize.pkl"
    if args.resume and stats.exists():
        return VecNormalize.load(str(stats), venv)
    # rewards are scaled but never clipped: an imbalance is settled in one lump, and
    # clipping it would teach the policy that imbalance is cheap
    return VecNormalize(venv, norm_obs=True, norm_reward=True, clip_obs=10.0,
                        clip_reward=float("inf"), gamma=args.gamma)


def _model(venv: Any, args: Args, out: Path) -> Any:
    """A new PPO model (or the one in ``out`` with ``--resume``)."""
    from stable_baselines3 import PPO

    if args.resume:
        return PPO.load(out / "model.zip", env=venv, device=args.device)
    return PPO("MlpPolicy", venv, learning_rate=args.learning_rate, n_steps=args.n_steps,
               batch_size=args.batch_size, n_epochs=args.n_epochs, gamma=args.gamma,
               gae_lambda=args.gae_lambda, ent_coef=args.ent_coef, seed=args.seed,
               device=args.device, verbose=0, tensorboard_log=str(out / "tb"),
               policy_kwargs={"log_std_init": log_std_init(args),
                              "net_arch": list(args.net_arch)})


def _callbacks(venv: Any, args: Args, out: Path) -> tuple[Any, Any]:
    """The market-metrics callback and the list to pass to ``learn()``."""
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback

    metrics = market_metrics_callback()
    callbacks = [metrics]
    if args.checkpoint_every:
        every = max(1, args.checkpoint_every // venv.num_envs)
        callbacks.append(CheckpointCallback(every, str(out / "checkpoints"), "ppo",
                                            save_vecnormalize=args.normalize))
    return metrics, CallbackList(callbacks)


def _save(model: Any, venv: Any, args: Args, out: Path) -> None:
    model.save(out / "model.zip")
    if args.normalize:
        venv.save(str(out / "vecnormalize.pkl"))


def _config(args: Args, env: Any, num_envs: int, **extra: Any) -> dict[str, Any]:
    return {**{k: (str(v) if isinstance(v, Path) else v)
               for k, v in dataclasses.asdict(args).items()},
            "log_std_init": log_std_init(args), "env_kwargs": dict(env_kwargs(args)),
            "num_envs": num_envs,
            "python": sys.version.split()[0], "owners": dict(env.owner_of),
            "feature_names": env.feature_names(), **extra}


def train(args: Args) -> Path:
    """Train and save; returns the run folder."""
    env = validate(args)
    import torch
    from stable_baselines3.common.vec_env import VecMonitor

    torch.set_num_threads(args.threads)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.role == "all":
        return train_by_role(args, env)
    timer = step_timer(make_venv(args))
    venv = _normalised(VecMonitor(timer), args, out)
    (out / "config.json").write_text(json.dumps(_config(args, env, venv.num_envs), indent=2,
                                                default=str))
    model = _model(venv, args, out)
    metrics, callbacks = _callbacks(venv, args, out)
    freeze_setup()
    t0 = time.perf_counter()
    model.learn(args.timesteps, callback=callbacks, progress_bar=args.progress,
                reset_num_timesteps=not args.resume, tb_log_name="ppo")
    elapsed = time.perf_counter() - t0
    _save(model, venv, args, out)
    _report(out, int(model.num_timesteps), elapsed, timer.seconds, metrics.rollout_seconds)
    venv.close()
    return out


def freeze_setup() -> None:
    """Move everything built so far (torch, the models, the envs) out of the garbage
    collector's scans (``gc.freeze``): it lives for the whole run, and the env's many
    short-lived objects otherwise trigger full collections that rescan torch's large heap
    (measured: 6 full collections per 400 ``community`` env steps, 7-15 % of the env's time)."""
    gc.collect()
    gc.freeze()


def _report(out: Path, steps: int, elapsed: float, env_s: float, rollout_s: float) -> None:
    """Write timing.json and print where the time went."""
    timing = {"agent_steps": steps, "seconds": elapsed,
              "agent_steps_per_s": steps / max(elapsed, 1e-9),
              "env_seconds": env_s,
              "policy_inference_seconds": max(rollout_s - env_s, 0.0),
              "update_seconds": max(elapsed - rollout_s, 0.0)}
    (out / "timing.json").write_text(json.dumps(timing, indent=2))
    share = {k: 100 * timing[f"{k}_seconds"] / max(elapsed, 1e-9)
             for k in ("env", "policy_inference", "update")}
    print(f"trained {steps} agent-steps in {elapsed:.0f} s "
          f"({timing['agent_steps_per_s']:.0f}/s: env {share['env']:.0f} %, policy inference "
          f"{share['policy_inference']:.0f} %, PPO updates {share['update']:.0f} %); saved "
          f"{out}")


def train_by_role(args: Args, env: Any) -> Path:
    """All roles learn at once in one market, one PPO model per role.

    The learners of ``--n-envs`` env copies are split by role (:mod:`rex_env.envs.byrole`);
    each role's model trains on its own view in a thread, the market steps when every role
    has acted. ``OUT/<role>/`` holds each role's ``model.zip``, ``vecnormalize.pkl``,
    ``checkpoints/`` and ``tb/``; ``OUT/config.json`` lists the roles. ``--timesteps`` is
    the total over all learners, rounded up to whole rollouts. In ``timing.json`` the
    "policy inference" share also holds the time a role waits for the others at the market's
    barrier.
    """
    from stable_baselines3.common.vec_env import VecMonitor

    from rex_env.envs.byrole import RoleHub, run_parallel

    out = args.out
    base = make_venv(args)
    hub = RoleHub(base)
    rollouts = max(1, -(-args.timesteps // (args.n_steps * base.num_envs)))
    totals = hub.timesteps(rollouts, args.n_steps)
    (out / "config.json").write_text(json.dumps(
        _config(args, env, base.num_envs, roles={r: len(ix) for r, ix in hub.indices.items()}),
        indent=2, default=str))
    parts = {}
    for r in hub.roles:
        d = out / r
        d.mkdir(exist_ok=True)
        view = hub.views[r]
        venv = _normalised(VecMonitor(view), args, d)
        model = _model(venv, args, d)
        parts[r] = (d, venv, model, *_callbacks(venv, args, d))

    def job(r: str) -> Any:
        d, venv, model, _, callbacks = parts[r]
        return lambda: model.learn(totals[r], callback=callbacks, progress_bar=False,
                                   reset_num_timesteps=not args.resume, tb_log_name="ppo")

    freeze_setup()
    t0 = time.perf_counter()
    run_parallel([job(r) for r in hub.roles], hub)
    elapsed = time.perf_counter() - t0
    steps = 0
    for d, venv, model, _, _ in parts.values():
        _save(model, venv, args, d)
        steps += int(model.num_timesteps)
    rollout_s = max(m.rollout_seconds for _, _, _, m, _ in parts.values())
    _report(out, steps, elapsed, hub.env_seconds, rollout_s)
    base.close()
    return out


def main(argv: list[str] | None = None) -> int:
    import tyro

    args = tyro.cli(Args, args=argv, description=__doc__.split("\n\n")[0])
    try:
        train(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
