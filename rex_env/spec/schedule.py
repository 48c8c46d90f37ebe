"""The rolling slot schedule (SPEC §1, §3): when each delivery slot opens, uncrosses, closes,
delivers and settles.

Slot ``k`` delivers over ``[k*slot_len, (k+1)*slot_len)`` seconds since episode start
(SPEC §1). An episode trades the ``n_slots`` slots ``first_slot .. first_slot+n_slots-1``, where
``first_slot = ceil(open_lead / slot_len)`` by default, so that even the first slot opens at
``t >= 0`` and gets its full trading window: the market ramps up over the first ``open_lead``
and every traded slot is delivered and settled inside the episode (nothing is left unsettled).
Slots below ``first_slot`` are closed from the start. Local clock time (for the sun and load
profiles) is ``(k - first_slot) * slot_len`` plus ``start_hour``: ``first_slot`` delivers at
``start_hour`` (default midnight).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SlotSchedule:
    """Lifecycle timing of the delivery slots; all times are integer seconds.

    Args:
        slot_len: length of a delivery slot (default 900 s, the EU settlement period).
        n_slots: number of delivery slots traded in an episode (default 96: one day).
        open_lead: a slot opens this long before its delivery starts (default 6 h).
        gate_lead: gate closure this long before delivery (default 15 min; real venues 5-60).
        call_len: length of the opening call phase (default 5 min; 0 = uncross at opening).
        start_hour: local hour at which ``first_slot`` delivers (for sun and load profiles).
        day_of_year: day of year of the first delivered slot (1-366).
    """

    slot_len: int = 900
    n_slots: int = 96
    open_lead: int = 6 * 3600
    gate_lead: int = 900
    call_len: int = 300
    start_hour: float = 0.0
    day_of_year: int = 172
    first_slot: int = field(init=False)

    def __post_init__(self) -> None:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise ValueError(msg)

        for name in ("slot_len", "n_slots", "open_lead", "gate_lead", "call_len", "day_of_year"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool),
                 f"{name} must be an int, got {v!r}")
        need(self.slot_len > 0, f"slot_len must be > 0 seconds, got {self.slot_len}")
        need(self.n_slots > 0, f"n_slots must be >= 1, got {self.n_slots}")
        need(self.gate_lead >= 0, f"gate_lead must be >= 0 seconds, got {self.gate_lead}")
        need(self.call_len >= 0, f"call_len must be >= 0 seconds, got {self.call_len}")
        need(
            self.open_lead > self.gate_lead + self.call_len,
            f"open_lead ({self.open_lead} s) must exceed gate_lead + call_len "
            f"({self.gate_lead} + {self.call_len} s) so that every slot can trade",
        )
        need(1 <= self.day_of_year <= 366, f"day_of_year must be in 1..366, got "
             f"{self.day_of_year}")
        h = self.start_hour
        need(isinstance(h, (int, float)) and not isinstance(h, bool) and 0 <= h < 24,
             f"start_hour must be a number of hours in [0, 24), got {h!r}")
        object.__setattr__(self, "first_slot", -(-self.open_lead // self.slot_len))

    # -- per slot -------------------------------------------------------------------------
    @property
    def slots(self) -> range:
        """The traded slots of the episode."""
        return range(self.first_slot, self.first_slot + self.n_slots)

    @property
    def end_slot(self) -> int:
        """One past the last traded slot (what the exchange needs as ``n_slots``)."""
        return self.first_slot + self.n_slots

    def delivery_start(self, k: int) -> int:
        return k * self.slot_len

    def open_time(self, k: int) -> int:
        return k * self.slot_len - self.open_lead

    def uncross_time(self, k: int) -> int:
        return self.open_time(k) + self.call_len

    def close_time(self, k: int) -> int:
        return k * self.slot_len - self.gate_lead

    def settle_time(self, k: int) -> int:
        """End of delivery: the slot's actuals are known and it is settled."""
        return (k + 1) * self.slot_len

    @property
    def horizon(self) -> int:
        """Episode end: the last traded slot has been delivered and settled."""
        return self.settle_time(self.end_slot - 1)

    @property
    def last_close(self) -> int:
        """Gate closure of the last traded slot: no trading after this."""
        return self.close_time(self.end_slot - 1)

    @property
    def window(self) -> int:
        """The most slots that are open at once (the LOB-3D window of observations)."""
        return -(-(self.open_lead - self.gate_lead) // self.slot_len)

    def open_at(self, t: int) -> range:
        """Traded slots whose book is open (call or continuous) at time ``t``."""
        # plain comparisons, no property: every agent asks at every wake-up
        first, n = self.first_slot, self.n_slots
        lo = (t + self.gate_lead) // self.slot_len + 1
        if lo < first:
            lo = first
        hi = (t + self.open_lead) // self.slot_len + 1
        if hi > first + n:
            hi = first + n
        return range(lo, hi if hi > lo else lo)

    def local_seconds(self, k: int) -> int:
        """Local clock time (seconds since local midnight of day 0) at slot ``k``'s start."""
        return (k - self.first_slot) * self.slot_len + int(self.start_hour * 3600)
