"""The compiled exchange core: C structs and functions behind a thin Cython class.

``rex_core.h`` / ``rex_core.c`` hold the exchange in plain C (no Python), ``rex_lob3d.c`` the
depth aggregation, ``_cexchange.pyx`` the Cython class that owns the C state, ``prologue.py``
the Python-level handling of unusual argument types and ``engine.py`` the reference API on top
(``Exchange`` with its ``books`` / ``orders`` views). The pure-Python engine in
:mod:`rex_env.exchange` stays the reference; :mod:`rex_env.exchange` picks the engine
(``REX_ENGINE=python|c``).

``IntermittentCore``, ``ZICore`` and ``DecoderCore`` (``_agents_fast.pxi``) are the compiled
twins of the hand-coded intermittent prosumer's and zero-intelligence trader's decisions
(:mod:`agents.intermittent`, :mod:`agents.zi`; ``StorageCore``, ``_storage_fast.pxi``, the
storage dealer's, :mod:`agents.storage`; ``PlantCore`` and ``GridCore``, ``_plant_fast.pxi``,
the provision plant's and the grid connection's, :mod:`agents.plant`, :mod:`agents.grid`;
``NewsvendorCore``, ``_newsvendor_fast.pxi``, the strong intermittent baseline's,
:mod:`agents.newsvendor`) and of
the env's box-mode action decoding (:mod:`rex_env.envs.parallel`), ``execute_plain`` the
compiled loop of :meth:`rex_env.sim.market.Market.execute`, ``TradeBook``
(``_bookkeeping_fast.pxi``) the compiled :meth:`~rex_env.sim.market.Market._on_trades` (accounts
and metric counters), ``QuoteSampler`` its ``_on_sample`` (the slots' quote statistics),
``UniformDraw`` (``_draws_fast.pxi``) the kernel's tie-break draw (``Generator.random`` in C),
``battery_targets`` (``_feasible_fast.pxi``) the env's battery feasibility projection
(:func:`rex_env.envs.feasible.battery_targets`), ``WakeLoop`` (``_wake_fast.pxi``) the market's
wake-up of the agents with compiled decisions (:meth:`~rex_env.sim.market.Market._on_wake` with
the act, report hand-back, next-wake draw and rescheduling around it), ``SettleCore``
(``_settle_fast.pxi``) a slot's settlement and its booking, ``private_slots`` and
``public_block`` (``_obs_fast.pxi``) the env observation's per-slot features (and
``forecast_means`` the forecasts the env's feasibility projection reads), ``box_action``
and ``box_targets`` (``_actions_fast.pxi``) the env's box-action check and targets and
``note_reports`` its note of a learner's reports;
``None`` without the extension;
``COMPILED_AGENTS`` says whether they are used.

``AVAILABLE`` tells whether the extension was built; ``IMPORT_ERROR`` why not.
"""

from __future__ import annotations

import os

import rex_env.exchange  # noqa: F401  (first: the exchange package imports .engine itself)

try:
    from ._cexchange import (  # the compiled twins of the Python code (issue 12)
        DecoderCore,
        GridCore,
        IntermittentCore,
        NewsvendorCore,
        PlantCore,
        QuoteSampler,
        SettleCore,
        StorageCore,
        TradeBook,
        UniformDraw,
        WakeLoop,
        ZICore,
        battery_targets,
        box_action,
        box_targets,
        execute_plain,
        forecast_means,
        note_reports,
        private_slots,
        public_block,
    )
    from .engine import BookView, Exchange, LevelView
except ImportError as exc:  # not built (no compiler at install time) or a broken build
    AVAILABLE = False
    IMPORT_ERROR: ImportError | None = exc
    IntermittentCore = DecoderCore = QuoteSampler = TradeBook = UniformDraw = ZICore = None
    WakeLoop = StorageCore = PlantCore = GridCore = SettleCore = NewsvendorCore = None
    execute_plain = battery_targets = private_slots = public_block = None
    box_action = box_targets = forecast_means = note_reports = None
else:
    AVAILABLE = True
    IMPORT_ERROR = None

COMPILED_AGENTS = AVAILABLE and os.environ.get("REX_COMPILED_AGENTS") != "0"
"""Whether decisions run compiled on the C engine: the intermittent prosumer's
(:class:`IntermittentCore`), the zero-intelligence trader's (:class:`ZICore`), the storage
dealer's (:class:`StorageCore`), the provision plant's (:class:`PlantCore`), the grid
connection's (:class:`GridCore`) and the env's
box-mode decoding and battery projection (:class:`DecoderCore`, ``battery_targets``), the
kernel's tie-break draw (:class:`UniformDraw`), and the market's instruction loop, trade
bookkeeping, quote samples and agents' wake-ups (``execute_plain``, :class:`TradeBook`,
:class:`QuoteSampler`, :class:`WakeLoop`) — the same instructions and figures as their
Python code, which stays the reference.
``REX_COMPILED_AGENTS=0`` (or setting this to ``False``) runs the Python code everywhere."""

#: the integer codes ``Exchange.run_many`` returns, index -> name
STATUS_CODES = ("accepted", "resting", "filled", "cancelled", "expired", "killed", "rejected")
REASON_CODES = ("", "bad_field", "duplicate_id", "price_out_of_bounds", "off_tick",
                "non_positive_rate", "off_lot", "unknown_slot", "slot_closed", "slot_not_open",
                "auction_phase", "unknown_order", "self_trade")

__all__ = ["AVAILABLE", "COMPILED_AGENTS", "IMPORT_ERROR", "REASON_CODES", "STATUS_CODES",
           "BookView", "DecoderCore", "Exchange", "GridCore", "IntermittentCore", "LevelView",
           "PlantCore", "QuoteSampler", "SettleCore",
           "StorageCore", "TradeBook", "UniformDraw", "WakeLoop", "ZICore", "battery_targets",
           "execute_plain", "private_slots"]
