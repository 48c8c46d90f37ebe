"""``benchmarks/bench_cpu.py`` (the README's before/after CPU-time figures) runs and reports
what it says, on this tree and on another checkout given by ``--tree``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_cpu_reports_days_and_env_steps(tmp_path: Path) -> None:
    got = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_cpu.py"),
                          "--tree", str(ROOT), "--days", "1", "--steps", "3"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path, check=True)
    out = json.loads(got.stdout.strip().splitlines()[-1])
    assert out["tree"] == str(ROOT)
    assert out["engine"] in ("c", "python")
    assert 0 < out["community_day_cpu_s"] < out["town_day_cpu_s"]
    assert out["env_steps_per_cpu_s"] > 0
