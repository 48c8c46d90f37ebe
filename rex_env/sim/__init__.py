"""The market simulation: event kernel, slot schedule, prosumers, settlement, metrics."""

from .agent_api import Agent, Instruction, MarketView, OwnerView, cancel, modify, submit
from .kernel import Kernel, Prio
from .schedule import SlotSchedule

__all__ = [
    "Agent",
    "Instruction",
    "Kernel",
    "MarketView",
    "OwnerView",
    "Prio",
    "SlotSchedule",
    "cancel",
    "modify",
    "submit",
]
