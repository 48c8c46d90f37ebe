"""Evaluation episodes in worker processes (``score(workers=N)``, ``evaluate.py --workers``):
the same episodes, tables, progress and errors as the serial path (issue 12's fast
evaluation). A learned run end to end (files byte for byte) is in
``tests/test_train_evaluate.py``, which has the trained run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import evaluate
from rex_env.eval.benchmark import (
    Benchmark,
    Run,
    markdown,
    market_row,
    role_env_kwargs,
    score,
    summary_row,
)
from rex_env.eval.parallel import EpisodePool, Row, check_workers, resolve_workers

SEEDS = [1_000_000_000, 1_000_000_001, 1_000_000_002]


class Progress:
    """Records what each row's bar was given and how far it was iterated."""

    def __init__(self) -> None:
        self.bars: list[tuple[str, list[int]]] = []

    def __call__(self, seeds: Sequence[int], desc: str) -> Iterator[int]:
        done: list[int] = []
        self.bars.append((desc, done))
        for s in seeds:
            yield s
            done.append(s)


def scored(workers: int) -> tuple[Benchmark, Progress]:
    progress = Progress()
    kw = role_env_kwargs("toy", "households")
    bench = score(kw, SEEDS, controllers=("random", "prototype", "baseline", "storage"),
                  progress=progress, workers=workers)
    return bench, progress


def test_workers_score_the_serial_episodes_tables_and_progress() -> None:
    serial, bars = scored(0)
    pooled, pooled_bars = scored(2)
    assert list(serial.episodes) == ["random", "prototype", "baseline"]
    # repr: exact floats, and NaN (the bound of all but the prototype) compares equal
    assert repr(pooled.episodes) == repr(serial.episodes)
    assert [e.seed for e in pooled.episodes["random"][0]] == SEEDS
    assert pooled.labels == serial.labels and pooled.skipped == serial.skipped
    assert markdown(pooled) == markdown(serial)
    assert summary_row(pooled) == summary_row(serial)
    assert market_row(pooled) == market_row(serial)
    # every row's bar ran to the end; the kind that cannot drive a household is skipped
    # the same way (its bar stopped at the failing seed in the serial run)
    assert [b for b in pooled_bars.bars if "storage" not in b[0]] == \
        [b for b in bars.bars if "storage" not in b[0]]
    assert all(done == SEEDS for desc, done in pooled_bars.bars if "storage" not in desc)
    assert "needs a battery" in pooled.skipped["storage"]


class Refuses:
    """A controller that cannot drive the env (as a hand-coded kind without its asset)."""

    name = "refuses"
    controlled_by: str | None = None

    def check(self, env: Any) -> None:
        raise ValueError("refuses: no asset to drive")


class Breaks:
    """A controller with a bug: fails on its first decision."""

    name = "ppo"
    controlled_by: str | None = None

    def __init__(self, kind: type[Exception]) -> None:
        self.kind = kind

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[Any, Any]:
        raise self.kind(f"broken at {len(observation)} learners")


def outcome(pool: EpisodePool, i: int) -> Any:
    try:
        return [e.seed for e in pool.result(i)]
    except Exception as exc:  # noqa: BLE001 - the outcome compared is the exception itself
        return type(exc), str(exc)


def test_a_failing_controller_in_a_worker_raises_what_the_serial_path_raises() -> None:
    from rex_env.eval.policies import HandCodedPolicy

    kw = role_env_kwargs("toy", "households")
    rows = [Row("refuses", Refuses(), kw, SEEDS[:2]),
            Row("prototype", HandCodedPolicy("intermittent"), kw, SEEDS[:2]),
            Row("breaks", Breaks(RuntimeError), kw, SEEDS[:2])]
    results = []
    for workers in (0, 2):
        with EpisodePool(rows, workers) as pool:
            assert pool.workers == workers
            results.append([outcome(pool, i) for i in range(len(rows))])
    assert results[0] == results[1] == [(ValueError, "refuses: no asset to drive"), SEEDS[:2],
                                        (RuntimeError, "broken at 2 learners")]


class BrokenRun(Run):
    """A run whose policy passes the checks but fails inside the episode."""

    def policy(self) -> Any:
        return Breaks(ValueError)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_value_error_of_ppo_is_raised_and_of_a_hand_coded_kind_skipped(workers: int) -> None:
    kw = role_env_kwargs("toy", "households")
    bench = score(kw, SEEDS[:2], controllers=("prototype", "storage"), workers=workers)
    assert "storage" in bench.skipped and "prototype" in bench.episodes
    run = BrokenRun(Path("nowhere"), {"env_kwargs": kw, "role": "households"})
    with pytest.raises(ValueError, match="^broken at 2 learners$"):
        score(kw, SEEDS[:2], [run], controllers=("prototype", "ppo"), workers=workers)


@pytest.mark.parametrize("bad", [-2, True, 1.5, "2"])
def test_bad_workers_are_refused_before_any_work(bad: Any, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="workers must be -1"):
        check_workers(bad)
    kw = role_env_kwargs("toy", "households")
    with pytest.raises(ValueError, match="workers must be -1"):
        score(kw, SEEDS, controllers=("prototype",), workers=bad)
    out = tmp_path / "never"
    assert evaluate.main(["--role", "households", "--scenario", "toy", "--workers", "-2",
                          "--out", str(out)]) == 2
    assert "--workers must be -1 (one process per core), 0 (in this process)" \
        in capsys.readouterr().err
    assert not out.exists()


def test_workers_are_capped_by_the_episodes_and_one_is_serial() -> None:
    assert resolve_workers(8, 3) == 3
    assert resolve_workers(2, 1) == 0 and resolve_workers(1, 10) == 0
    assert resolve_workers(0, 10) == 0
    assert 0 <= resolve_workers(-1, 10) <= 10


def test_a_learned_policy_reaches_a_worker_as_its_paths() -> None:
    """The recipe is the class and the run's paths (not the pickled model); sampled actions
    are seeded per episode, so a worker draws what this process draws."""
    import pickle

    from gymnasium import spaces

    from rex_env.eval.parallel import recipe
    from rex_env.eval.policies import LearnedPolicy, RandomPolicy

    policy = LearnedPolicy.__new__(LearnedPolicy)
    policy._args = (Path("runs/x"), None, None, "ppo")
    how = recipe(policy)
    assert how == ("recipe", LearnedPolicy, (Path("runs/x"), None, None, "ppo"))
    assert len(pickle.dumps(how)) < 500
    rnd = RandomPolicy(spaces.Box(-1, 1, (2,)))
    assert recipe(rnd)[0] == "object"
    a, b = pickle.loads(pickle.dumps(rnd)), rnd
    a.reset(5)
    b.reset(5)
    assert np.array_equal(a.predict(np.zeros((3, 4)))[0], b.predict(np.zeros((3, 4)))[0])
