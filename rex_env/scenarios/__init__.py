"""Scenario presets and user scenarios (who is in the market, their assets, the rules).

* presets by name: ``toy``, ``community`` (the default), ``town`` (:mod:`.presets`);
* in code: :class:`Scenario` with :class:`~rex_env.sim.prosumer.ProsumerSpec`\\ s;
* from a JSON file: :func:`load_scenario` (format in :mod:`.loader`); :func:`save_scenario`
  writes one, e.g. a preset to start from.

The Gode–Sunder classroom market is not a scenario of prosumers; it has its own runner,
:mod:`rex_env.classroom` (``python -m rex_env.simulate classroom``).
"""

from __future__ import annotations

from pathlib import Path

from ..spec.kinds import AGENT_KINDS
from ..spec.scenario import Scenario, Tariff
from .loader import load_scenario, save_scenario, scenario_from_dict, scenario_to_dict
from .presets import DEFAULT, PRESETS


def make_scenario(name: str | Path | Scenario = DEFAULT) -> Scenario:
    """A preset by name, a scenario file by path (``*.json``), or a scenario unchanged.

    Raises:
        ValueError: unknown name (the message lists the presets), or an invalid file (the
            message names the field and what is allowed).
    """
    if isinstance(name, Scenario):
        return name
    if isinstance(name, str) and name in PRESETS:
        return PRESETS[name]()
    if isinstance(name, Path) or (isinstance(name, str) and (
            name.endswith(".json") or Path(name).is_file())):
        return load_scenario(name)
    raise ValueError(f"unknown scenario {name!r}; presets: {', '.join(sorted(PRESETS))}, "
                     "or the path of a scenario .json file")


__all__ = ["AGENT_KINDS", "DEFAULT", "PRESETS", "Scenario", "Tariff", "load_scenario",
           "make_scenario", "save_scenario", "scenario_from_dict", "scenario_to_dict"]
