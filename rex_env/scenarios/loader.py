"""Scenarios from JSON files: :func:`load_scenario`, :func:`scenario_from_dict` and back,
:func:`scenario_to_dict`.

A scenario file holds one JSON object. Every field but ``name`` and ``prosumers`` is optional
and defaults as in :class:`~rex_env.scenarios.Scenario`; ``base`` starts from a preset instead
(its fields, each replaced whole by the file's)::

    {
      "name": "my-street",
      "description": "six houses and a battery",
      "base": "community",                       # optional: start from a preset
      "schedule": {"n_slots": 96, "open_lead": 21600, "gate_lead": 900, "call_len": 300,
                   "slot_len": 900, "start_hour": 0, "day_of_year": 172},
      "grid": {"tick": "0.1", "lot": "0.1", "price_min": -9999, "price_max": 9999},
      "settlement": {"mode": "single", "scarcity_adder": 20000},
      "tariff": {"retail": 300, "feed_in": 80},
      "wholesale": {"base": 80, "retail_spread": 120},   # or null: flat tariffs
      "forecast_update_s": 300,                  # or null: at slot boundaries
      "reference_price": 100,
      "depth_levels": 5,
      "learners": ["house00"],                   # optional: owners an RL policy trades for
      "location": {"latitude": 51.31, "longitude": 9.45, "altitude": 231,
                   "utc_offset_h": 1, "name": "Kassel"},     # optional, default Kassel
      "date": "2025-01-15",                      # optional: sets schedule.day_of_year
      "prosumers": [
        {"owner": "house", "count": 6, "agent": "intermittent",
         "load": {"annual_kwh": 3500}, "pv": {"peak_kw": 6}},
        {"owner": "battery", "agent": "storage",
         "battery": {"energy_kwh": 100, "power_kw": 50}, "params": {"margin": 0.05}},
        {"owner": "grid", "agent": "grid", "external": true}
      ]
    }

A prosumer's assets (``wind``, ``pv``, ``load``, ``plant``, ``battery``) take the fields of
:class:`~rex_env.physics.WindFarm`, :class:`~rex_env.physics.PVSystem`,
:class:`~rex_env.physics.Household`, :class:`~rex_env.physics.ProvisionPlant` and
:class:`~rex_env.physics.Battery`; ``params`` override the agent's defaults (see
:mod:`agents`); ``count`` makes that many copies named ``owner00``, ``owner01``, ...

Every error names the field (``prosumers[2].battery.power_kw``) and what is allowed.

Sizes and magnitudes are bounded (:data:`LIMITS` and the constants below), so that no file can
make loading, or the episode it describes, exhaust memory or time: a file is read up to
:data:`MAX_FILE_BYTES` and its JSON may nest at most :data:`MAX_JSON_DEPTH` deep;
a scenario has at most :data:`MAX_PROSUMERS` prosumers (checked before ``count`` copies are
made) and :data:`MAX_PROSUMER_SLOTS` prosumer-slots, at most :data:`MAX_OPEN_SLOTS` slots open
at once, and each field of :data:`LIMITS` lies in its range. Asset magnitudes are bounded by
the physics classes themselves (:data:`rex_env.physics._validate.MAX_MAGNITUDE`).
:func:`check_limits` applies the same bounds to a :class:`Scenario` built in Python.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..exchange import Grid
from ..physics import Battery, Household, ProvisionPlant, PVSystem, WindFarm
from ..physics.wholesale import WholesaleModel
from ..spec.kinds import AGENT_KINDS
from ..spec.prosumer import ProsumerSpec
from ..spec.scenario import Location, Scenario, Tariff
from ..spec.schedule import SlotSchedule
from ..spec.settlement import SettlementConfig
from ..spec.zones import MAX_ZONES, Line

ASSETS: dict[str, type] = {"wind": WindFarm, "pv": PVSystem, "load": Household,
                           "plant": ProvisionPlant, "battery": Battery}
"""Asset field of a prosumer -> its physics class."""

TOP_FIELDS = ("name", "description", "base", "schedule", "grid", "settlement", "tariff",
              "reference_price", "depth_levels", "prosumers", "learners", "wholesale",
              "forecast_update_s", "zones", "lines", "cross_gate_lead")
PLACE_FIELDS = ("location", "date")
"""Top-level fields of issue 16 (where and when), parsed by :func:`_place_fields`."""
PROSUMER_FIELDS = ("owner", "agent", "count", "params", "external", "zone", *ASSETS)
_GRID_FIELDS = ("tick", "lot", "price_min", "price_max")

# -- limits (issue 15): what a scenario may ask for -------------------------------------------

MAX_FILE_BYTES = 4 * 1024 * 1024
"""A scenario file larger than this (4 MiB) is refused; at most this + 1 bytes are read."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of JSON arrays/objects (a scenario needs 5)."""
MAX_PROSUMERS = 10_000
"""Most prosumers in one scenario, ``count`` copies included."""
MAX_PROSUMER_SLOTS = 2_000_000
"""Most ``prosumers * schedule.n_slots`` of one episode (the physics arrays' size)."""
MAX_OPEN_SLOTS = 1024
"""Most slots open at once: ``ceil(schedule.open_lead / schedule.slot_len)``."""
MAX_NAME_CHARS = 64
"""Longest zone name in a scenario file."""
MAX_PRICE = 1e6
"""Largest magnitude of a price-like field, currency/MWh (the default price bound is 9,999)."""
DAY = 86_400
WEEK = 7 * DAY

