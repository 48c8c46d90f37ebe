"""Headroom per role: random, prototype, strong baseline and perfect-foresight bound.

Usage::

    python benchmarks/headroom.py                         # community, 10 held-out seeds
    python benchmarks/headroom.py toy --n-seeds 2 --json out/headroom.json
    python benchmarks/headroom.py --settlement curtail

What is measured (issue 11, SPEC §10 version 2; the functions live in
:mod:`rex_env.eval.headroom`, the roles in :mod:`rex_env.spec.roles`). For each role —
``households`` (load, with or without PV, no battery), ``pv_battery`` (households with a
battery), ``wind``, ``plant``, ``storage``, ``spatial`` (the spatial arbitrager of a scenario
with zones) — its *members* are the scenario's learners of
that role (the owners a learned policy would trade for; all owners of the role when no
learner has it). On each held-out
market seed (:data:`rex_env.eval.EVAL_SEED_BASE` on, never a training seed) the members are
traded, all together and with the rest of the population unchanged, by

* ``random``: :class:`agents.RandomTrader` with their assets;
* ``prototype``: the role's hand-coded prototype (the population as the scenario defines it);
* ``baseline``: the role's strong baseline — :class:`agents.NewsvendorProsumer` for the
  intermittent roles (it ignores a household's battery, which buffers its imbalance at
  delivery), :class:`agents.RollingIntrinsicTrader` for storage; none for the plant, whose
  prototype already offers at marginal cost, nor for the spatial arbitrager;

and the role's perfect-foresight **bound** (:mod:`agents.bounds`) is computed for each
member over the realised prices of the prototype's day: price-taking at each slot's VWAP (the
settlement reference where a slot did not trade), so a member that earns the spread can
exceed it. The bound values assets, so a role without them (``spatial``:
:attr:`rex_env.spec.roles.Role.bounded` is false) has none: its bound, headroom and
normalised score are ``—``, not a bound of 0. A score is the member's surplus for the day
(the market's per-owner accounts: trade cash + imbalance cash + value of served consumption -
production cost - unserved cost), averaged over the members; mean ± 95 % CI over seeds.
``headroom`` = bound - prototype and ``baseline - prototype`` are paired by seed. Each seed's
markets share their physics (same seed, same realised weather, load and forecasts).

Battery charge left at the end is valued by the market's own rule (SPEC §9,
:func:`rex_env.sim.settlement.terminal_energy_value`: the change of stored energy at the day's
VWAP times the discharge efficiency), which the accounts already hold; the storage bound uses
the same price for its terminal value and the same starting charge, so the two compare.

Cost: per seed one prototype day plus one day per role and controller (≈ 1-2 s each for the
community; the rolling-intrinsic trader solves one small LP per wake-up).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: agents/ lives at the root
    sys.path.insert(0, str(ROOT))

from rex_env.eval.headroom import (  # noqa: E402
    CONTROLLERS,
    RoleResult,
    bound,
    headroom,
    members,
    run_day,
    score,
    slot_prices,
    table,
)
from rex_env.eval.stats import EVAL_SEED_BASE  # noqa: E402
from rex_env.scenarios import PRESETS, make_scenario  # noqa: E402
from rex_env.spec.kinds import SETTLEMENT_MODES  # noqa: E402
from rex_env.spec.roles import ROLE_NAMES, ROLES, Role  # noqa: E402

__all__ = ["CONTROLLERS", "ROLES", "ROLE_NAMES", "Role", "RoleResult", "bound", "headroom",
           "main", "members", "run_day", "score", "slot_prices", "table"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?", default="community",
                    help=f"a preset ({', '.join(PRESETS)})")
    ap.add_argument("--n-seeds", type=int, default=10, help="held-out seeds (>= 1)")
    ap.add_argument("--first-seed", type=int, default=EVAL_SEED_BASE,
                    help="first held-out seed (default: rex_env.eval.EVAL_SEED_BASE)")
    ap.add_argument("--roles", nargs="+", default=list(ROLE_NAMES), choices=ROLE_NAMES)
    ap.add_argument("--settlement", choices=SETTLEMENT_MODES, default=None,
                    help="override the scenario's settlement mode (its other parameters stay)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    a = ap.parse_args(argv)
    if a.n_seeds < 1:
        ap.error(f"--n-seeds must be >= 1, got {a.n_seeds}")
    try:
        sc = make_scenario(a.scenario)
    except (KeyError, ValueError) as exc:
        ap.error(str(exc))
    if a.settlement is not None:
        sc = sc.replace(settlement=replace(sc.settlement, mode=a.settlement))
    seeds = list(range(a.first_seed, a.first_seed + a.n_seeds))
    results = headroom(sc, seeds, a.roles, progress=not a.quiet)
    note = (f"Scenario {sc.name} ({sc.settlement.mode} settlement), {len(seeds)} held-out "
            f"seeds from {seeds[0]}. Surplus per member-day, "
            f"mean ± 95 % CI over seeds; headroom and baseline − prototype paired by seed; "
            f"bound: perfect foresight, price-taking at the realised slot VWAPs.")
    print(table(results) + "\n\n" + note)
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({
            "scenario": sc.name, "settlement": sc.settlement.mode, "seeds": seeds,
            "roles": {r.role: {"members": r.members, "scores": r.scores,
                               "summary": {k: list(v) for k, v in r.summary().items()}}
                      for r in results}}, indent=2, allow_nan=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
