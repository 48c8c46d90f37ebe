"""Full-simulation throughput: one simulated day of a preset with its hand-coded population.

Usage::

    python benchmarks/bench_sim.py                        # town and community, R=3
    python benchmarks/bench_sim.py --scenarios town --repeats 5
    python benchmarks/bench_sim.py --repeats 1 --profile  # + where the time goes (cProfile)
    python benchmarks/bench_sim.py --json out/bench_sim.json

What is measured. For each scenario a :class:`~rex_env.sim.market.Market` is built with
:func:`agents.build_population` and ``reset(seed)`` (physics sampled, events scheduled; timed
separately as ``reset s``), then ``run()`` plays the whole day: every slot opens, trades,
closes, is delivered and settled. ``time.perf_counter`` brackets ``run()``; the cyclic garbage
collector stays *on* (it is part of a real run).

* **events** = kernel events (slot lifecycle, settlement, market-quality samples, agent
  wake-ups: ``kernel.processed``) **+ exchange messages** (every instruction an agent sent to
  the exchange: submissions, cancels and modifies, rejected ones included). ``events/s`` is
  that sum over the ``run()`` wall time: the issue's figure of merit.
* ``messages/s`` counts the exchange messages alone.
* ``cpu s`` / ``ev/cpu-s``: the same run measured in process CPU time, which is the better
  single-core figure when other work shares the machine (wall time then stretches).

Messages are counted by a :class:`Market` subclass whose ``execute`` adds the number of
instructions it handled (one attribute update per call, < 0.5 % of the run).

Repetitions are interleaved (scenario A, B, A, B, ...) so that machine noise hits every
scenario; the table shows medians. ``--profile`` runs each scenario once more under cProfile
and prints (1) self time grouped by component — builtins and numpy calls are charged to the
component of their caller, in proportion to the time each caller spent in them — and (2) the
top functions by self time. Profiling roughly doubles the run time; the shares are what
matter. A bare-kernel line (150 self-rescheduling no-op handlers: the queue discipline of agent
wake-ups, with schedule, tie-break draw, pop and call timed) shows the kernel's own ceiling.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: agents/ lives at the root
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from agents import build_population  # noqa: E402
from rex_env.exchange import Report  # noqa: E402
from rex_env.scenarios import PRESETS, make_scenario  # noqa: E402
from rex_env.sim.agent_api import Instruction  # noqa: E402
from rex_env.sim.kernel import Kernel, Prio  # noqa: E402
from rex_env.sim.market import Market  # noqa: E402


class CountingMarket(Market):
    """A :class:`Market` that counts the instructions it sends to the exchange."""

    messages = 0

    def reset(self, seed: int | None | np.random.Generator = None) -> None:
        self.messages = 0
        super().reset(seed)

    def execute(self, owner: str, instructions: Iterable[Instruction]
                ) -> list[tuple[Instruction, Report]]:
        out = super().execute(owner, instructions)
        self.messages += len(out)
        return out


def one_day(name: str, seed: int, profile: cProfile.Profile | None = None) -> dict[str, Any]:
    """Build, reset and run one day; return counts and timings."""
    sc = make_scenario(name)
    t0 = time.perf_counter()
    m = CountingMarket(sc, build_population(sc))
    m.reset(seed)
    t1 = time.perf_counter()
    if profile is not None:
        profile.enable()
    c1 = time.process_time()
    m.run()
    c2 = time.process_time()
    if profile is not None:
        profile.disable()
    t2 = time.perf_counter()
    assert m.done and len(m.settlements) == sc.schedule.n_slots
    wall = t2 - t1
    events = m.kernel.processed + m.messages
    return {
        "scenario": name,
        "owners": len(sc.prosumers),
        "agents": len(m.agents),
        "slots": sc.schedule.n_slots,
        "kernel_events": m.kernel.processed,
        "messages": m.messages,
        "accepted_orders": len(m.exchange.orders),
        "trades": len(m.trades),
        "events": events,
        "reset_s": t1 - t0,
        "run_s": wall,
        "cpu_s": c2 - c1,
        "events_per_s": events / wall,
        "events_per_cpu_s": events / (c2 - c1),
        "messages_per_s": m.messages / wall,
    }


def bare_kernel(n: int = 200_000, agents: int = 150) -> float:
    """Events/s of the kernel alone: ``agents`` self-rescheduling no-op handlers (the queue
    discipline of agent wake-ups), ``n`` events, schedule + pop + call timed."""
    rng = np.random.default_rng(0)
    k = Kernel(rng.random)
    periods = [int(p) for p in rng.integers(60, 300, agents)]
    left = [n]

    def wake(t: int, i: int) -> None:
        left[0] -= 1
        if left[0] > agents:
            k.schedule(t + periods[i], Prio.AGENT, wake, i)

    t0 = time.perf_counter()
    for i in range(agents):
        k.schedule(i % 60, Prio.AGENT, wake, i)
    done = k.run()
    return done / (time.perf_counter() - t0)


# -- profile ----------------------------------------------------------------------------------
COMPONENTS = (
    ("agents", ("/agents/",)),
    ("agent views", ("rex_env/sim/agent_api.py",)),
    ("exchange", ("rex_env/exchange/",)),
    ("market glue", ("rex_env/sim/market.py",)),
    ("kernel", ("rex_env/sim/kernel.py",)),
    ("physics", ("rex_env/sim/prosumer.py", "rex_env/physics/")),
    ("settlement", ("rex_env/sim/settlement.py",)),
    ("metrics", ("rex_env/sim/metrics.py",)),
)


def component(func: tuple[str, int, str]) -> str | None:
    """The component of a profiled function; None for builtins / library code."""
    path = func[0].replace("\\", "/")
    for name, keys in COMPONENTS:
        if any(k in path for k in keys):
            return name
    return None


def breakdown(stats: pstats.Stats) -> tuple[dict[str, float], float]:
    """Self time per component, library time charged to the callers' components."""
    raw = stats.stats  # type: ignore[attr-defined]
    own: dict[Any, float] = {}
    for func, (_cc, _nc, tt, _ct, _callers) in raw.items():
        own[func] = tt

    def charge(func: Any, amount: float, depth: int = 0) -> Iterable[tuple[str, float]]:
        comp = component(func)
        if comp is not None:
            yield comp, amount
            return
        callers = raw[func][4] if func in raw else {}
        total = sum(v[2] for v in callers.values())  # time spent in func per caller
        if depth > 8 or not callers or total <= 0:
            yield "other (library)", amount
            return
        for caller, v in callers.items():
            yield from charge(caller, amount * v[2] / total, depth + 1)

    out: dict[str, float] = defaultdict(float)
    for func, tt in own.items():
        for comp, amount in charge(func, tt):
            out[comp] += amount
    return dict(out), sum(own.values())


