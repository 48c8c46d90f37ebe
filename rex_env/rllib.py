"""Ray RLlib (new API stack) support: a multi-agent env adapter, policy mappings, a PPO
config builder and an evaluation controller.

Needs the ``rllib`` extra (``pip install "rex-env[rllib]"``); nothing else in ``rex_env``
imports this module, so the package works without Ray.

* :class:`RexMultiAgentEnv` — :class:`rex_env.envs.RexParallelEnv` as an RLlib
  ``MultiAgentEnv`` (``"__all__"`` keys, per-agent space dicts, seeding from the env config
  and the env runner's index).
* :func:`policy_mapping` — which RLModule trades for which learner: ``shared`` (parameter
  sharing), ``by_role`` (one module per asset role, e.g. ``pv`` and ``pv_battery``
  households) or ``independent`` (one module per learner); ``fixed=`` pins some learners to
  :class:`HoldForecastRLM`, a frozen hand-coded module that is never trained.
* :func:`build_config` — a :class:`~ray.rllib.algorithms.ppo.PPOConfig` for all of this.
* :class:`RLlibPolicy` — a saved checkpoint as a controller of ``evaluate.py``.

**Who learns, who is hand-coded.** The env config's ``learners`` (as for
:func:`rex_env.parallel_env`: ``None`` = the scenario's learners, an agent kind such as
``"intermittent"``, or owner ids) chooses which prosumers are RL agents
(``prosumer_0..n-1``). Every other participant — households, wind, plant, storage dealer,
noise traders, the grid — is driven by its hand-coded agent *inside* the env, so RLlib never
sees it. ``fixed=`` additionally keeps chosen learners on a non-trainable module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

try:
    from ray.rllib.core.columns import Columns
    from ray.rllib.core.rl_module.rl_module import RLModule
    from ray.rllib.env.multi_agent_env import MultiAgentEnv
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError('rex_env.rllib needs Ray RLlib: pip install "rex-env[rllib]"') from exc

from .envs.parallel import RexParallelEnv

MAPPINGS = ("shared", "by_role", "independent")
FIXED_MODULE = "hold_forecast"
MAPPING_FILE = "rex_rllib.json"
"""Written next to a checkpoint by :func:`save_mapping`: env config and agent -> module."""


class RexMultiAgentEnv(MultiAgentEnv):  # type: ignore[misc, unused-ignore]
    """The Rex ``ParallelEnv`` as an RLlib ``MultiAgentEnv``.

    ``config`` holds :func:`rex_env.parallel_env` keywords (``scenario``, ``learners``,
    ``max_cycles``, ``action_mode``, ...) plus an optional ``seed``: the first reset without
    an explicit seed uses ``seed + worker_index`` (RLlib's ``EnvContext``), so env runners
    get distinct, reproducible streams; later resets continue the stream. An explicit
    ``reset(seed=...)`` always wins (RLlib passes ``config.seed + worker_index`` when
    ``config.debugging(seed=...)`` is set).

    Terminations, truncations and infos are the env's: a complete trading day ends in
    ``terminateds`` (every slot is settled, nothing is left to earn, so PPO does not
    bootstrap beyond it); a day cut short by ``max_cycles`` ends in ``truncateds``; infos are
    flat numbers. An action dict naming an unknown agent raises ``ValueError``; a missing
    agent holds (no new orders).
    """

    metadata = RexParallelEnv.metadata

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        cfg = dict(config or {})
        seed = cfg.pop("seed", None)
        if isinstance(cfg.get("learners"), list):
            cfg["learners"] = tuple(cfg["learners"])
        self.par_env = RexParallelEnv(**cfg)
        worker = int(getattr(config, "worker_index", 0) or 0)
        self._pending_seed = None if seed is None else int(seed) + worker
        ids = list(self.par_env.possible_agents)
        self.possible_agents = list(ids)
        self.agents: list[Any] = []
        self._agent_ids = set(ids)
        obs_spaces: dict[Any, Any] = {a: self.par_env.observation_space(a) for a in ids}
        act_spaces: dict[Any, Any] = {a: self.par_env.action_space(a) for a in ids}
        self.observation_spaces = obs_spaces
        self.action_spaces = act_spaces
        self.observation_space = gym.spaces.Dict(obs_spaces)
        self.action_space = gym.spaces.Dict(act_spaces)
        self.render_mode = self.par_env.render_mode

    @property
    def owner_of(self) -> dict[str, str]:
        return self.par_env.owner_of

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[Any, Any], dict[Any, Any]]:
        if seed is None and self._pending_seed is not None:  # explicit seeds keep it pending:
            seed, self._pending_seed = self._pending_seed, None  # RLlib's env check resets(42)
        obs, infos = self.par_env.reset(seed=seed, options=options)
        self.agents = list(self.par_env.agents)
        return obs, infos

    def step(self, action_dict: dict[Any, Any]  # type: ignore[override, unused-ignore]
             ) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any], dict[Any, Any],
                        dict[Any, Any]]:
        obs, rew, term, trunc, infos = self.par_env.step(action_dict)
        self.agents = list(self.par_env.agents)
        term["__all__"] = all(term.values())
        trunc["__all__"] = all(trunc.values())
        return obs, rew, term, trunc, infos

    def render(self) -> Any:
        return self.par_env.render()

    def close(self) -> None:
        self.par_env.close()


# -- policy mapping ---------------------------------------------------------------------------
def role_of(spec: Any) -> str:
    """A prosumer's role (:func:`rex_env.spec.roles.role_of`: ``households``, ``pv_battery``,
    ``wind``, ``plant``, ``storage``; ``other`` for a prosumer of no role)."""
    from .spec.roles import role_of as _role

    return _role(spec) or "other"


def policy_mapping(mode: str, env_config: Mapping[str, Any] | None = None,
                   fixed: Iterable[str] = ()) -> dict[str, str]:
    """Module id of every learner (agent id -> module id) under a mapping ``mode``.

    ``shared``: one module ``shared``; ``by_role``: one module per :func:`role_of`;
    ``independent``: one module per learner, named after its owner (``house03``).
    ``fixed``: agent or owner ids kept on the frozen :data:`FIXED_MODULE`.
    """
    if mode not in MAPPINGS:
        raise ValueError(f"mapping must be one of {', '.join(MAPPINGS)}, got {mode!r}")
    env = RexMultiAgentEnv({k: v for k, v in (env_config or {}).items() if k != "seed"}).par_env
    fixed = set(fixed)
    unknown = fixed - set(env.possible_agents) - set(env.owner_of.values())
    if unknown:
        raise ValueError(f"fixed {sorted(unknown)} are not learners; learners: {env.owner_of}")
    out: dict[str, str] = {}
    for a, owner in env.owner_of.items():
        if a in fixed or owner in fixed:
            out[a] = FIXED_MODULE
        elif mode == "shared":
            out[a] = "shared"
        elif mode == "by_role":
            out[a] = role_of(env.scenario.spec(owner))
        else:
            out[a] = owner
    if set(out.values()) == {FIXED_MODULE}:
        raise ValueError("every learner is fixed: nothing to train")
    return out


def mapping_fn(table: Mapping[str, str]) -> Callable[..., str]:
    """An RLlib ``policy_mapping_fn`` from an agent -> module table (picklable closure)."""
    table = dict(table)

    def fn(agent_id: str, episode: Any = None, **kwargs: Any) -> str:
        return table[agent_id]

    return fn


class HoldForecastRLM(RLModule):  # type: ignore[misc, unused-ignore]
    """A hand-coded, frozen module: reserve the own forecast at the touch (action 0).

    In ``box`` mode the zero action means target position = -forecast and aggressiveness 0
    in every window slot; in ``discrete`` mode action 0 is the no-op. Never trained: keep it
    out of ``policies_to_train`` (:func:`build_config` does).
    """

    def _actions(self, batch: dict[str, Any]) -> dict[str, Any]:
        n = len(batch[Columns.OBS])
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            return {Columns.ACTIONS: np.zeros(n, np.int64)}
        shape = tuple(getattr(space, "shape", None) or ())
        return {Columns.ACTIONS: np.zeros((n, *shape), np.float32)}

    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._actions(batch)

    def _forward_exploration(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._actions(batch)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError("HoldForecastRLM is hand-coded; keep it out of "
                                  "policies_to_train")


# -- the algorithm config ---------------------------------------------------------------------
def build_config(env_config: Mapping[str, Any] | None = None, *, mapping: str = "shared",
                 fixed: Iterable[str] = (), env_runners: int = 0, envs_per_runner: int = 1,
                 seed: int = 0, train_batch: int = 2000, minibatch: int = 256,
                 epochs: int = 5, lr: float = 3e-4, gamma: float = 0.999, lam: float = 0.95,
                 hidden: tuple[int, ...] = (128, 128), fragment: int | str = "auto",
                 cpus_per_runner: float = 1.0, sample_timeout: float | None = None) -> Any:
    """A new-API-stack ``PPOConfig`` training the learners of ``env_config`` (see
    :class:`RexMultiAgentEnv`) under ``mapping`` (see :func:`policy_mapping`).

    ``train_batch`` counts env steps (each holds one step of every learner), ``minibatch``
    agent steps per module; env copies start from seeds ``seed*1000 + worker_index
    (+ vector index)``, like ``train.py``'s ``seed*1000 + m``. Defaults follow ``train.py``
    (``gamma`` 0.999, GAE ``lam`` 0.95, 5 epochs, 128x128, lr 3e-4). ``cpus_per_runner`` is
    the Ray CPU reservation of one env runner.
    ``sample_timeout`` (seconds, ``None``: wait) bounds one collection of the batch; RLlib's
    default of 60 s silently yields an empty batch when runners are slow (a busy machine,
    large scenarios).
    """
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    base = seed * 1000
    env_cfg = {**dict(env_config or {}), "seed": base}
    table = policy_mapping(mapping, env_cfg, fixed)
    modules = sorted(set(table.values()))
    trained = [m for m in modules if m != FIXED_MODULE]
    probe = RexMultiAgentEnv({k: v for k, v in env_cfg.items() if k != "seed"}).par_env
    obs_space = probe.observation_space(probe.possible_agents[0])
    act_space = probe.action_space(probe.possible_agents[0])
    cpus: Any = cpus_per_runner  # Ray takes fractions; RLlib's hint says int
    specs = {m: RLModuleSpec(observation_space=obs_space, action_space=act_space)
             for m in trained}
    if FIXED_MODULE in modules:
        specs[FIXED_MODULE] = RLModuleSpec(module_class=HoldForecastRLM,
                                           observation_space=obs_space, action_space=act_space)
    return (
        PPOConfig()
        .environment(RexMultiAgentEnv, env_config=env_cfg)
        .env_runners(num_env_runners=env_runners, num_envs_per_env_runner=envs_per_runner,
                     num_cpus_per_env_runner=cpus,
                     rollout_fragment_length=fragment, sample_timeout_s=sample_timeout)
        .learners(num_learners=0)
        .multi_agent(policies=set(modules), policy_mapping_fn=mapping_fn(table),
                     policies_to_train=trained)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=specs),
                   model_config=DefaultModelConfig(fcnet_hiddens=list(hidden),
                                                   vf_share_layers=False))
        .training(train_batch_size_per_learner=train_batch, minibatch_size=minibatch,
                  num_epochs=epochs, lr=lr, gamma=gamma, lambda_=lam)
        .debugging(seed=base)
    )


def save_mapping(checkpoint: str | Path, env_config: Mapping[str, Any],
                 table: Mapping[str, str]) -> None:
    """Store what :class:`RLlibPolicy` needs beside the checkpoint (JSON)."""
    env = RexMultiAgentEnv({k: v for k, v in env_config.items() if k != "seed"})
    data = {"env_config": {k: v for k, v in env_config.items() if k != "seed"},
            "modules": dict(table), "owners": env.owner_of}
    (Path(checkpoint) / MAPPING_FILE).write_text(json.dumps(data, indent=2, default=list))


# -- evaluation -------------------------------------------------------------------------------
class RLlibPolicy:
    """A trained RLlib checkpoint as an ``evaluate.py`` controller (deterministic by default).

    Loads only the RLModules (no Ray cluster, no env runners) from
    ``CHECKPOINT/learner_group/learner/rl_module`` and the agent -> module table written by
    :func:`save_mapping`.
    """

    controlled_by: str | None = None

    def __init__(self, checkpoint: str | Path, deterministic: bool = True,
                 name: str = "ppo") -> None:
        import torch
        from ray.rllib.core import COMPONENT_LEARNER, COMPONENT_LEARNER_GROUP, COMPONENT_RL_MODULE

        ckpt = Path(checkpoint)
        meta = ckpt / MAPPING_FILE
        path = ckpt / COMPONENT_LEARNER_GROUP / COMPONENT_LEARNER / COMPONENT_RL_MODULE
        if not meta.exists() or not path.exists():
            raise FileNotFoundError(f"no RLlib checkpoint at {ckpt} (needs {MAPPING_FILE} and "
                                    f"{path.relative_to(ckpt)}); train with "
                                    "examples/rllib_train.py")
        data = json.loads(meta.read_text())
        self.modules: dict[str, str] = data["modules"]
        self.owners: dict[str, str] = data["owners"]
        self.multi: Any = RLModule.from_checkpoint(path)  # a MultiRLModule
        self.name = name
        self.deterministic = deterministic
        self._torch = torch
        self._args = (ckpt, deterministic, name)

    def recipe(self) -> tuple[type[RLlibPolicy], tuple[Any, ...]]:
        """How an evaluation worker process loads this policy (:mod:`rex_env.eval.parallel`):
        the checkpoint's path instead of the pickled modules."""
        return RLlibPolicy, self._args

    def reset(self, seed: int) -> None:
        self._torch.manual_seed(seed)

    def check(self, env: Any) -> None:
        """The env must have the learners (and spaces) the policy was trained on."""
        owners = dict(env.owner_of)
        if owners != self.owners:
            raise ValueError(f"the checkpoint was trained for learners {self.owners}, the env "
                             f"has {owners}: evaluate with the run's env_kwargs")
        for a, m in self.modules.items():
            want = env.observation_space(a).shape
            have = self.multi[m].observation_space.shape
            if want != have:
                raise ValueError(f"module {m!r} expects observations of shape {have}, the env "
                                 f"gives {want}: evaluate on the scenario it was trained on")

    def act(self, obs: dict[str, np.ndarray], env: Any,
            deterministic: bool | None = None) -> dict[str, Any]:
        """Every agent's action from its module; ``deterministic`` (the evaluation's flag)
        overrides the one given at construction."""
        det = self.deterministic if deterministic is None else deterministic
        torch = self._torch
        groups: dict[str, list[str]] = {}
        for a in obs:
            groups.setdefault(self.modules[a], []).append(a)
        out: dict[str, Any] = {}
        for m, agents in groups.items():
            module = self.multi[m]
            x = torch.as_tensor(np.stack([obs[a] for a in agents]), dtype=torch.float32)
            with torch.no_grad():
                res = module.forward_inference({Columns.OBS: x})
            if Columns.ACTIONS in res:
                acts = np.asarray(res[Columns.ACTIONS])
            else:
                dist = module.get_inference_action_dist_cls().from_logits(
                    res[Columns.ACTION_DIST_INPUTS])
                if det:
                    dist = dist.to_deterministic()
                acts = dist.sample().numpy()
            space = env.action_space(agents[0])
            for a, act in zip(agents, acts, strict=True):
                if isinstance(space, gym.spaces.Box):
                    out[a] = np.clip(act, space.low, space.high).astype(np.float32)
                else:
                    out[a] = int(act)
        return out


__all__ = ["FIXED_MODULE", "MAPPINGS", "HoldForecastRLM", "RLlibPolicy", "RexMultiAgentEnv",
           "build_config", "mapping_fn", "policy_mapping", "role_of", "save_mapping"]
