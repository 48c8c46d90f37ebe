"""The rolling slot schedule (SPEC §1, §3): lifecycle times, open slots, validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rex_env.spec.schedule import SlotSchedule


def brute_open_at(s: SlotSchedule, t: int) -> list[int]:
    """The definition: a traded slot is open from its opening (inclusive) to its gate."""
    return [k for k in s.slots if s.open_time(k) <= t < s.close_time(k)]


def test_default_is_one_day_of_quarter_hours_with_a_six_hour_window() -> None:
    s = SlotSchedule()
    assert (s.slot_len, s.n_slots, s.open_lead, s.gate_lead, s.call_len) == (
        900, 96, 21600, 900, 300)
    assert s.first_slot == 24  # ceil(6 h / 15 min)
    assert s.slots == range(24, 120) and s.end_slot == 120
    assert s.window == 23  # (6 h - 15 min) / 15 min
    assert s.horizon == 120 * 900  # the last slot delivered and settled
    assert s.last_close == 119 * 900 - 900


def test_lifecycle_times_of_one_slot() -> None:
    s = SlotSchedule()
    k = 30
    assert s.delivery_start(k) == 27000  # [k*slot_len, (k+1)*slot_len)
    assert s.open_time(k) == 27000 - 21600
    assert s.uncross_time(k) == s.open_time(k) + 300
    assert s.close_time(k) == 27000 - 900
    assert s.settle_time(k) == 27900
    assert s.open_time(k) < s.uncross_time(k) < s.close_time(k) < s.delivery_start(k) \
        < s.settle_time(k)


def test_first_slot_is_the_first_that_gets_its_whole_window() -> None:
    for slot_len, open_lead in ((900, 21600), (900, 7200), (600, 1000), (900, 1000)):
        s = SlotSchedule(slot_len=slot_len, open_lead=open_lead, gate_lead=100, call_len=60)
        assert s.open_time(s.first_slot) >= 0
        assert s.open_time(s.first_slot - 1) < 0
    s = SlotSchedule(slot_len=600, open_lead=1000, gate_lead=100, call_len=0, n_slots=3)
    assert s.first_slot == 2 and s.open_time(2) == 200
    assert list(s.open_at(0)) == [] and list(s.open_at(200)) == [2]


def test_open_at_boundaries() -> None:
    s = SlotSchedule()
    k = 40
    assert k not in s.open_at(s.open_time(k) - 1)
    assert k in s.open_at(s.open_time(k))  # opens at its open time (call phase)
    assert k in s.open_at(s.close_time(k) - 1)
    assert k not in s.open_at(s.close_time(k))  # closed at the gate
    assert list(s.open_at(0)) == [24]
    assert list(s.open_at(s.last_close)) == []
    assert list(s.open_at(s.last_close - 1)) == [s.end_slot - 1]
    assert list(s.open_at(-5)) == []


def test_open_at_matches_the_definition_over_a_whole_day() -> None:
    s = SlotSchedule()
    longest = 0
    for t in range(-900, s.horizon + 900, 150):
        got = s.open_at(t)
        assert list(got) == brute_open_at(s, t), t
        longest = max(longest, len(got))
    assert longest == s.window


@given(
    slot_len=st.integers(1, 2000),
    n_slots=st.integers(1, 40),
    gate_lead=st.integers(0, 3000),
    call_len=st.integers(0, 1000),
    extra=st.integers(1, 20000),
    data=st.data(),
)
def test_open_at_matches_the_definition_for_any_schedule(
    slot_len: int, n_slots: int, gate_lead: int, call_len: int, extra: int, data: st.DataObject
) -> None:
    s = SlotSchedule(slot_len=slot_len, n_slots=n_slots, open_lead=gate_lead + call_len + extra,
                     gate_lead=gate_lead, call_len=call_len)
    assert s.open_time(s.first_slot) >= 0
    for t in data.draw(st.lists(st.integers(-slot_len, s.horizon + slot_len), min_size=1,
                                max_size=20)):
        got = s.open_at(t)
        assert list(got) == brute_open_at(s, t)
        assert len(got) <= s.window
    for k in s.slots:  # every slot trades: a call phase and some continuous trading
        assert 0 <= s.open_time(k) <= s.uncross_time(k) < s.close_time(k) <= s.delivery_start(k)
        assert s.settle_time(k) <= s.horizon


def test_local_time_starts_at_start_hour() -> None:
    s = SlotSchedule(start_hour=6.5)
    assert s.local_seconds(s.first_slot) == 6 * 3600 + 1800
    assert s.local_seconds(s.first_slot + 4) == 6 * 3600 + 1800 + 3600


def test_schedule_is_frozen() -> None:
    s = SlotSchedule()
    with pytest.raises(AttributeError):
        s.slot_len = 60  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(slot_len=0), r"slot_len must be > 0 seconds, got 0"),
        (dict(slot_len=900.0), r"slot_len must be an int, got 900\.0"),
        (dict(slot_len=True), r"slot_len must be an int"),
        (dict(n_slots=0), r"n_slots must be >= 1, got 0"),
        (dict(n_slots="96"), r"n_slots must be an int"),
        (dict(gate_lead=-1), r"gate_lead must be >= 0 seconds, got -1"),
        (dict(call_len=-5), r"call_len must be >= 0 seconds, got -5"),
        (dict(open_lead=1200, gate_lead=900, call_len=300),
         r"open_lead \(1200 s\) must exceed gate_lead \+ call_len \(900 \+ 300 s\)"),
        (dict(open_lead=3600.5), r"open_lead must be an int"),
        (dict(day_of_year=0), r"day_of_year must be in 1\.\.366, got 0"),
        (dict(day_of_year=367), r"day_of_year must be in 1\.\.366"),
        (dict(start_hour=24), r"start_hour must be a number of hours in \[0, 24\), got 24"),
        (dict(start_hour=-1.0), r"start_hour must be .* \[0, 24\)"),
        (dict(start_hour=float("nan")), r"start_hour must be .* \[0, 24\)"),
        (dict(start_hour="6"), r"start_hour must be .* got '6'"),
        (dict(start_hour=None), r"start_hour must be .* got None"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else "",
)
def test_invalid_schedules_fail_with_what_is_wrong_and_allowed(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SlotSchedule(**kwargs)  # type: ignore[arg-type]


def test_first_slot_is_not_an_argument() -> None:
    with pytest.raises(TypeError):
        SlotSchedule(first_slot=3)  # type: ignore[call-arg]
