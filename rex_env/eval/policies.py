"""Controllers behind one SB3-style protocol: learned, random and hand-coded.

Every controller answers :meth:`Policy.predict` like a stable-baselines3 model, on the
stacked observations of the learners (``n x features``), so a learned model, a random
policy and a hand-coded prototype are scored through one env loop
(:func:`rex_env.eval.episodes.run_episode`). A hand-coded controller trades *inside* the
market: the env is built with ``controlled_by=<its kind>`` (the prototype or the strong
baseline trades for the learners' prosumers), and its ``predict`` returns the zero action the
env then ignores.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray


@runtime_checkable
class Policy(Protocol):
    """What the evaluation loop needs of a controller.

    Attributes:
        name: the row label of the tables.
        controlled_by: a hand-coded agent kind that trades inside the market, or ``None``
            (the predicted actions are applied).
    """

    name: str
    controlled_by: str | None

    def predict(self, observation: NDArray[np.float32], state: Any = None,
                episode_start: NDArray[np.bool_] | None = None,
                deterministic: bool = True) -> tuple[NDArray[Any], Any]:
        """Actions for a batch of observations, and the next recurrent state (``None``)."""
        ...


class HandCodedPolicy:
    """A hand-coded agent kind (prototype or strong baseline) trading for the learners."""

    def __init__(self, kind: str, name: str | None = None) -> None:
        self.name = name or kind
        self.controlled_by: str | None = kind

    def predict(self, observation: NDArray[np.float32], state: Any = None,
                episode_start: NDArray[np.bool_] | None = None,
                deterministic: bool = True) -> tuple[NDArray[Any], Any]:
        """Zero actions (ignored by an env with ``controlled_by`` set)."""
        return np.zeros((len(observation), 0), np.float32), None


class RandomPolicy:
    """Uniform random actions; seeded per episode by :meth:`reset` (reproducible)."""

    name = "random"
    controlled_by: str | None = None

    def __init__(self, action_space: spaces.Space[Any], seed: int = 0) -> None:
        self.action_space = action_space
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int) -> None:
        """A new episode on market seed ``seed``."""
        self.rng = np.random.default_rng(seed + 7)

    def predict(self, observation: NDArray[np.float32], state: Any = None,
                episode_start: NDArray[np.bool_] | None = None,
                deterministic: bool = True) -> tuple[NDArray[Any], Any]:
        n = len(observation)
        sp = self.action_space
        if isinstance(sp, spaces.Discrete):
            return self.rng.integers(int(sp.n), size=n), None
        assert isinstance(sp, spaces.Box)
        return self.rng.uniform(sp.low, sp.high, (n, *sp.shape)).astype(np.float32), None


class LearnedPolicy:
    """A run folder of ``train.py``: the SB3 model with its observation normalisation.

    Args:
        run: the run folder (``config.json``, ``model.zip``, ``vecnormalize.pkl``).
        model: another model file of the run (a checkpoint) instead of ``model.zip``.
        stats: its normalisation statistics (default ``run/vecnormalize.pkl``).

    Raises:
        FileNotFoundError: no model; ValueError: the file is not a PPO model.
    """

    controlled_by: str | None = None

    def __init__(self, run: Path, model: Path | None = None, stats: Path | None = None,
                 name: str = "ppo") -> None:
        from stable_baselines3 import PPO

        self.name = name
        self.run = Path(run)
        self._args = (self.run, model, stats, name)
        path = model or self.run / "model.zip"
        if not path.exists():
            raise FileNotFoundError(f"no model at {path}; train one with train.py")
        try:
            self.model = PPO.load(path, device="cpu")
        except Exception as exc:  # a corrupt or foreign file: say which, then stop
            raise ValueError(f"{path} is not a loadable PPO model: {exc}") from exc
        cfg = self.run / "config.json"
        self.config: dict[str, Any] = json.loads(cfg.read_text()) if cfg.exists() else {}
        self.obs_rms = None
        stats = stats or self.run / "vecnormalize.pkl"
        if stats.exists():
            with open(stats, "rb") as f:
                vn = pickle.load(f)  # noqa: S301 - the run folder is the user's own
            self.obs_rms = vn.obs_rms
            self.clip = vn.clip_obs
            self.eps = vn.epsilon

    def recipe(self) -> tuple[type[LearnedPolicy], tuple[Any, ...]]:
        """How a worker process loads this policy (:mod:`rex_env.eval.parallel`): the class and
        its arguments, a few paths instead of the pickled model."""
        return LearnedPolicy, self._args

    def reset(self, seed: int) -> None:
        """A new episode on market seed ``seed``: torch's generator seeded by it, so a sampled
        (``deterministic=False``) episode depends on its seed only, not on the episodes
        before it (the same in a worker process as in this one)."""
        import torch

        torch.manual_seed(seed)

    def check(self, env: Any) -> None:
        """The env must give the observation layout and action space the model was trained
        on, for the same learners (else its inputs would silently mean something else).

        Raises:
            ValueError: naming what differs.
        """
        want = env.observation_space(env.possible_agents[0]).shape
        have = self.model.observation_space.shape
        if want != have:
            raise ValueError(f"the model of {self.run} expects observations of shape {have}, "
                             f"the env gives {want}: evaluate on the scenario it was trained "
                             f"on ({self.config.get('scenario', '?')})")
        names = self.config.get("feature_names")
        if names is not None and list(names) != env.feature_names():
            diff = next(i for i, (a, b) in enumerate(zip(names, env.feature_names(),
                                                         strict=True)) if a != b)
            raise ValueError(f"the model of {self.run} was trained on another observation "
                             f"layout (feature {diff}: {names[diff]!r} there, "
                             f"{env.feature_names()[diff]!r} here)")
        if self.model.action_space != env.action_space(env.possible_agents[0]):
            raise ValueError(f"the model of {self.run} has action space "
                             f"{self.model.action_space}, the env "
                             f"{env.action_space(env.possible_agents[0])}")
        owners = self.config.get("owners")
        if owners is not None and "roles" not in self.config and dict(env.owner_of) != owners:
            raise ValueError(f"the model of {self.run} was trained for learners "
                             f"{sorted(owners.values())} (role "
                             f"{self.config.get('role', '?')!r}), the env has "
                             f"{sorted(env.owner_of.values())}: evaluate it where its "
                             f"learners are")

    def predict(self, observation: NDArray[np.float32], state: Any = None,
                episode_start: NDArray[np.bool_] | None = None,
                deterministic: bool = True) -> tuple[NDArray[Any], Any]:
        x = observation
        if self.obs_rms is not None:
            x = np.clip((x - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + self.eps),
                        -self.clip, self.clip).astype(np.float32)
        actions, _ = self.model.predict(x, deterministic=deterministic)
        return actions, None


class ByRolePolicy:
    """A ``train.py --role all`` run: one learned model per role, each trading for its role's
    learners in the same market (``act`` maps every agent to its role's model)."""

    controlled_by: str | None = None

    def __init__(self, run: Path, name: str = "ppo_all") -> None:
        self.name = name
        self.run = Path(run)
        cfg = self.run / "config.json"
        if not cfg.exists():
            raise FileNotFoundError(f"no run at {run} (config.json missing); train first")
        self.config: dict[str, Any] = json.loads(cfg.read_text())
        roles = self.config.get("roles")
        if self.config.get("role") != "all" or not roles:
            raise ValueError(f"{run} is not a by-role run (train.py --role all; it was trained "
                             f"for role {self.config.get('role')!r}): give it as --run")
        self.policies = {r: LearnedPolicy(self.run, model=self.run / r / "model.zip",
                                          stats=self.run / r / "vecnormalize.pkl", name=r)
                         for r in roles}

    def recipe(self) -> tuple[type[ByRolePolicy], tuple[Any, ...]]:
        """How a worker process loads this policy (see :meth:`LearnedPolicy.recipe`)."""
        return ByRolePolicy, (self.run, self.name)

    def reset(self, seed: int) -> None:
        """A new episode: torch seeded by the market seed (see :meth:`LearnedPolicy.reset`)."""
        import torch

        torch.manual_seed(seed)

    def check(self, env: Any) -> None:
        """The env must have the learners the run was trained with, and each model's layout.

        Raises:
            ValueError: naming what differs.
        """
        owners = self.config.get("owners")
        if owners is not None and dict(env.owner_of) != owners:
            raise ValueError(f"{self.run} was trained for learners {sorted(owners.values())}, "
                             f"the env has {sorted(env.owner_of.values())}")
        for p in self.policies.values():
            p.config.setdefault("feature_names", self.config.get("feature_names"))
            p.check(env)

    def act(self, obs: dict[str, NDArray[np.float32]], env: Any,
            deterministic: bool = True) -> dict[str, Any]:
        from ..spec.roles import role_of

        groups: dict[str, list[str]] = {}
        for a in obs:
            r = role_of(env.scenario.spec(env.owner_of[a]))
            groups.setdefault(str(r), []).append(a)
        out: dict[str, Any] = {}
        for r, agents in groups.items():
            acts, _ = self.policies[r].predict(np.stack([obs[a] for a in agents]),
                                               deterministic=deterministic)
            out.update(zip(agents, acts, strict=True))
        return out
