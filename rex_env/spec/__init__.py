"""Pure data, no behaviour: what a scenario is made of and the lists of accepted names.

Below the simulation that consumes it (``tests/test_layers.py``): it imports only the exchange
(tick and lot grid) and the physics (asset models).
"""

from .kinds import (
    ACTION_MODES,
    AGENT_KINDS,
    CONTROLLERS,
    HAND_CODED,
    NOISE_TRADERS,
    SETTLEMENT_MODES,
    TUNE_BASES,
)
from .prosumer import ProsumerSpec
from .scenario import Location, Scenario, Tariff
from .schedule import SlotSchedule
from .settlement import SettlementConfig
from .zones import Line

__all__ = ["ACTION_MODES", "AGENT_KINDS", "CONTROLLERS", "HAND_CODED", "NOISE_TRADERS",
           "SETTLEMENT_MODES", "Line", "Location", "ProsumerSpec", "Scenario", "SettlementConfig",
           "SlotSchedule", "TUNE_BASES", "Tariff"]
