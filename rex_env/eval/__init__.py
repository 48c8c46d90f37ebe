"""Evaluation as a library: controllers, paired statistics, the per-role benchmark, plots.

* :mod:`~rex_env.eval.policies` — one SB3-style ``predict(obs, state, episode_start,
  deterministic)`` protocol for learned, random and hand-coded controllers;
* :mod:`~rex_env.eval.episodes` — one seeded day with a controller trading for the learners;
* :mod:`~rex_env.eval.stats` — mean ± CI (with training-seed variance), paired differences,
  normalised score and share of headroom;
* :mod:`~rex_env.eval.headroom` — perfect-foresight bounds and the hand-coded headroom per role;
* :mod:`~rex_env.eval.benchmark` — the per-role table ``evaluate.py`` prints;
* :mod:`~rex_env.eval.plots` — the figures.
"""

from __future__ import annotations

from .episodes import METRICS, Episode, run_episode
from .policies import HandCodedPolicy, LearnedPolicy, Policy, RandomPolicy
from .stats import (
    EVAL_SEED_BASE,
    mean_ci,
    normalised,
    normalised_ci,
    paired_diff,
    t_critical,
    two_way_ci,
)

__all__ = ["EVAL_SEED_BASE", "METRICS", "Episode", "HandCodedPolicy", "LearnedPolicy", "Policy",
           "RandomPolicy", "mean_ci", "normalised", "normalised_ci", "paired_diff",
           "run_episode", "t_critical", "two_way_ci"]
