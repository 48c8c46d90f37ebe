"""The Rex PettingZoo environment: learned prosumers trade on the LOB-3D.

The env is a thin adapter around :class:`rex_env.sim.market.Market`: actions become orders
(:mod:`.actions`), the market runs to the next decision epoch with every other participant
driven by its hand-coded agent, the LOB-3D and private state become observations
(:mod:`.observation`), and surplus changes become rewards.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from .. import _core
from ..exchange import LOB3D, Side, Status
from ..physics import Battery
from ..scenarios import Scenario
from ..sim.agent_api import (
    URGENCY_TAU_S,
    Instruction,
    cancel,
    modify,
    submit,
)
from ..sim.market import Market
from ..sim.prosumer import Prosumer
from .actions import (
    OrderSteer,
    discrete_mask,
    discrete_table,
    make_take_aggressiveness,
    order_lots,
    price_for,
    price_scores,
    price_targets,
)
from .config import EnvConfig
from .feasible import battery_targets, plant_targets
from .observation import DEPTH_SCALE, LIMIT, PRIVATE_FEATURES, PublicBlock, feature_names
from .spatial import is_spatial, learner_capacity, spatial_instructions
from .tune import tuned_prototypes
from .zonal_obs import ZonalBlock, neighbour_count, zonal_feature_names

AgentID = str

INFO_KEYS = ("fills", "filled_kw", "rejected", "clipped", "masked", "projected_kw", "surplus",
             "imbalance_kwh")
"""The keys of ``infos[agent]``, the same at reset and at every step; every value a number."""

INFO_COUNTS = ("fills", "rejected", "clipped", "masked")
"""The keys of :data:`INFO_KEYS` whose values are counts (``int``); the others are ``float``."""

PRIVATE_SLOT_FEATURES = ("position", "working_rate", "working_price", "forecast",
                         "forecast_std")
"""Per-slot features only their learner sees (the rest of a slot's features are public)."""


class RexParallelEnv(ParallelEnv):
    """Rex, the reservation exchange, as a PettingZoo ``ParallelEnv`` (version 0).

    **Agents.** ``prosumer_0 .. prosumer_{n-1}``: the scenario's learners (``owner_of`` maps
    each to its owner id, e.g. ``house03``). Everyone else in the market — households, wind,
    plant, storage dealer, noise traders, the grid — is driven by its hand-coded agent inside
    the env. All agents share the same observation and action spaces (parameter sharing);
    prosumer-specific facts (capacity, assets) are *in* the observation, not in the space.

    **Time.** Slot ``k`` delivers over ``[k*slot_len, (k+1)*slot_len)``; each slot opens
    ``open_lead`` before delivery (call phase, then continuous trading) and closes at
    ``gate_lead`` before delivery. A step is one decision epoch, ``decision_interval``
    seconds (default one slot, 900 s). The episode is one trading day: from the first
    opening until the last gate closure (community: 118 steps); at the last step the market
    runs on until every slot is delivered and settled, so every reservation is settled
    inside the episode.

    **Action** (``action_mode="box"``, default): ``Box(-1, 1, (2*W,), float32)``, for each of
    the ``W`` window slots (nearest delivery first):

    =====  ================  ===========================================================
    index  name              meaning
    =====  ================  ===========================================================
    2j     target            position = -forecast + target * capacity (kW, bought > 0)
    2j+1   aggressiveness    -1 passive (inside the spread), 0 at the touch, +1 deeper
    =====  ================  ===========================================================

    With ``feasible=True`` (default) the targets of a learner with a battery or a plant are
    then clipped to what the asset can deliver whatever fills (:mod:`rex_env.envs.feasible`;
    the kW cut are ``infos[a]["projected_kw"]``). Values outside ``[-1, 1]`` are clipped and
    counted in ``infos[a]["clipped"]``; a NaN or
    infinite value raises ``ValueError`` naming the agent. ``action_mode="offset"`` is one
    (target, aggressiveness) pair for every slot, ``"price"`` a (level, slope,
    aggressiveness) rule of each slot's wholesale price (see :mod:`rex_env.envs.actions`).
    ``action_mode="discrete"`` gives
    ``Discrete(1 + W*2*P*Q)`` (one order per step; see :mod:`rex_env.envs.actions`). Its mask
    (1 = valid: an open slot, and the position stays within 2 capacities) comes from
    :meth:`action_masks`, or, with ``action_mask_in_obs=True``, inside the observation
    (PettingZoo's convention). ``step`` enforces it: a masked action is a no-op counted in
    ``infos[a]["masked"]``, an index outside the space one counted in ``"clipped"``.

    **Actions dict**: a key that is not a live agent raises ``ValueError`` naming it and the
    live agents. A live agent that is missing from the dict (or whose action is ``None``)
    *holds*: it places, changes and cancels no order this step (its working orders stay), in
    every action mode.

    **Observation**: ``Box(-10, 10, (D,), float32)``, named by :meth:`feature_names`; layout,
    units and scales in :mod:`rex_env.envs.observation` (time features; per window slot: phase,
    time to gate, best bid/ask, spread, top-K depth, last price, VWAP, volume, own position,
    own working order, forecast and its uncertainty; state of charge, plant output, last
    imbalance, asset flags). Prices are relative to the reference price, rates to the
    learner's capacity; every value is clipped to ``[-10, 10]``. With
    ``action_mask_in_obs=True`` (discrete mode) the observation is
    ``Dict(observation=Box, action_mask=MultiBinary(n))``.

    **Zones**: in a scenario with zones each learner trades in its own zone; its book features
    are its zone's, and a zonal block (:mod:`rex_env.envs.zonal_obs`: per slot the cross-zonal
    gate, each neighbour's best quotes and the capacity left each way) sits between the
    per-slot blocks and the private state. A learner of agent kind ``spatial`` (role
    ``spatial``) reads its box action as a signed flow and a minimum price gap per slot and
    trades two immediate legs across a line (:mod:`rex_env.envs.spatial`).

    **State** (for centralised critics): :meth:`state` and :attr:`state_space`,
    ``Box(-10, 10, (D_s,), float32)`` named by :meth:`state_names`: the public features once
    (time; per window slot the LOB-3D features: phase, gate, quotes, depth, last price, VWAP,
    volume; with zones, once per zone, each with its zonal block) followed by every learner's
    private block (per slot: position, working order,
    forecast and its std; then state of charge, plant output, last imbalance, asset flags),
    in ``possible_agents`` order. An observation is exactly the public part plus its own
    learner's private block: no agent observes another's private features.

    **Reward**: the change of the learner's economic surplus since the last step — trade cash
    (at each fill) + imbalance cash + value of consumption served (at the grid's retail ask of
    the slot, :attr:`rex_env.sim.curve.PublicCurve.asks`) - production cost (these three at
    each slot's settlement) + on the last step the value of
    the change of its battery's stored energy (day VWAP x discharge efficiency,
    :func:`rex_env.sim.settlement.terminal_energy_value`) — divided by ``reward_scale``
    (default: the value of one slot at full capacity at the reference price,
    ``capacity_kW * reference_price / 1000 * slot_len / 3600`` currency). ``infos[a]`` holds
    numbers only, with the same keys at reset (all zero) and at every step (:data:`INFO_KEYS`),
    so that TorchRL, BenchMARL and Tianshou can stack them: ``fills`` and ``filled_kw`` (this
    step), ``rejected`` (orders the exchange rejected this step), ``clipped`` (action entries
    clipped), ``masked`` (1 if a discrete action was masked and dropped), ``projected_kw``
    (this step: how far the feasibility projection moved the targets, kW summed over slots;
    0 with ``feasible=False`` or no battery or plant), ``surplus`` and
    ``imbalance_kwh`` (episode so far). The nested detail of the last reset or step —
    ``owner``, ``reward_parts`` (currency: trade cash, imbalance cash, consumption value,
    minus production cost, minus unserved-energy cost, terminal value of stored energy; they
    sum to ``reward * reward_scale``)
    and ``rejections`` (reason -> count) — is in :meth:`last_details`.

    **Episode end**: no agent ends early. On the last step of the trading day the market runs
    on until every slot is delivered and settled: the day is over and nothing is left to
    earn, so every agent is **terminated** (``terminations[a] = True``; a learner must not
    bootstrap a value beyond it). Only a cut by ``max_cycles`` before the end of the day is a
    **truncation** (``truncations[a] = True``). Either way ``agents`` is empty afterwards.

    **Arguments**: see :class:`rex_env.envs.config.EnvConfig` (``scenario``, ``learners``,
    ``decision_interval``, ``action_mode``, ``action_mask_in_obs``, ``max_cycles``,
    ``reward_scale``, ``price_levels``, ``size_levels``, ``settlement``) and ``render_mode``
    (``ansi``, ``rgb_array``, ``human``).

    **Version history**: v0 (rex_env 0.1.0) — first release; then (issue 14, same id): a
    settled day is terminated (was truncated), infos are flat numbers (the detail moved to
    :meth:`last_details`), discrete masks are enforced in ``step``, a missing action holds
    (was the zero action), :meth:`state`.
    """

    metadata = {"name": "rex_v0", "render_modes": ["ansi", "rgb_array", "human"],
                "is_parallelizable": True, "render_fps": 4}

    def __init__(self, scenario: str | Scenario = "community", render_mode: str | None = None,
                 max_cycles: int | None = None, **overrides: Any) -> None:
        modes: list[str] = self.metadata["render_modes"]  # type: ignore[assignment]
        if render_mode is not None and render_mode not in modes:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or "
                             f"None, got {render_mode!r}")
        self.config = EnvConfig.from_kwargs(scenario=scenario, max_cycles=max_cycles,
                                            **overrides)
        self.render_mode = render_mode
        self.scenario = sc = self.config.build_scenario()
        learners = self.config.learner_owners(sc)
        self.possible_agents: list[AgentID] = [f"prosumer_{i}" for i in range(len(learners))]
        self.owner_of: dict[AgentID, str] = dict(zip(self.possible_agents, learners, strict=True))
        self.agent_of: dict[str, AgentID] = {o: a for a, o in self.owner_of.items()}
        self.schedule = s = sc.schedule
        self.grid = sc.grid
        self.window = s.window
        self.k = sc.depth_levels
        self.dt = self.config.decision_interval or s.slot_len
        self.n_steps = -(-s.last_close // self.dt)  # epochs from t=0 to the last gate
        self.max_cycles = self.config.max_cycles
        self._names = feature_names(self.window, self.k)
        self._zonal: ZonalBlock | None = None
        if sc.zonal:  # the zonal block goes before the private state (.zonal_obs)
            self._zonal = ZonalBlock(self.window, neighbour_count(sc))
            at = len(self._names) - len(PRIVATE_FEATURES)
            self._names[at:at] = zonal_feature_names(self.window, self._zonal.nb_count)
        obs_space = spaces.Box(-LIMIT, LIMIT, (len(self._names),), np.float32)
        if self.config.action_mode == "box":
            act_space: spaces.Space[Any] = spaces.Box(-1.0, 1.0, (2 * self.window,), np.float32)
            self._table = None
        elif self.config.action_mode == "offset":
            act_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
            self._table = None
        elif self.config.action_mode == "price":
            act_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
            self._table = None
        elif self.config.action_mode == "tune":
            self._tuned = tuned_prototypes(sc, learners, self.config.tune_base)
            knobs = next(iter(self._tuned.values())).TUNABLE
            act_space = spaces.Box(-1.0, 1.0, (len(knobs),), np.float32)
            self._table = None
        else:
            self._table = discrete_table(self.window, self.config.price_levels,
                                         self.config.size_levels)
            act_space = spaces.Discrete(1 + len(self._table))
        # one object per space, shared by every agent (parameter sharing; `is` checks)
        self._obs_space: spaces.Space[Any] = obs_space
        if isinstance(act_space, spaces.Discrete) and self.config.action_mask_in_obs:
            self._obs_space = spaces.Dict({  # PettingZoo's masking convention
                "observation": obs_space, "action_mask": spaces.MultiBinary(int(act_space.n))})
        self._act_space = act_space
        private = set(PRIVATE_SLOT_FEATURES) | set(PRIVATE_FEATURES)
        is_private = np.array([n.rpartition(".")[2] in private for n in self._names])
        self._public_idx = np.flatnonzero(~is_private)
        self._private_idx = np.flatnonzero(is_private)
        n_state = (len(self._public_idx) * max(1, len(sc.zones))
                   + len(self.possible_agents) * len(self._private_idx))
        self.state_space = spaces.Box(-LIMIT, LIMIT, (n_state,), np.float32)
        specs = {o: sc.spec(o) for o in learners}
        self._capacity = {a: max(learner_capacity(specs[o]), 1.0)
                          for a, o in self.owner_of.items()}
        self._spatial = {a for a, o in self.owner_of.items() if is_spatial(specs[o])}
        if self._spatial and (not sc.zonal or self.config.action_mode not in ("box", "offset")):
            raise ValueError("a spatial arbitrager learns in a scenario with zones, with "
                             "action_mode 'box' or 'offset' (rex_env.envs.spatial), got "
                             f"scenario {sc.name!r} and action_mode "
                             f"{self.config.action_mode!r}")
        ref = sc.reference_price
        self._ref_ticks = int(sc.reference_ticks)
        slot_h = s.slot_len / 3600
        self._reward_scale = {
            a: self.config.reward_scale or (self._capacity[a] * ref / 1000 * slot_h)
            for a in self.possible_agents
        }
        self._flags = {
            a: np.array([specs[o].pv is not None, specs[o].wind is not None,
                         specs[o].load is not None, specs[o].battery is not None,
                         specs[o].plant is not None], np.float32)
            for a, o in self.owner_of.items()
        }
        # feasible=True: the asset whose limits bound the learner's targets (feasible.py); a
        # prosumer with both a battery and a plant (no preset has one) is not projected
        self._flex = {a: ("battery" if specs[o].battery is not None else "plant")
                      if self.config.feasible and (specs[o].battery is None)
                      != (specs[o].plant is None) else None
                      for a, o in self.owner_of.items()}
        self._projected: dict[AgentID, float] = {}
        self._public: dict[str | None, PublicBlock] = {}
        self._public_parts: tuple[NDArray[np.float32], dict[str | None, NDArray[np.float32]],
                                  dict[str | None, NDArray[np.float32]]] | None = None
        self._lot_kw = float(self.grid.lot_q)
        self._bounds = (int(math.ceil(self.grid.min_ticks)), int(math.floor(self.grid.max_ticks)))
        from agents import build_population, make_agent  # the hand-coded population

        self._population = build_population(sc, exclude=learners)
        if self.config.action_mode == "tune":  # the policy sets its prototype's parameters
            self._population.update(self._tuned)
        self.controlled_by = self.config.controlled_by
        if self.controlled_by is not None:  # evaluation: a baseline drives the learners
            for o in learners:
                agent = make_agent(specs[o], sc, self.controlled_by)
                assert agent is not None, "EnvConfig admits hand-coded kinds only"
                self._population[o] = agent
        self.market = Market(sc, self._population)
        self._steer = {a: OrderSteer() for a in self.possible_agents}
        self._decoder: Any = None  # the compiled decoding, built on first use
        self.agents: list[AgentID] = []
        self._step_count = 0
        self._last_surplus: dict[AgentID, float] = {}
        self._last_parts: dict[AgentID, tuple[float, ...]] = {}
        self._np_random: np.random.Generator | None = None
        self._lob: dict[str | None, LOB3D] = {}
        self._vectors: dict[AgentID, NDArray[np.float32]] = {}
        self._seen_forecast: tuple[object, int, range, dict[AgentID, NDArray[np.float64]]] | None
        self._seen_forecast = None
        """(the episode's prosumers, time, window, learner -> forecast net rates) read by the
        last observation: the next step's decoder reads the same (:meth:`_window_forecast`)."""
        self._details: dict[AgentID, dict[str, Any]] = {}

    # -- spaces ---------------------------------------------------------------------------
    def observation_space(self, agent: AgentID) -> spaces.Space[Any]:
        return self._obs_space

    def action_space(self, agent: AgentID) -> spaces.Space[Any]:
        return self._act_space

    def feature_names(self) -> list[str]:
        """Names of the observation's features, in order."""
        return list(self._names)

    def state_names(self) -> list[str]:
        """Names of the :meth:`state` features, in order: the public ones (with zones: once
        per zone, in the scenario's zone order, as ``<zone>.<feature>``), then
        ``prosumer_i.<private feature>`` for every learner."""
        public = [self._names[i] for i in self._public_idx]
        if self.scenario.zonal:
            names = [f"{z}.{n}" for z in self.scenario.zones for n in public]
        else:
            names = public
        for a in self.possible_agents:
            names.extend(f"{a}.{self._names[i]}" for i in self._private_idx)
        return names

    def state(self) -> NDArray[np.float32]:
        """The global state after the last reset or step (see the class docstring): the
        public features once, then every learner's private block. For centralised critics
        only: no agent observes it."""
        if not self._vectors:
            raise RuntimeError("state() needs a reset() first")
        parts = self._public_state()
        parts.extend(self._vectors[a][self._private_idx] for a in self.possible_agents)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def last_details(self) -> dict[AgentID, dict[str, Any]]:
        """The nested detail of the last reset or step, per agent: ``owner``,
        ``reward_parts`` (currency, this step) and ``rejections`` (reason -> count, this
        step). Kept out of ``infos`` so that infos stay flat and numeric."""
        return {a: {"owner": d["owner"], "reward_parts": dict(d["reward_parts"]),
                    "rejections": dict(d["rejections"])} for a, d in self._details.items()}

    # -- episode --------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[AgentID, NDArray[np.float32]], dict[AgentID, dict[str, Any]]]:
        """Start a trading day. A seed makes it reproducible; ``None`` continues the stream."""
        if seed is not None or self._np_random is None:
            self._np_random = np.random.default_rng(seed)
        self.market.reset(self._np_random)
        if self.config.action_mode == "tune":
            for agent in self._tuned.values():
                agent.tune((0.0,) * len(agent.TUNABLE))  # the prototype until the first action
        for st in self._steer.values():
            st.reset()
        self.agents = list(self.possible_agents)
        self._step_count = 0
        self._last_surplus = {a: 0.0 for a in self.agents}
        self._last_parts = {a: (0.0,) * 8 for a in self.agents}
        self.market.run_until(0)
        self._seen_forecast = None
        obs = self._observe()
        infos: dict[AgentID, dict[str, Any]] = {
            a: {k: (0 if k in INFO_COUNTS else 0.0) for k in INFO_KEYS} for a in self.agents}
        self._details = {a: {"owner": self.owner_of[a], "reward_parts": dict.fromkeys(
            ("trade_cash", "imbalance_cash", "consumption_value", "production_cost",
             "unserved_cost", "terminal_value"), 0.0), "rejections": {}} for a in self.agents}
        return obs, infos

    @property
    def np_random(self) -> np.random.Generator:
        if self._np_random is None:
            self._np_random = np.random.default_rng()
        return self._np_random

    def step(self, actions: dict[AgentID, Any]) -> tuple[
        dict[AgentID, NDArray[np.float32]], dict[AgentID, float], dict[AgentID, bool],
        dict[AgentID, bool], dict[AgentID, dict[str, Any]],
    ]:
        """validate -> orders -> run to the next epoch -> settle -> rewards -> episode end."""
        if not self.agents:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        if not isinstance(actions, dict):
            raise TypeError(f"step() takes a dict agent id -> action, got "
                            f"{type(actions).__name__}")
        unknown = [a for a in actions if a not in self.agents]
        if unknown:
            raise ValueError(f"step() got actions for unknown agent id(s) {unknown}; live "
                             f"agents: {self.agents}")
        decoded = {a: self._validate(a, actions.get(a)) for a in self.agents}
        m = self.market
        rejections: dict[AgentID, dict[str, int]] = {a: {} for a in self.agents}
        self._projected = dict.fromkeys(self.agents, 0.0)
        # the learners' trades are booked together when the block ends (nothing in it reads
        # the accounts, metrics or trade list)
        with m.deferred_booking():
            for a in self.agents:
                action = decoded[a][0]
                if self.controlled_by is not None or action is None:
                    continue  # hand-coded control, or a hold: no new orders
                if self.config.action_mode == "tune":
                    self._tuned[self.owner_of[a]].tune(action)  # its prototype trades, as set
                    continue
                instructions = self._decode(a, action)
                if not instructions:
                    continue
                reports = m.execute(self.owner_of[a], instructions)
                steer = self._steer[a]
                if type(steer) is OrderSteer and m.compiled_exchange is not None:
                    _core.note_reports(reports, steer.working, rejections[a], Status.RESTING)
                    continue  # the loop below, compiled
                for ins, rep in reports:
                    steer.note(ins, rep.order)
                    if rep.reason is not None:
                        r = rejections[a]
                        r[rep.reason.value] = r.get(rep.reason.value, 0) + 1
        self._step_count += 1
        t_next = self._step_count * self.dt
        last = t_next >= self.schedule.last_close
        if last:
            m.run()  # the remaining deliveries and settlements belong to this episode
        else:
            m.run_until(t_next)
        cut = not last and self.max_cycles is not None and self._step_count >= self.max_cycles
        rewards: dict[AgentID, float] = {}
        infos: dict[AgentID, dict[str, Any]] = {}
        trading = self.config.reward == "trading"
        for a in self.agents:
            acct = m.accounts[self.owner_of[a]]
            surplus = acct.surplus
            scored = surplus - acct.consumption_value if trading else surplus
            rewards[a] = float((scored - self._last_surplus[a]) / self._reward_scale[a])
            self._last_surplus[a] = scored
            parts = (acct.trade_cash, acct.imbalance_cash, acct.consumption_value,
                     acct.production_cost, acct.unserved_cost, float(acct.fills),
                     acct.filled_kw, acct.terminal_value)
            prev = self._last_parts[a]
            self._last_parts[a] = parts
            self._details[a] = {
                "owner": self.owner_of[a],
                "reward_parts": {"trade_cash": parts[0] - prev[0],
                                 "imbalance_cash": parts[1] - prev[1],
                                 "consumption_value": parts[2] - prev[2],
                                 "production_cost": -(parts[3] - prev[3]),
                                 "unserved_cost": -(parts[4] - prev[4]),
                                 "terminal_value": parts[7] - prev[7]},
                "rejections": rejections[a],
            }
            infos[a] = {
                "fills": int(parts[5] - prev[5]),
                "filled_kw": float(parts[6] - prev[6]),
                "rejected": sum(rejections[a].values()),
                "clipped": decoded[a][1],
                "masked": decoded[a][2],
                "projected_kw": self._projected[a],
                "surplus": float(surplus),
                "imbalance_kwh": float(acct.imbalance_volume_kwh),
            }
        obs = self._observe()
        terminations = {a: last for a in self.agents}
        truncations = {a: cut for a in self.agents}
        if last or cut:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    # -- actions --------------------------------------------------------------------------
    def _validate(self, agent: AgentID, action: Any) -> tuple[Any, int, int]:
        """(action to execute or ``None`` for a hold, entries clipped, 1 if masked)."""
        if action is None:
            return None, 0, 0  # a hold: no new orders
        space = self._act_space
        if isinstance(space, spaces.Discrete):
            try:
                f = float(np.asarray(action).reshape(()))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"action of {agent} must be an int in [0, {space.n}), got "
                                 f"{action!r}") from exc
            if not math.isfinite(f) or f != int(f):
                raise ValueError(f"action of {agent} must be a whole number in [0, {space.n}), "
                                 f"got {action!r}")
            a = int(f)
            if not 0 <= a < space.n:
                return None, 1, 0  # out of range: a no-op, counted
            if a and not self.action_masks(agent)[a]:
                return None, 0, 1  # masked (closed slot or beyond the position limit): a no-op
            return a, 0, 0
        fast = _core.box_action if self.market.compiled_exchange is not None else None
        got = None if fast is None else fast(action, space.shape[0])  # type: ignore[index]
        if got is not None:  # the checks below, compiled (a valid 1-D float array)
            checked, n_clipped = got
            if self.config.action_mode == "offset":
                checked = np.tile(checked, self.window)
            return checked, n_clipped, 0
        arr: NDArray[np.float64] = np.asarray(action, dtype=np.float64).reshape(-1)
        if arr.shape != space.shape:
            raise ValueError(f"action of {agent} must have shape {space.shape}, got "
                             f"{np.shape(action)}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"action of {agent} contains NaN or infinite values: {arr}")
        clipped = int(np.count_nonzero((arr < -1.0) | (arr > 1.0)))
        arr = np.clip(arr, -1.0, 1.0)
        if self.config.action_mode == "offset":
            arr = np.tile(arr, self.window)  # one (target, aggressiveness) for every slot
        return arr, clipped, 0

    def _decode(self, agent: AgentID, action: Any) -> list[Instruction]:
        m = self.market
        if agent in self._spatial:  # two immediate legs across a line (.spatial)
            return spatial_instructions(m.zonal, self.owner_of[agent],  # type: ignore[arg-type]
                                        m.zone_of[self.owner_of[agent]],
                                        m.view.open_slots()[: self.window], action,
                                        self._capacity[agent] / self._lot_kw, self._ref_ticks)
        view = m.view
        owner = self.owner_of[agent]
        slots = view.open_slots()
        steer = self._steer[agent]
        cap_lots = self._capacity[agent] / self._lot_kw
        ex = m.exchange
        me = m.owner_views[owner]
        now = m.now
        out: list[Instruction] = []
        if self._table is None:
            make_take = self.config.pricing == "make_take"
            reach = self.config.target_range * cap_lots
            window = slots[: self.window]
            if not len(window):
                return out
            priority = None
            if self.config.action_mode == "price":
                z = np.zeros(len(window))
                if not m.curve.flat:
                    z = price_scores(m.curve.prices, 0.05 * self.scenario.reference_price)
                    z = z[np.asarray(window) - m.curve.first_slot]
                t = price_targets(float(action[0]), float(action[1]), z)
                action = np.column_stack([t, np.full(len(window), action[2])]).reshape(-1)
                priority = [int(i) for i in np.argsort(-np.abs(z), kind="stable")]
            fc = self._window_forecast(agent, window, now)
            # whole arrays, not numpy scalars slot by slot (the same float operations; rint
            # rounds half to even as round() does)
            n = len(window)
            fast = _core.box_targets if m.compiled_exchange is not None else None
            wanted = None if fast is None else fast(fc, action, self._lot_kw, reach)
            if wanted is None:
                wanted = np.rint(-fc / self._lot_kw + action[0:2 * n:2] * reach
                                 ).astype(np.int64).tolist()
            targets = self._feasible_targets(agent, window, wanted, priority)
            aggressiveness = action[1:2 * n:2].tolist()
            positions = me.positions(window)
            core = self._compiled_decoder()
            if core is not None:  # the loop below, compiled
                got = core.decode(list(window), targets, positions, aggressiveness, make_take,
                                  now, steer.working)
                if got is not None:
                    return got
            for j, (slot, held) in enumerate(zip(window, positions, strict=True)):
                gap = targets[j] - held
                if gap == 0:
                    steer.steer(slot, 0, 0, out)
                    continue
                side = Side.BUY if gap > 0 else Side.SELL
                a = aggressiveness[j]
                if make_take:
                    a = make_take_aggressiveness(a, self.schedule, slot, now, self.dt)
                price = price_for(view, slot, side, a, self._ref_ticks, self._bounds)
                steer.steer(slot, gap, price, out)
            return out
        if action == 0:
            return out
        j, side_i, p, q = self._table[action - 1]
        if j >= len(slots):
            return out  # a masked (closed) slot: a no-op
        slot = slots[int(j)]
        side = Side.BUY if side_i == 0 else Side.SELL
        size = order_lots(self.config.size_levels[int(q)], cap_lots)
        w = steer.live(slot)
        pos = ex.position(owner, slot)
        if self._flex[agent] is not None:
            # the other slots' working orders stay and may fill completely: they keep their
            # room, this order gets what is left
            window = slots[: self.window]
            wanted = [ex.position(owner, k) + (steer.signed_rate(k)[0] if k != slot else 0)
                      for k in window]
            wanted[int(j)] = pos + (size if side is Side.BUY else -size)
            others = [i for i in range(len(window)) if i != int(j)]
            size = abs(self._feasible_targets(agent, window, wanted, [*others, int(j)])[int(j)]
                       - pos)
        a = 2.0 * p / (self.config.price_levels - 1) - 1.0  # level 0 passive ... last deep
        price = price_for(view, slot, side, a, self._ref_ticks, self._bounds)
        if w is not None:
            out.append(Instruction("cancel", w.order_id))  # type: ignore[arg-type]
            del steer.working[slot]
        if size:
            steer.steer(slot, size if side is Side.BUY else -size, price, out)
        return out

    def _compiled_decoder(self) -> Any:
        """The compiled slot loop of box-mode decoding (:class:`rex_env._core.DecoderCore`:
        the same instructions) for this market's exchange, or ``None``: the Python engine, a
        zonal market, or :data:`rex_env._core.COMPILED_AGENTS` off."""
        ex = self.market.compiled_exchange
        if ex is None:
            return None
        core = self._decoder
        if core is None or not core.uses(ex):
            s = self.schedule
            core = self._decoder = _core.DecoderCore(
                ex, s.slot_len, s.gate_lead, self._ref_ticks, self._bounds, URGENCY_TAU_S,
                submit, cancel, modify)
        return core

    def _window_forecast(self, agent: AgentID, window: range, now: int
                         ) -> NDArray[np.float64]:
        """The learner's forecast net rates (kW) of the window's slots now: the last
        observation's when it read the same slots at the same time of this episode (the
        market does not move between an observation and the next step's decoding; a
        forecast depends on the slot and the time only), else read afresh."""
        seen = self._seen_forecast
        m = self.market
        if (seen is not None and seen[0] is m.prosumers and seen[1] == now and seen[2] == window
                and agent in seen[3]):
            return seen[3][agent]
        return m.owner_views[self.owner_of[agent]].forecast_window(window, now)[0]

    def _feasible_targets(self, agent: AgentID, window: Any, wanted: list[int],
                          priority: list[int] | None = None) -> list[int]:
        """The window slots' target positions (lots) clipped by :mod:`.feasible` to what the
        learner's battery or plant can deliver whatever fills (``feasible=False``, or no such
        asset: unchanged). ``priority``: window indices in the order they get room (default:
        delivery order). Records the kW moved in ``infos[agent]["projected_kw"]``."""
        kind = self._flex[agent]
        if kind is None:
            return wanted
        m = self.market
        owner = self.owner_of[agent]
        ex = m.exchange
        s = self.schedule
        spec = self.scenario.spec(owner)
        me = m.owner_views[owner]
        p = m.prosumers[owner]
        now = m.now
        first = m.last_settled + 1 if m.last_settled is not None else s.first_slot
        w0 = int(window[0])
        undelivered = range(first, int(window[-1]) + 1)
        current = me.positions(undelivered)
        target = list(current)
        target[w0 - first:] = wanted
        if spec.has_uncontrollable:
            pro = me.prosumer
            got = (_core.forecast_means(pro.forecast_arrays(), undelivered, now)
                   if m.compiled_exchange is not None and type(pro) is Prosumer else None)
            fc = got if got is not None else [  # the reference: numpy's gather
                float(x) for x in me.forecast_window(undelivered, now)[0]]
        else:
            fc = [0.0] * len(undelivered)
        off = w0 - first  # the window's first index among the undelivered slots
        order = None if priority is None else [*range(off), *(off + i for i in priority)]
        if kind == "battery":
            assert spec.battery is not None
            fast = _core.battery_targets if m.compiled_exchange is not None else None
            got = None if fast is None else fast(spec.battery, p.soc_kwh, s.slot_len,
                                                 self._lot_kw, fc, current, target, order,
                                                 Battery)
            done = got if got is not None else battery_targets(
                spec.battery, p.soc_kwh, s.slot_len, self._lot_kw, fc, current, target, order)
        else:
            assert spec.plant is not None
            after = undelivered.stop
            next_kw = None
            if after < s.end_slot:
                u = me.forecast(after, now)[0] if spec.has_uncontrollable else 0.0
                next_kw = -self._lot_kw * ex.position(owner, after) - u
            done = plant_targets(spec.plant, p.plant_kw, self._lot_kw, fc, current, target,
                                 next_kw, order)
        done = done[w0 - first:]
        moved: Iterator[tuple[int, int]] = zip(wanted, done, strict=True)
        if self._table is not None and priority is not None:  # discrete: the new order only
            moved = iter([(wanted[priority[-1]], done[priority[-1]])])
        self._projected[agent] += self._lot_kw * sum(abs(a - b) for a, b in moved)
        return done

    def action_masks(self, agent: AgentID | None = None) -> NDArray[np.int8]:
        """Valid discrete actions of an agent (1 = valid), as :meth:`step` enforces them; for
        MaskablePPO / DQN masking (``action_mask_in_obs=True`` also puts it in the
        observation)."""
        if self._table is None:
            raise ValueError("action_masks() needs action_mode='discrete'")
        agent = agent if agent is not None else self.possible_agents[0]
        if agent not in self.owner_of:
            raise ValueError(f"unknown agent id {agent!r}; agents: {self.possible_agents}")
        owner = self.owner_of[agent]
        slots = self.market.view.open_slots()[: self.window]
        ex = self.market.exchange
        cap_lots = self._capacity[agent] / self._lot_kw
        pos = np.array([ex.position(owner, s) / cap_lots for s in slots])
        sizes = tuple(order_lots(f, cap_lots) / cap_lots for f in self.config.size_levels)
        return discrete_mask(len(slots), pos, self._table, sizes)

    # -- observations ---------------------------------------------------------------------
    def _observe(self) -> dict[AgentID, Any]:
        """The observations of every live agent (the vectors are kept for :meth:`state`)."""
        vectors = self._vectors = self._observe_vectors()
        if not self.config.action_mask_in_obs:
            return {a: v.copy() for a, v in vectors.items()}
        return {a: {"observation": v.copy(), "action_mask": self.action_masks(a)}
                for a, v in vectors.items()}

    def _observe_vectors(self) -> dict[AgentID, NDArray[np.float32]]:
        m = self.market
        s = self.schedule
        now = m.now
        slots = m.view.open_slots()[: self.window]
        n = len(slots)
        sl, gl, span = s.slot_len, s.gate_lead, s.open_lead - s.gate_lead
        gate = np.array([(k * sl - gl - now) / span for k in slots])  # Schedule.close_time
        curve = m.curve
        wholesale = None if curve.flat else curve.window(slots) / float(self.grid.tick_q)
        local = (s.local_seconds(s.first_slot) + now - s.first_slot * s.slot_len) / 86400.0
        head = np.array([math.sin(2 * math.pi * local), math.cos(2 * math.pi * local),
                         min(1.0, now / max(1, s.last_close)), n / self.window], np.float32)
        # the public slot blocks of each zone (one zone, ``None``, without zones); compiled
        # where the C engine runs (:func:`rex_env._core.public_block`, the same float32s)
        zx = m.zonal
        fast = _core.public_block if m.compiled_exchange is not None else None
        pubs: dict[str | None, NDArray[np.float32]] = {}
        extra: dict[str | None, NDArray[np.float32]] = {}
        for z in (self.scenario.zones if zx is not None else (None,)):
            lob = self._lob.get(z)
            lob = self._lob[z] = (m.exchange.lob3d(slots, self.k, out=lob) if zx is None
                                  else zx.lob3d(slots, self.k, zone=z, out=lob))
            pub = self._public.get(z)
            if pub is None:
                pub = self._public[z] = PublicBlock(self.window, self.k)
            if fast is not None:
                fast(pub.values, lob, gate, self._ref_ticks, self._lot_kw, DEPTH_SCALE,
                     None if wholesale is None else np.ascontiguousarray(wholesale, np.float64))
            else:
                codes = np.where(lob.phase == 2, 1.0, np.where(lob.phase == 1, 0.5, 0.0))
                pub.fill(lob, codes, gate, self._ref_ticks, self._lot_kw, wholesale)
            pubs[z] = pub.values
            if z is None or self._zonal is None:
                extra[z] = np.zeros(0, np.float32)  # no zones: today's layout
            else:
                self._zonal.fill(zx, z, slots, self._ref_ticks)  # type: ignore[arg-type]
                extra[z] = self._zonal.values.reshape(-1).copy()
        self._public_parts = (head, pubs, extra)  # state() assembles them when asked
        agents = self.agents
        if not agents:
            return {}
        # every learner's vector is a row of one matrix: the private slot features are
        # written for all learners at once (the same float operations per element as one
        # learner at a time, so the same values)
        pub0 = next(iter(self._public.values()))
        npub, nblock, nextra = pub0.n_public, pub0.values.size, len(next(iter(extra.values())))
        owners = [self.owner_of[a] for a in agents]
        zones = [m.zone_of[o] for o in owners] if zx is not None else [None] * len(agents)
        caps = [self._capacity[a] for a in agents]
        mat = np.empty((len(agents), 4 + nblock + nextra + len(PRIVATE_FEATURES)), np.float32)
        mat[:, :4] = head
        blocks = mat[:, 4:4 + nblock].reshape(len(agents), *pub0.values.shape)
        if zx is None:
            blocks[:] = pub0.values
        else:
            for i, z in enumerate(zones):
                blocks[i] = pubs[z]
        if n:
            pos, wr, wp, fc, sd = self._private_slots(agents, owners, slots, now)
            self._seen_forecast = (m.prosumers, now, slots, dict(zip(agents, fc, strict=True)))
            cap = np.array(caps)[:, None]
            blocks[:, :n, npub] = pos / cap
            blocks[:, :n, npub + 1] = wr / cap
            blocks[:, :n, npub + 2] = wp
            blocks[:, :n, npub + 3] = fc / cap
            blocks[:, :n, npub + 4] = sd / cap
        tail = 4 + nblock
        if nextra:
            for i, z in enumerate(zones):
                mat[i, tail:tail + nextra] = extra[z]
        # the private state: three figures (float64, rounded once to float32 on the store,
        # as np.array(..., np.float32) rounds them) and the asset flags
        mat[:, tail + nextra:tail + nextra + 3] = [
            self._private(a, c) for a, c in zip(agents, caps, strict=True)]
        mat[:, tail + nextra + 3:] = [self._flags[a] for a in agents]
        np.clip(mat, -LIMIT, LIMIT, out=mat)
        return dict(zip(agents, mat, strict=True))

    def _public_state(self) -> list[NDArray[np.float32]]:
        """Every zone's public features once, from the last observation (for :meth:`state`)."""
        assert self._public_parts is not None, "state() needs a reset() first"
        head, pubs, extra = self._public_parts
        priv_zero = np.zeros(len(PRIVATE_FEATURES), np.float32)
        return [np.clip(np.concatenate([head, pubs[z].reshape(-1), extra[z], priv_zero]
                                       )[self._public_idx], -LIMIT, LIMIT) for z in pubs]

    def _private_slots(self, agents: list[AgentID], owners: list[str], slots: range, now: int
                       ) -> tuple[NDArray[np.float64], ...]:
        """Per learner (rows) and window slot (columns): position and working order (kW),
        the working order's price feature, forecast mean and standard deviation (kW).
        Compiled where the C engine runs (:func:`rex_env._core.private_slots`, the same
        numbers), else (and wherever it hands back) this loop, the reference."""
        m = self.market
        lot_kw, ref = self._lot_kw, self._ref_ticks
        views = [m.owner_views[o] for o in owners]
        ex = m.compiled_exchange
        if ex is not None:
            out = np.empty((5, len(agents), len(slots)))
            tables = [None if v.prosumer is None else
                      v.prosumer.forecast_arrays() if type(v.prosumer) is Prosumer else False
                      for v in views]
            if False not in tables and _core.private_slots(
                    ex, owners, [self._steer[a].working for a in agents], tables, slots, now,
                    lot_kw, ref, *out):
                return tuple(out)
        pos = np.array([v.positions(slots) for v in views]) * lot_kw
        wr = np.zeros((len(agents), len(slots)))
        wp = np.zeros((len(agents), len(slots)))
        fc = np.empty((len(agents), len(slots)))
        sd = np.empty((len(agents), len(slots)))
        for i, a in enumerate(agents):
            signed_rate = self._steer[a].signed_rate
            for j, k in enumerate(slots):
                r, p = signed_rate(k)
                if r:
                    wr[i, j] = r * lot_kw
                    wp[i, j] = (p - ref) / ref  # type: ignore[operator]
            fc[i], sd[i] = views[i].forecast_window(slots, now)
        return pos, wr, wp, fc, sd

    def _private(self, agent: AgentID, cap: float) -> tuple[float, float, float]:
        """The private state's figures: state of charge, plant output (fractions) and the
        last settled imbalance (fraction of capacity); the asset flags follow them."""
        m = self.market
        owner = self.owner_of[agent]
        p = m.prosumers.get(owner)
        spec = self.scenario.spec(owner)
        soc = 0.0
        plant = 0.0
        if p is not None and spec.battery is not None:
            soc = p.soc_kwh / spec.battery.energy_kwh
        if p is not None and spec.plant is not None:
            plant = p.plant_kw / spec.plant.capacity_kw
        last_imb = 0.0
        if m.last_settled is not None:
            last = m.settlements[m.last_settled].get(owner)
            if last is not None:
                last_imb = last.imbalance_kwh / (cap * self.schedule.slot_len / 3600)
        return soc, plant, last_imb

    # -- rendering ------------------------------------------------------------------------
    def render(self) -> Any:
        """``ansi``: text; ``rgb_array``: an HxWx3 uint8 picture; ``human``: draw, return None.

        Rendering reads the market and changes nothing.
        """
        from . import render as R

        if self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            return R.ansi(self.market, self.owner_of, self.k)
        img = R.rgb(self.market)
        if self.render_mode == "rgb_array":
            return img
        R.show(img)
        return None

    def close(self) -> None:
        from . import render as R

        R.close()
