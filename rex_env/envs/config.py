"""Environment configuration: every keyword of :func:`rex_env.parallel_env`, validated once.

An unknown keyword or a bad value fails at construction with a message listing what is
allowed (the env never half-starts). Sizes are bounded so that no argument can make the env
exhaust memory or time: ``price_levels`` <= :data:`MAX_PRICE_LEVELS`, at most
:data:`MAX_SIZE_LEVELS` ``size_levels``, ``decision_interval`` <= one week, ``max_cycles`` <=
:data:`MAX_CYCLES`, a discrete action table of at most :data:`MAX_DISCRETE_ACTIONS` rows, and
the scenario within the loader's limits (:func:`rex_env.scenarios.loader.check_limits`, also
for a :class:`Scenario` built in Python).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..scenarios import PRESETS, Scenario, make_scenario
from ..spec.kinds import ACTION_MODES, CONTROLLERS, SETTLEMENT_MODES, TUNE_BASES
from ..spec.roles import ROLE_NAMES, role_owners, scenario_roles

MAX_PRICE_LEVELS = 64
"""Most price levels of the discrete action mode."""
MAX_SIZE_LEVELS = 32
"""Most order sizes of the discrete action mode."""
MAX_DISCRETE_ACTIONS = 65_536
"""Most rows of the discrete action table (open slots * 2 sides * price * size levels)."""
MAX_DECISION_INTERVAL = 7 * 86_400
"""Longest decision interval, seconds (one week)."""
MAX_CYCLES = 10**7
"""Largest ``max_cycles``."""


def check_keywords(func: str, kwargs: Any, allowed: Any) -> None:
    """Raise Python's own ``TypeError`` wording for an unknown keyword (TorchRL's ``GymEnv``
    and other callers match on "unexpected keyword argument"), listing the allowed ones."""
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        raise TypeError(f"{func}() got an unexpected keyword argument {unknown[0]!r}; "
                        f"allowed: {', '.join(allowed)}")


@dataclass(frozen=True)
class EnvConfig:
    """Settings of the Rex environment.

    Args:
        scenario: a preset name (``toy``, ``community``, ``town``, ``bandit``), the path of a
            scenario ``.json`` file, or a :class:`Scenario`.
        learners: who the RL policies trade for: ``None`` (the scenario's learners), a role
            of :mod:`rex_env.spec.roles` (``"households"``, ``"pv_battery"``, ``"wind"``,
            ``"plant"``, ``"storage"``: every prosumer with that role's assets;
            ``"spatial"``: the spatial arbitrager of a scenario with zones; ``"all"``:
            every prosumer of every role, grouped by role), an agent
            kind (``"intermittent"``: every prosumer the scenario gives that kind), or a
            sequence of owner ids.
        decision_interval: seconds between decision epochs (default: one slot length).
        action_mode: ``"box"`` (per-slot target position and aggressiveness),
            ``"offset"`` (one target and one aggressiveness, ``Box(-1, 1, (2,))``, applied to
            every open slot: a 23x smaller action for policies whose useful deviation from
            the forecast is the same everywhere, e.g. a hedge), ``"price"`` (``Box(-1, 1,
            (3,))``: level, slope, aggressiveness; each open slot's target is ``level + slope
            * z`` of its wholesale price standardised over the open window, a storage or
            plant policy in 3 numbers, :mod:`rex_env.envs.actions`), ``"tune"`` (the role's
            hand-coded agent trades and the policy sets its ``TUNABLE`` parameters each step,
            action 0 = the agent itself, :mod:`rex_env.envs.tune`) or ``"discrete"`` (one
            order per step from a flat ``Discrete`` table, with masks).
        tune_base: tune mode: which hand-coded agent the policy tunes, the role's
            ``"prototype"`` (default) or its strong ``"baseline"`` (the storage role's
            rolling-intrinsic trader).
        action_mask_in_obs: discrete mode: observations become
            ``{"observation": Box, "action_mask": MultiBinary(n)}`` (PettingZoo's masking
            convention, read by TorchRL, BenchMARL and Tianshou) instead of the bare ``Box``;
            :meth:`~rex_env.envs.parallel.RexParallelEnv.action_masks` works either way.
        max_cycles: truncate every agent after this many steps (``None``: the trading day).
        reward_scale: rewards are surplus changes divided by this many currency units
            (``None``: the value of one slot at full capacity at the reference price).
        target_range: box mode: how far the target may go from the forecast, in capacities
            (``target * target_range * capacity``; > 0). The default 1.0 can express any
            position; a small range (e.g. 0.1) gives the policy a finer grip on the small
            deviations that pay (a hedge of a few per cent of capacity) for the same
            exploration noise.
        pricing: box mode: what aggressiveness 0 means. ``"touch"`` (default): take at the
            best opposite quote; ``"make_take"``: follow the prototypes' make-take path
            (passive far from the gate, the touch 42 min before it, beyond it at the gate:
            ``rex_env.sim.agent_api.make_take_urgency`` of the time to the gate),
            so the zero action is "reserve the forecast the way the intermittent prototype
            does" and the policy learns deviations from it.
        feasible: clip every target position of a learner with a battery or a plant (not
            both) to what the asset can deliver *whatever fills*: its state of charge through
            every undelivered slot (power, efficiencies, SoC floor and ceiling; a PV + battery
            household's battery buffering its forecast net rate) or its output range (capacity,
            ramp limit from its last output and its neighbouring slots), as the storage and
            plant prototypes do (:mod:`rex_env.envs.feasible`). ``True`` (default): a policy
            cannot write a schedule its asset cannot follow; what was cut is reported in
            ``infos[a]["projected_kw"]`` and the reward stays the true surplus (imbalance from
            forecast errors remains). In discrete mode an order is shrunk (or dropped) so that
            its complete fill stays feasible. ``False``: targets are taken as given and the
            physics clips at delivery (the shortfall is imbalance), for ablations and the
            first version's results.
        price_levels: discrete mode: price levels from passive to crossing (>= 2).
        size_levels: discrete mode: order sizes as fractions of capacity (>= 1).
        settlement: override the scenario's settlement mode (``single``/``dual``/``curtail``).
        controlled_by: evaluation switch: drive the learners' prosumers with this hand-coded
            agent kind (``intermittent``, ``plant``, ``storage``, ``zic``, ``ziu``,
            ``random``) instead of the actions, so baselines and policies are scored through
            the same env loop; actions are then ignored.
        reward: ``"surplus"`` (default: the change in economic surplus) or ``"trading"``
            (the same minus the value of consumption served, which no action changes outside
            ``curtail`` settlement: the same optimal policy with far less reward variance, for
            training; evaluation always measures surplus).
    """

    scenario: str | Path | Scenario = "community"
    learners: Any = None
    decision_interval: int | None = None
    action_mode: str = "box"
    tune_base: str = "prototype"
    action_mask_in_obs: bool = False
    max_cycles: int | None = None
    reward_scale: float | None = None
    target_range: float = 1.0
    pricing: str = "touch"
    feasible: bool = True
    price_levels: int = 3
    size_levels: tuple[float, ...] = (0.1, 0.3, 1.0)
    settlement: str | None = None
    controlled_by: str | None = None
    reward: str = "surplus"

    def __post_init__(self) -> None:
        sc = self.scenario
        if not isinstance(sc, Scenario) and not (
                isinstance(sc, (str, Path)) and (sc in PRESETS or str(sc).endswith(".json"))):
            raise ValueError(f"unknown scenario {sc!r}; allowed: {', '.join(sorted(PRESETS))}, "
                             "a scenario .json file or a rex_env.scenarios.Scenario")
        if self.action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode must be one of {ACTION_MODES}, got "
                             f"{self.action_mode!r}")
        if self.tune_base not in TUNE_BASES:
            raise ValueError(f"tune_base must be one of {TUNE_BASES}, got {self.tune_base!r}")
        if not isinstance(self.action_mask_in_obs, bool):
            raise ValueError(f"action_mask_in_obs must be True or False, got "
                             f"{self.action_mask_in_obs!r}")
        if self.action_mask_in_obs and self.action_mode != "discrete":
            raise ValueError(f"action_mask_in_obs=True needs action_mode='discrete' (masks "
                             f"exist for discrete actions only), got {self.action_mode!r}")
        di = self.decision_interval
        if di is not None and (not isinstance(di, int) or isinstance(di, bool)
                               or not 0 < di <= MAX_DECISION_INTERVAL):
            raise ValueError(f"decision_interval must be a positive int of seconds <= "
                             f"{MAX_DECISION_INTERVAL}, got {di!r}")
        mc = self.max_cycles
        if mc is not None and (not isinstance(mc, int) or isinstance(mc, bool)
                               or not 0 < mc <= MAX_CYCLES):
            raise ValueError(f"max_cycles must be a positive int <= {MAX_CYCLES} or None, got "
                             f"{mc!r}")
        rs = self.reward_scale
        if rs is not None and (isinstance(rs, bool) or not isinstance(rs, (int, float))
                               or not math.isfinite(rs) or rs <= 0):
            raise ValueError(f"reward_scale must be a finite number > 0 or None, got {rs!r}")
        pl = self.price_levels
        if not isinstance(pl, int) or isinstance(pl, bool) or not 2 <= pl <= MAX_PRICE_LEVELS:
            raise ValueError(f"price_levels must be an int >= 2 and <= {MAX_PRICE_LEVELS}, got "
                             f"{pl!r}")
        if not isinstance(self.size_levels, (tuple, list)) or not (
                1 <= len(self.size_levels) <= MAX_SIZE_LEVELS):
            raise ValueError(f"size_levels must be a sequence of 1..{MAX_SIZE_LEVELS} fractions "
                             f"of capacity in (0, 1], got {self.size_levels!r}")
        sizes = tuple(self.size_levels)
        if any(isinstance(x, bool) or not (isinstance(x, (int, float)) and 0 < x <= 1)
               for x in sizes):
            raise ValueError(f"size_levels must be fractions of capacity in (0, 1], got "
                             f"{self.size_levels!r}")
        object.__setattr__(self, "size_levels", sizes)
        if self.controlled_by is not None and self.controlled_by not in CONTROLLERS:
            raise ValueError(f"controlled_by must be one of {', '.join(CONTROLLERS)} or None, "
                             f"got {self.controlled_by!r}")
        if self.reward not in ("surplus", "trading"):
            raise ValueError(f"reward must be 'surplus' or 'trading', got {self.reward!r}")
        tr = self.target_range
        if isinstance(tr, bool) or not isinstance(tr, (int, float)) or not 0 < tr <= 2 \
                or not math.isfinite(tr):
            raise ValueError(f"target_range must be a number in (0, 2] (capacities), got "
                             f"{tr!r}")
        if not isinstance(self.feasible, bool):
            raise ValueError(f"feasible must be True or False, got {self.feasible!r}")
        if self.pricing not in ("touch", "make_take"):
            raise ValueError(f"pricing must be touch or make_take, got {self.pricing!r}")
        if self.settlement is not None and self.settlement not in SETTLEMENT_MODES:
            raise ValueError(f"settlement must be {', '.join(SETTLEMENT_MODES)} or None (the "
                             f"scenario's own), got {self.settlement!r}")

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> EnvConfig:
        """Build from keyword arguments; unknown keywords are an error listing the allowed."""
        allowed = [f.name for f in dataclasses.fields(cls)]
        check_keywords("parallel_env", kwargs, allowed)
        return cls(**kwargs)

    def build_scenario(self) -> Scenario:
        """The scenario, checked against the size limits (also one built in Python).

        Raises:
            ValueError: the scenario or the discrete action table is beyond a documented limit.
        """
        from ..scenarios.loader import check_limits
        from ..spec.settlement import SettlementConfig

        sc = make_scenario(self.scenario)
        if self.settlement is not None and self.settlement != sc.settlement.mode:
            sc = sc.replace(settlement=dataclasses.replace(sc.settlement,
                                                           mode=self.settlement))
            assert isinstance(sc.settlement, SettlementConfig)
        check_limits(sc)
        if self.action_mode == "discrete":
            rows = sc.schedule.window * 2 * self.price_levels * len(self.size_levels)
            if rows > MAX_DISCRETE_ACTIONS:
                raise ValueError(f"the discrete action table would have {rows} rows (open slots"
                                 f" {sc.schedule.window} * 2 sides * price_levels "
                                 f"{self.price_levels} * {len(self.size_levels)} size_levels);"
                                 f" at most {MAX_DISCRETE_ACTIONS}")
        return sc

    def learner_owners(self, sc: Scenario) -> tuple[str, ...]:
        """Resolve :attr:`learners` against the scenario."""
        lr = self.learners
        members = [p for p in sc.prosumers if not p.external]
        if lr is None:
            owners = tuple(sc.learners)
            if not owners:
                raise ValueError(f"scenario {sc.name!r} names no learners; pass learners= (an "
                                 "agent kind or owner ids)")
        elif isinstance(lr, str) and lr in ROLE_NAMES:
            owners = role_owners(sc, lr)
        elif lr == "all":
            owners = tuple(o for r in scenario_roles(sc) for o in role_owners(sc, r))
        elif isinstance(lr, str):
            owners = tuple(p.owner for p in members if p.agent == lr)
            if not owners:
                kinds = sorted({p.agent for p in members})
                raise ValueError(f"no prosumer of kind {lr!r} can learn in scenario "
                                 f"{sc.name!r}; kinds: {kinds}, roles: "
                                 f"{', '.join(scenario_roles(sc))}, or pass owner ids")
        elif isinstance(lr, (tuple, list)) and all(isinstance(o, str) for o in lr):
            owners = tuple(lr)
        else:
            raise ValueError(f"learners must be None, an agent kind or a sequence of owner ids, "
                             f"got {lr!r}; owners: {sc.owners}")
        unknown = sorted(set(owners) - set(sc.owners))
        if unknown or not owners:
            raise ValueError(f"learners {unknown or list(owners)} are not owners of scenario "
                             f"{sc.name!r}; owners: {sc.owners}")
        if len(set(owners)) != len(owners):
            raise ValueError(f"learners must be distinct, got {list(owners)}")
        external = {p.owner for p in sc.prosumers if p.external}
        for o in owners:
            if o in external:
                raise ValueError(f"{o!r} is the external grid and cannot be a learner")
        return owners
