"""Scenario presets and user scenarios (who is in the market, their assets, the rules)."""

from __future__ import annotations

from .base import AGENT_KINDS, Scenario, Tariff
from .presets import DEFAULT, PRESETS


def make_scenario(name: str | Scenario = DEFAULT) -> Scenario:
    """A preset by name (or a scenario passed through unchanged).

    Raises:
        ValueError: unknown name; the message lists the presets.
    """
    if isinstance(name, Scenario):
        return name
    try:
        return PRESETS[name]()
    except KeyError:
        raise ValueError(
            f"unknown scenario {name!r}; presets: {', '.join(sorted(PRESETS))}"
        ) from None


__all__ = ["AGENT_KINDS", "DEFAULT", "PRESETS", "Scenario", "Tariff", "make_scenario"]