LIMITS: dict[str, tuple[float, float, str]] = {
    # field path on the Scenario ("prosumers[]." for every prosumer) -> (min, max, unit)
    "schedule.slot_len": (1, DAY, "s"),
    "schedule.n_slots": (1, 366 * 96, "slots"),
    "schedule.open_lead": (1, WEEK, "s"),
    "schedule.gate_lead": (0, WEEK, "s"),
    "schedule.call_len": (0, WEEK, "s"),
    "grid.price_min": (-MAX_PRICE, MAX_PRICE, "currency/MWh"),
    "grid.price_max": (-MAX_PRICE, MAX_PRICE, "currency/MWh"),
    "tariff.retail": (0, MAX_PRICE, "currency/MWh"),
    "tariff.feed_in": (0, MAX_PRICE, "currency/MWh"),
    "settlement.scarcity_adder": (0, MAX_PRICE, "currency/MWh per MWh"),
    "settlement.price_cap": (0, MAX_PRICE, "currency/MWh"),
    "settlement.premium": (0, 1000, "(fraction)"),
    "settlement.fee": (0, MAX_PRICE, "currency/MWh"),
    "settlement.voll": (0, MAX_PRICE, "currency/MWh"),
    "settlement.reference_price": (-MAX_PRICE, MAX_PRICE, "currency/MWh"),
    "reference_price": (-MAX_PRICE, MAX_PRICE, "currency/MWh"),
    "prosumers[].plant.cost_a": (-MAX_PRICE, MAX_PRICE, "currency/MWh"),
    "prosumers[].plant.cost_b": (0, MAX_PRICE, "currency/MWh per kW"),
}
"""Inclusive range of each bounded field (other helpers add their fields here)."""


def _lookup(obj: Any, path: str) -> Any:
    for name in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, name, None)
    return obj


