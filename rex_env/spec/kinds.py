"""The one list of each kind of name the package accepts (STYLE practice 14).

The scenario loader, the agent factory, the environment's options and the command-line
scripts all import these; nothing else spells them out.
"""

from __future__ import annotations

from .settlement import MODES as SETTLEMENT_MODES

HAND_CODED: tuple[str, ...] = ("intermittent", "plant", "storage", "zic", "ziu", "random",
                               "grid", "newsvendor", "rolling_intrinsic", "spatial")
"""Hand-coded agents that can trade for a prosumer (:func:`agents.make_agent`)."""

AGENT_KINDS: tuple[str, ...] = (*HAND_CODED, "learner", "passive")
"""What may trade for a prosumer: a hand-coded agent, an RL learner, or nobody."""

CONTROLLERS: tuple[str, ...] = tuple(k for k in HAND_CODED if k != "grid")
"""Hand-coded kinds that can drive a learner's prosumer instead of its policy (the grid
agent needs the external grid participant, which is never a learner; ``spatial`` needs a
scenario with zones and a prosumer without assets)."""

NOISE_TRADERS: tuple[str, ...] = ("zic", "ziu")
"""Gode and Sunder's zero-intelligence traders: constrained (``zic``) or not (``ziu``)."""

ACTION_MODES: tuple[str, ...] = ("box", "offset", "price", "tune", "discrete")
"""How the environment decodes a learner's action (:mod:`rex_env.envs.actions`)."""

TUNE_BASES: tuple[str, ...] = ("prototype", "baseline")
"""What ``action_mode="tune"`` tunes: the role's prototype or its strong baseline."""

__all__ = ["ACTION_MODES", "AGENT_KINDS", "CONTROLLERS", "HAND_CODED", "NOISE_TRADERS",
           "SETTLEMENT_MODES", "TUNE_BASES"]