def profile(name: str, seed: int, top: int) -> dict[str, Any]:
    prof = cProfile.Profile()
    one_day(name, seed, prof)
    stats = pstats.Stats(prof)
    parts, total = breakdown(stats)
    print(f"\nprofile of {name} (cProfile; self time, library calls charged to their callers)")
    print(f"{'component':<18}{'seconds':>10}{'share':>8}")
    for comp, sec in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"{comp:<18}{sec:>10.3f}{100 * sec / total:>7.1f}%")
    print(f"{'total':<18}{total:>10.3f}")
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(top)
    print(f"\ntop {top} functions by self time ({name}):")
    lines = buf.getvalue().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    print("\n".join(lines[start:]))
    return {"components_s": parts, "total_s": total}


# -- main -------------------------------------------------------------------------------------
def fmt(x: float) -> str:
    return f"{x / 1000:,.1f}k"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="town,community",
                    help=f"comma list of presets ({', '.join(sorted(PRESETS))})")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repetitions (R)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", action="store_true", help="cProfile breakdown per scenario")
    ap.add_argument("--top", type=int, default=25, help="functions listed with --profile")
    ap.add_argument("--json", metavar="PATH", help="write all results as JSON")
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    try:
        for n in names:
            make_scenario(n)
        if args.repeats < 1:
            raise ValueError(f"--repeats must be >= 1, got {args.repeats}")
    except ValueError as exc:
        ap.error(str(exc))

    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"numpy {np.__version__}; one core; {args.repeats} interleaved repetition(s)")
    print("events = kernel events + exchange messages (submit/cancel/modify instructions)")
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for _ in range(args.repeats):
        for n in names:
            runs[n].append(one_day(n, args.seed))
    kernel_rate = statistics.median(bare_kernel() for _ in range(3))

    cols = ("owners", "agents", "slots", "kernel_events", "messages", "trades")
    print(f"\n{'scenario':<11}" + "".join(f"{c:>14}" for c in cols)
          + f"{'reset s':>9}{'run s':>8}{'cpu s':>8}{'events/s':>11}{'ev/cpu-s':>10}"
          f"{'msgs/s':>10}")
    summary: dict[str, Any] = {"repeats": args.repeats, "seed": args.seed,
                               "python": platform.python_version(), "scenarios": {}}
    for n in names:
        rs = runs[n]
        med = {k: statistics.median(r[k] for r in rs)
               for k in ("reset_s", "run_s", "cpu_s", "events_per_s", "events_per_cpu_s",
                         "messages_per_s")}
        first = rs[0]
        print(f"{n:<11}" + "".join(f"{first[c]:>14,}" for c in cols)
              + f"{med['reset_s']:>9.2f}{med['run_s']:>8.2f}{med['cpu_s']:>8.2f}"
              f"{fmt(med['events_per_s']):>11}{fmt(med['events_per_cpu_s']):>10}"
              f"{fmt(med['messages_per_s']):>10}")
        summary["scenarios"][n] = {"counts": {c: first[c] for c in (*cols, "events",
                                                                     "accepted_orders")},
                                   "median": med, "runs": rs}
    print(f"\nbare kernel (no-op handlers): {fmt(kernel_rate)} events/s")
    summary["bare_kernel_events_per_s"] = kernel_rate
    if args.profile:
        summary["profile"] = {n: profile(n, args.seed, args.top) for n in names}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
