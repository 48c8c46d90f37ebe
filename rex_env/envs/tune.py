"""``action_mode="tune"``: the policy sets its prototype's parameters instead of placing orders.

Each learner's prosumer is traded by its role's hand-coded prototype (:mod:`rex_env.spec.roles`;
with ``tune_base="baseline"`` by the role's strong baseline instead, e.g. the storage role's
rolling-intrinsic trader: residual learning on top of the best rule, not of the prototype);
at every decision epoch the action (one value in [-1, 1] per entry of the prototype's
``TUNABLE``) sets those parameters until the next epoch (``agents.base.SlotTrader.tune``).
Action 0 is exactly the prototype, so the policy learns *state-dependent* deviations from a
sound rule (when to widen the storage dealer's value band, when the plant should ask more),
never an infeasible schedule. This is the residual / parameterised-policy design common for
market makers; the observation and the reward are the env's usual ones.
"""

from __future__ import annotations

from typing import Any

from ..scenarios import Scenario
from ..spec.roles import get_role, role_of


def tuned_prototypes(sc: Scenario, owners: tuple[str, ...] | list[str],
                     base: str = "prototype") -> dict[str, Any]:
    """The agent each learner's policy tunes, by owner, all with the same tunable parameters:
    its role's prototype (``base="prototype"``) or strong baseline (``"baseline"``).

    Raises:
        ValueError: a learner without a role, or whose base agent has no tunable parameters,
            or learners whose base agents differ (one action space is shared) — naming them.
    """
    from agents import make_agent  # the hand-coded population (a higher layer, as in parallel)

    out: dict[str, Any] = {}
    for o in owners:
        role = role_of(sc.spec(o))
        r = get_role(role) if role is not None else None
        kind = None if r is None else r.prototype if base == "prototype" else r.baseline
        agent = make_agent(sc.spec(o), sc, kind) if kind is not None else None
        if agent is None or not getattr(agent, "TUNABLE", ()):
            raise ValueError(f"action_mode='tune' with tune_base={base!r} needs learners whose "
                             f"{base} has tunable parameters (prototype: the storage dealer, "
                             f"the plant; baseline: the storage role's rolling intrinsic); "
                             f"{o!r} has role {role!r} ({base} {kind!r})")
        out[o] = agent
    knobs = {o: tuple(n for n, _, _ in a.TUNABLE) for o, a in out.items()}
    if len(set(knobs.values())) > 1:
        raise ValueError(f"action_mode='tune' shares one action space: the learners' "
                         f"prototypes must have the same parameters, got {knobs}")
    return out
