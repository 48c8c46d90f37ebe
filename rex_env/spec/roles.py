"""The learnable roles of SPEC §10, defined once: who belongs to a role and who trades for it.

A role groups prosumers by their *assets* (not by the agent kind the scenario gives them), so
that one policy per role sees one kind of problem:

* ``households`` — load, with or without PV, no battery (prototype: the intermittent agent;
  strong baseline: the newsvendor);
* ``pv_battery`` — households with a battery (intermittent / newsvendor);
* ``wind`` — the wind farm (intermittent / newsvendor);
* ``plant`` — the provision plant (plant; no separate baseline: the prototype already offers at
  marginal cost);
* ``storage`` — the storage dealer, a battery with no uncontrollable asset (storage / rolling
  intrinsic);
* ``spatial`` — the spatial arbitrager of a scenario with zones (prototype: the hand-coded
  :class:`agents.spatial.SpatialArbitrager`; no strong baseline, no perfect-foresight bound).
  It owns no asset, so it is the one role named by its agent kind (``spatial``) rather than
  by assets; a learner of this role trades through :mod:`rex_env.envs.spatial`.

:func:`role_owners` is what ``learners="<role>"`` resolves to in the env
(:class:`rex_env.envs.EnvConfig`), what ``train.py --role`` trains and what ``evaluate.py
--role`` scores; :func:`role_of` names the role of one prosumer (RLlib's ``by_role``
mapping).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .prosumer import ProsumerSpec
    from .scenario import Scenario


@dataclass(frozen=True)
class Role:
    """A role: which prosumers belong to it and who trades for them when no policy does.

    Attributes:
        name: the role's name (``--role``).
        member: whether a prosumer belongs to the role (from its assets).
        prototype: the hand-coded prototype's agent kind.
        baseline: the strong baseline's agent kind (``None``: the role has none).
        bounded: whether the perfect-foresight bound (:func:`rex_env.eval.headroom.bound`)
            applies (it values assets; a role without assets has none).
    """

    name: str
    member: Callable[[ProsumerSpec], bool]
    prototype: str
    baseline: str | None
    bounded: bool = True


def _household(p: ProsumerSpec) -> bool:
    return p.load is not None and p.wind is None and p.plant is None


ROLES: tuple[Role, ...] = (
    Role("households", lambda p: _household(p) and p.battery is None, "intermittent",
         "newsvendor"),
    Role("pv_battery", lambda p: _household(p) and p.battery is not None, "intermittent",
         "newsvendor"),
    Role("wind", lambda p: p.wind is not None and p.load is None and p.battery is None,
         "intermittent", "newsvendor"),
    Role("plant", lambda p: p.plant is not None, "plant", None),
    Role("storage", lambda p: p.battery is not None and not p.has_uncontrollable
         and p.plant is None, "storage", "rolling_intrinsic"),
    Role("spatial", lambda p: p.agent == "spatial", "spatial", None, bounded=False),
)
ROLE_NAMES: tuple[str, ...] = tuple(r.name for r in ROLES)
TRAINABLE: tuple[str, ...] = ("scenario", *ROLE_NAMES, "all")
"""What ``train.py --role`` accepts: the scenario's own learners, one role (everyone else
hand-coded), or every role at once (one policy per role)."""
_BY_NAME = {r.name: r for r in ROLES}


def get_role(name: str) -> Role:
    """The role called ``name``.

    Raises:
        ValueError: an unknown role, naming the allowed ones.
    """
    if name not in _BY_NAME:
        raise ValueError(f"unknown role {name!r}; allowed: {', '.join(ROLE_NAMES)}")
    return _BY_NAME[name]


def role_of(spec: ProsumerSpec) -> str | None:
    """The role of one prosumer (``None``: an external, noise or passive participant)."""
    for r in ROLES:
        if r.member(spec):
            return r.name
    return None


def _candidates(scenario: Scenario, role: Role) -> list[str]:
    return [p.owner for p in scenario.prosumers
            if not p.external and p.agent not in ("learner", "passive", "zic", "ziu")
            and role.member(p)]


def role_owners(scenario: Scenario, name: str, prefer_learners: bool = False) -> tuple[str, ...]:
    """The owners of role ``name`` in ``scenario``.

    Args:
        prefer_learners: only the scenario's own learners of the role when it has some (the
            owners benchmarks/headroom.py scores), else every owner of the role.

    Raises:
        ValueError: an unknown role, or one the scenario does not have (naming those it has).
    """
    role = get_role(name)
    own = _candidates(scenario, role)
    if not own:
        have = [r.name for r in ROLES if _candidates(scenario, r)]
        raise ValueError(f"scenario {scenario.name!r} has no prosumer of role {name!r}; its "
                         f"roles: {', '.join(have) or 'none'}")
    if prefer_learners:
        learners = [o for o in own if o in scenario.learners]
        own = learners or own
    return tuple(own)


def scenario_roles(scenario: Scenario) -> tuple[str, ...]:
    """The roles ``scenario`` has, in :data:`ROLE_NAMES` order."""
    return tuple(r.name for r in ROLES if _candidates(scenario, r))