def check_limits(scenario: Scenario, where: str = "") -> None:
    """Check a scenario against :data:`LIMITS` and the size bounds of this module.

    Raises:
        ValueError: naming the field, its value and the allowed range.
    """
    n = len(scenario.prosumers)
    if n > MAX_PROSUMERS:
        raise _fail(_at(where, "prosumers"), f"has {n} prosumers; at most {MAX_PROSUMERS}")
    for path, (lo, hi, unit) in LIMITS.items():
        if not path.startswith(_EACH):
            _in_range(_lookup(scenario, path), _at(where, path), lo, hi, unit)
    for i, spec in enumerate(scenario.prosumers):
        _prosumer_limits(spec, _at(where, f"prosumers[{i}]"))
    sch = scenario.schedule
    open_slots = -(-sch.open_lead // sch.slot_len)
    if open_slots > MAX_OPEN_SLOTS:
        raise _fail(_at(where, "schedule"), f"open_lead / slot_len = {open_slots} slots open at "
                                            f"once; at most {MAX_OPEN_SLOTS}")
    if n * sch.n_slots > MAX_PROSUMER_SLOTS:
        raise _fail(_at(where, "schedule.n_slots"),
                    f"{n} prosumers * {sch.n_slots} slots = {n * sch.n_slots}; at most "
                    f"{MAX_PROSUMER_SLOTS} prosumer-slots")


_EACH = "prosumers[]."


def _in_range(value: Any, where: str, lo: float, hi: float, unit: str) -> None:
    if value is None:
        return
    v = Fraction(value) if isinstance(value, (str, Decimal)) else value
    if isinstance(v, bool) or not isinstance(v, (int, float, Fraction)) or not lo <= v <= hi:
        raise _fail(where, f"must be in [{lo:g}, {hi:g}] {unit}, got {value!r}")


def _prosumer_limits(spec: ProsumerSpec, where: str) -> None:
    """The ``prosumers[].`` rows of :data:`LIMITS` for one prosumer."""
    for path, (lo, hi, unit) in LIMITS.items():
        if path.startswith(_EACH):
            field = path[len(_EACH):]
            _in_range(_lookup(spec, field), f"{where}.{field}", lo, hi, unit)


def nesting(data: Any) -> int:
    """How deep lists and dicts nest in ``data`` (a scalar is 0), counted without recursion
    and never past ``MAX_JSON_DEPTH + 1`` (so a cyclic structure ends too)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        x, depth = stack.pop()
        if isinstance(x, (list, dict)):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                stack.extend((v, depth + 1) for v in (x.values() if isinstance(x, dict) else x))
    return deepest



def _fail(where: str, msg: str) -> ValueError:
    return ValueError(f"{where or 'scenario'}: {msg}")


def _at(where: str, key: str) -> str:
    """The path of field ``key`` inside ``where`` (``""`` is the top level)."""
    return f"{where}.{key}" if where else key


def _object(x: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(x, dict):
        raise _fail(where, f"must be a JSON object with fields among {', '.join(allowed)}; "
                           f"got {type(x).__name__}")
    unknown = sorted(k for k in x if k not in allowed)
    if unknown:
        raise _fail(where, f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: "
                           f"{', '.join(allowed)}")
    return x


def _value(x: Any, where: str, depth: int = 0) -> Any:
    """A JSON scalar or list as a dataclass field value (lists become tuples)."""
    if isinstance(x, list):
        if depth >= MAX_JSON_DEPTH:
            raise _fail(where, f"nests deeper than {MAX_JSON_DEPTH} levels")
        return tuple(_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(x))
    if isinstance(x, float) and not math.isfinite(x):
        raise _fail(where, f"must be a finite number, got {x!r}")
    if isinstance(x, dict):
        raise _fail(where, "must be a number, string, boolean or list, not an object")
    return x


def _build(cls: type, data: Any, where: str, exclude: tuple[str, ...] = (),
           fixed: dict[str, Any] | None = None) -> Any:
    """``cls(**data)`` with every field checked by name and errors prefixed by ``where``."""
    names = tuple(f.name for f in dataclasses.fields(cls) if f.init and f.name not in exclude)
    fields = _object(data, where, names)
    kwargs = {k: _value(v, f"{where}.{k}") for k, v in fields.items()}
    kwargs.update(fixed or {})
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise _fail(where, str(exc)) from None


def _number(x: Any, where: str, *, integer: bool = False) -> Any:
    ok = isinstance(x, (int, float)) and not isinstance(x, bool)
    if ok and integer:
        ok = float(x).is_integer()
    if not ok or not math.isfinite(x):
        raise _fail(where, f"must be {'an int' if integer else 'a number'}, got {x!r}")
    return int(x) if integer else x


def _prosumers(data: Any, where: str = "prosumers") -> tuple[ProsumerSpec, ...]:
    if not isinstance(data, list) or not data:
        raise _fail(where, "must be a non-empty list of prosumer objects (owner, agent, "
                           "assets)")
    out: list[ProsumerSpec] = []
    total = 0
    for i, p in enumerate(data):
        w = f"{where}[{i}]"
        p = _object(p, w, PROSUMER_FIELDS)
        owner = p.get("owner")
        if not isinstance(owner, str) or not owner:
            raise _fail(f"{w}.owner", f"must be a non-empty string, got {owner!r}")
        agent = p.get("agent")
        if agent not in AGENT_KINDS:
            raise _fail(f"{w}.agent", f"must be one of {', '.join(AGENT_KINDS)}; got {agent!r}")
        count = p.get("count")
        if count is not None:
            count = _number(count, f"{w}.count", integer=True)
            if not 1 <= count <= MAX_PROSUMERS:
                raise _fail(f"{w}.count", f"must be an int >= 1 and <= {MAX_PROSUMERS}, got "
                                          f"{count}")
        total += 1 if count is None else count
        if total > MAX_PROSUMERS:  # before any copy is made
            raise _fail(where, f"more than {MAX_PROSUMERS} prosumers (count copies included)")
        external = p.get("external", False)
        if not isinstance(external, bool):
            raise _fail(f"{w}.external", f"must be true or false, got {external!r}")
        zone = p.get("zone", "")
        if not isinstance(zone, str) or len(zone) > MAX_NAME_CHARS:
            raise _fail(f"{w}.zone", f"must be a zone name (a string of at most "
                                     f"{MAX_NAME_CHARS} characters), got {zone!r}")
        assets = {name: _build(cls, p[name], f"{w}.{name}")
                  for name, cls in ASSETS.items() if p.get(name) is not None}
        params = p.get("params", {})
        if not isinstance(params, dict):
            raise _fail(f"{w}.params", "must be a JSON object of agent parameter -> value")
        for k, v in params.items():
            if not isinstance(v, (int, float, str, bool)) or (
                    isinstance(v, float) and not math.isfinite(v)):
                raise _fail(f"{w}.params.{k}", f"must be a finite number, string or boolean, "
                                               f"got {v!r}")
        names = [owner] if count is None else \
            [f"{owner}{j:0{max(2, len(str(count - 1)))}d}" for j in range(count)]
        for name in names:
            try:
                out.append(ProsumerSpec(name, agent, params=tuple(params.items()),
                                        external=external, zone=zone, **assets))
            except ValueError as exc:
                raise _fail(w, str(exc)) from None
        _prosumer_limits(out[-1], w)  # the copies are alike: once per entry
    return tuple(out)


def scenario_from_dict(data: Any, where: str = "") -> Scenario:
    """A validated :class:`Scenario` from a JSON-like dict (see the module docstring).

    Raises:
        ValueError: naming the field and what is allowed.
    """
    from .presets import PRESETS  # presets import this package's base only

    if nesting(data) > MAX_JSON_DEPTH:
        raise _fail(where, f"nests deeper than {MAX_JSON_DEPTH} levels of lists and objects")
    data = _object(data, where, TOP_FIELDS + PLACE_FIELDS)
    base_name = data.get("base")
    if base_name is not None:
        if base_name not in PRESETS:
            raise _fail(_at(where, "base"), "must be a preset, one of "
                        f"{', '.join(sorted(PRESETS))}; got {base_name!r}")
        base: Scenario | None = PRESETS[base_name]()
    else:
        base = None
        if "prosumers" not in data:
            raise _fail(_at(where, "prosumers"), "missing; a non-empty list of prosumers is "
                                              "required (or a 'base' preset)")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(_at(where, "name"), f"must be a non-empty string, got {name!r}")
    kw: dict[str, Any] = {} if base is None else {
        f.name: getattr(base, f.name) for f in dataclasses.fields(Scenario)}
    kw["name"] = name
    if "description" in data:
        if not isinstance(data["description"], str):
            raise _fail(_at(where, "description"), "must be a string")
        kw["description"] = data["description"]
    if "schedule" in data:
        kw["schedule"] = _build(SlotSchedule, data["schedule"], _at(where, "schedule"))
    slot_len = kw.get("schedule", SlotSchedule()).slot_len
    if "grid" in data:
        kw["grid"] = _build(Grid, data["grid"], _at(where, "grid"), exclude=("slot_len",),
                            fixed={"slot_len": slot_len})
    elif "schedule" in data:
        g = kw.get("grid", Grid())
        kw["grid"] = dataclasses.replace(g, slot_len=slot_len)
    if "settlement" in data:
        kw["settlement"] = _build(SettlementConfig, data["settlement"], _at(where, "settlement"))
    if "tariff" in data:
        kw["tariff"] = _build(Tariff, data["tariff"], _at(where, "tariff"))
    if "wholesale" in data:
        kw["wholesale"] = None if data["wholesale"] is None else \
            _build(WholesaleModel, data["wholesale"], _at(where, "wholesale"))
    if "forecast_update_s" in data:
        u = data["forecast_update_s"]
        kw["forecast_update_s"] = None if u is None else \
            _number(u, _at(where, "forecast_update_s"), integer=True)
    if "reference_price" in data:
        kw["reference_price"] = _number(data["reference_price"], _at(where, "reference_price"))
    if "depth_levels" in data:
        kw["depth_levels"] = _number(data["depth_levels"], _at(where, "depth_levels"),
                                     integer=True)
    if "prosumers" in data:
        kw["prosumers"] = _prosumers(data["prosumers"], _at(where, "prosumers"))
        if "learners" not in data and base is not None:
            kw.pop("learners", None)  # the preset's learners may not exist any more
    if "learners" in data:
        learners = data["learners"]
        if not isinstance(learners, list) or not all(isinstance(x, str) for x in learners):
            raise _fail(_at(where, "learners"), "must be a list of owner ids")
        kw["learners"] = tuple(learners)
    kw.update(_place_fields(data, where))
    kw.update(_zone_fields(data, where))
    try:
        scenario = Scenario(**kw)
    except ValueError as exc:
        raise _fail(where, str(exc)) from None
    check_limits(scenario, where)
    _check_agents(scenario, data.get("prosumers"), where)
    return scenario


def _place_fields(data: dict[str, Any], where: str) -> dict[str, Any]:
    """``location`` and ``date`` of a scenario file (issue 16), checked by name."""
    out: dict[str, Any] = {}
    if "location" in data:
        out["location"] = _build(Location, data["location"], _at(where, "location"))
    if "date" in data and data["date"] is not None:
        raw = data["date"]
        try:
            date = dt.date.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            date = None
        if date is None:
            raise _fail(_at(where, "date"), f"must be a date 'YYYY-MM-DD', got {raw!r}")
        out["date"] = date
    return out


def _zone_fields(data: dict[str, Any], where: str) -> dict[str, Any]:
    """``zones``, ``lines`` and ``cross_gate_lead`` of a scenario file (issue 17)."""
    out: dict[str, Any] = {}
    if "zones" in data:
        zones = data["zones"]
        if (not isinstance(zones, list) or len(zones) > MAX_ZONES
                or not all(isinstance(z, str) and 0 < len(z) <= MAX_NAME_CHARS for z in zones)):
            raise _fail(_at(where, "zones"), f"must be a list of at most {MAX_ZONES} zone names "
                                             f"(non-empty strings of at most {MAX_NAME_CHARS} "
                                             f"characters), got {zones!r}"[:300])
        out["zones"] = tuple(zones)
    if "lines" in data:
        raw = data["lines"]
        if not isinstance(raw, list) or len(raw) > MAX_ZONES * MAX_ZONES:
            raise _fail(_at(where, "lines"), f"must be a list of at most {MAX_ZONES ** 2} line "
                                             "objects (frm, to, capacity_kw)")
        lines = []
        for i, x in enumerate(raw):
            w = _at(where, f"lines[{i}]")
            x = _object(x, w, ("frm", "to", "capacity_kw"))
            cap = x.get("capacity_kw", 0.0)
            if isinstance(cap, list):
                cap = tuple(cap)
            try:
                lines.append(Line(x.get("frm"), x.get("to"), cap))  # type: ignore[arg-type]
            except ValueError as exc:
                raise _fail(w, str(exc)) from None
        out["lines"] = tuple(lines)
    if "cross_gate_lead" in data:
        out["cross_gate_lead"] = _number(data["cross_gate_lead"], _at(where, "cross_gate_lead"),
                                         integer=True)
    return out


def _check_agents(scenario: Scenario, raw: Any, where: str) -> None:
    """Build each hand-coded agent once, so that a kind that does not fit the assets or a bad
    ``params`` entry fails here, naming the prosumer, rather than when the market starts."""
    try:
        from agents import make_agent  # the population lives above this package
    except ImportError:  # pragma: no cover - agents ships with rex_env
        return
    index: dict[str, int] = {}
    if isinstance(raw, list):
        for i, p in enumerate(raw):
            if isinstance(p, dict) and isinstance(p.get("owner"), str):
                index[p["owner"]] = i
    checked: set[int] = set()
    for spec in scenario.prosumers:
        j = index.get(spec.owner, index.get(spec.owner.rstrip("0123456789")))
        if j is not None and j in checked:
            continue  # a count copy: the same kind, assets and params as the first one
        if j is not None:
            checked.add(j)
        try:
            make_agent(spec, scenario)
        except (ValueError, ArithmeticError) as exc:
            w = _at(where, f"prosumers[{j}]" if j is not None else "prosumers")
            raise _fail(w, str(exc)) from None


def load_scenario(path: str | Path) -> Scenario:
    """The scenario of a JSON file (see the module docstring).

    Raises:
        ValueError: the file is missing, not JSON, or a field is invalid — naming the file,
            the field and what is allowed.
    """
    p = Path(path)
    try:
        with open(p, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"{p}: cannot read the scenario file ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"{p}: the scenario file is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p}: not valid JSON ({exc})") from None
    except RecursionError:  # the decoder's own guard, far below any stack overflow
        data = None
    if data is None or nesting(data) > MAX_JSON_DEPTH:
        raise ValueError(f"{p}: JSON nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return scenario_from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from None


def _asset_dict(asset: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(asset):
        if not f.init:
            continue
        v = getattr(asset, f.name)
        if isinstance(v, float) and math.isinf(v):
            continue  # JSON has no infinity; the default (no limit) is infinite
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """A JSON-able dict that :func:`scenario_from_dict` turns back into ``scenario``.

    (Infinite ramp limits are left out: they are the default.)
    """
    g = scenario.grid
    prosumers = []
    for p in scenario.prosumers:
        d: dict[str, Any] = {"owner": p.owner, "agent": p.agent}
        for name in ASSETS:
            asset = getattr(p, name)
            if asset is not None:
                d[name] = _asset_dict(asset)
        if p.params:
            d["params"] = dict(p.params)
        if p.external:
            d["external"] = True
        if p.zone:
            d["zone"] = p.zone
        prosumers.append(d)
    return {
        "name": scenario.name,
        "description": scenario.description,
        "schedule": _asset_dict(scenario.schedule),
        "grid": {k: getattr(g, k) for k in _GRID_FIELDS},
        "settlement": _asset_dict(scenario.settlement),
        "tariff": _asset_dict(scenario.tariff),
        "reference_price": scenario.reference_price,
        "depth_levels": scenario.depth_levels,
        "prosumers": prosumers,
        "learners": list(getattr(scenario, "learners", ())),
        "location": _asset_dict(scenario.location),
        "date": None if scenario.date is None else scenario.date.isoformat(),
        "wholesale": None if scenario.wholesale is None else _asset_dict(scenario.wholesale),
        "forecast_update_s": scenario.forecast_update_s,
        **({"zones": list(scenario.zones),
            "lines": [{"frm": ln.frm, "to": ln.to, "capacity_kw": list(ln.capacity_kw)
                       if isinstance(ln.capacity_kw, tuple) else ln.capacity_kw}
                      for ln in scenario.lines],
            "cross_gate_lead": scenario.cross_gate_lead} if scenario.zones else {}),
    }


def save_scenario(scenario: Scenario, path: str | Path) -> None:
    """Write ``scenario`` as a JSON file that :func:`load_scenario` reads back."""
    Path(path).write_text(json.dumps(scenario_to_dict(scenario), indent=2) + "\n",
                          encoding="utf-8")
