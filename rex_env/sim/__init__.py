"""The market simulation: event kernel, slot schedule, prosumers, settlement, metrics."""

from ..spec.schedule import SlotSchedule
from .agent_api import Agent, Instruction, MarketView, OwnerView, cancel, modify, submit
from .kernel import Kernel, Prio

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
