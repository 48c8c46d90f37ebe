"""Issue 15: every hostile input finishes in < 2 s and < 200 MB, and is refused or survived.

Each case of :mod:`tests.fuzz.hostile_cases` runs in its own subprocess (so the peak resident
memory it measures is its own), under a 3 GB address-space cap so that a regression fails fast
instead of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from .hostile_cases import CASES

ROOT = Path(__file__).resolve().parents[2]

#: what each case must end in (a substring of its outcome)
EXPECTED = {
    "api_block_of_a_billion_slots": "bad_field, books 0",
    "api_rejected_block_over_1e8_slots": "bad_field, books 1",
    "api_killed_blocks_leave_no_books": "books 0",
    "api_wrong_types": ",".join(["bad_field"] * 10),
    "api_unfillable_fok_against_40k_own_orders": "killed 40000",
    "api_40k_priority_losing_modifies_in_one_level": "modified 40000",
    "api_2000_call_phases_over_a_40k_order_book": "auctions 2000",
    "replay_46_byte_row_with_a_billion_slot_block": "exit 0: 1 rows, 0 trades, 1 rejected",
    "replay_5000_digit_time_and_slot": "exit 0: 4 rows, 1 trades, 2 rejected",
    "replay_field_over_131072_characters": "1 trades, 1 rejected",
    "replay_line_of_50_mb": "exit 0: 3 rows, 1 trades, 1 rejected",
    "replay_invalid_utf8": "exit 0: 3 rows, 1 trades, 1 rejected",
    "replay_bom": "exit 0: 2 rows, 1 trades, 0 rejected",
    "replay_5000_digit_rate": "exit 0: 3 rows, 1 trades, 1 rejected",
    "replay_unwritable_out": "exit 2",
    "replay_row_longer_than_the_header": "exit 0: 3 rows, 1 trades, 1 rejected",
    "replay_forged_report_line": "exit 0: 3 rows, 1 trades, 1 rejected",
    "replay_non_ascii_digits": "exit 0: 3 rows, 1 trades, 1 rejected",
    "scenario_count_1e9": "refused: ",
    "scenario_count_10000_loads_linearly": "loaded 10000 prosumers",
    "scenario_json_nested_100000_deep": "JSON nests deeper than 32 levels",
    "scenario_n_slots_1e9": "schedule.n_slots: must be in [1, 35136]",
    "scenario_open_lead_1e9": "schedule.open_lead: must be in [1, 604800]",
    "scenario_tariff_retail_1e308": "tariff.retail: must be in [0, 1e+06]",
    "scenario_pv_peak_kw_1e300": "peak_kw must be a finite number > 0 and <= 1e+09",
    "scenario_file_of_100_mb": "larger than 4194304 bytes",
    "env_with_a_python_scenario_of_1e9_slots": "schedule.n_slots: must be in [1, 35136]",
    "env_with_a_billion_price_levels": "price_levels must be an int >= 2 and <= 64",
}


def test_every_case_has_an_expectation():
    assert set(EXPECTED) == set(CASES)


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_hostile_input_costs_under_2_s_and_200_mb(name: str, tmp_path: Path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "tests.fuzz.hostile_cases", name], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, preexec_fn=_cap,
                          check=False, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert EXPECTED[name] in result["outcome"], result
    assert result["seconds"] < 2.0, result
    assert result["peak_mb"] < 200, result
    # The cases write files of up to 100 MB: a run that left them behind filled CI's disk.
    assert list(tmp_path.iterdir()) == [], "the hostile cases left files behind"
