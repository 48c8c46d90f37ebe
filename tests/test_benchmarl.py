"""BenchMARL (issue 14): MAPPO (centralised critic on ``state()``) and IPPO train on the env
through :mod:`rex_env.envs.benchmarl` for a few iterations.

Needs BenchMARL (``pip install "rex-env[benchmarl]"``; ``make test-benchmarl`` installs it in
its own venv); without it every test here is skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("benchmarl", reason="BenchMARL is not installed: pip install "
                                        "'rex-env[benchmarl]' (make test-benchmarl installs it)")

import torch  # noqa: E402
from benchmarl.algorithms import IppoConfig, MappoConfig  # noqa: E402
from benchmarl.experiment import Experiment, ExperimentConfig  # noqa: E402
from benchmarl.models.mlp import MlpConfig  # noqa: E402

from rex_env.envs.benchmarl import rex_task  # noqa: E402

ITERS = 2


def _config(tmp_path: Path, steps: int, continuous: bool) -> ExperimentConfig:
    cfg = ExperimentConfig.get_from_yaml()
    cfg.max_n_iters = ITERS
    cfg.max_n_frames = None
    cfg.prefer_continuous_actions = continuous
    cfg.on_policy_collected_frames_per_batch = 2 * steps  # two days per iteration
    cfg.on_policy_n_envs_per_worker = 1
    cfg.on_policy_n_minibatch_iters = 1
    cfg.on_policy_minibatch_size = steps
    cfg.evaluation = False
    cfg.render = False
    cfg.loggers = []
    cfg.create_json = False
    cfg.checkpoint_at_end = False
    cfg.save_folder = str(tmp_path)
    return cfg


@pytest.mark.parametrize(("algorithm", "continuous"), [
    pytest.param(MappoConfig, True, id="mappo-box"),
    pytest.param(MappoConfig, False, id="mappo-discrete-masked"),
    pytest.param(IppoConfig, True, id="ippo-box"),
])
def test_a_few_iterations_train(tmp_path: Path, algorithm: Any, continuous: bool) -> None:
    task = rex_task(scenario="toy")
    torch.manual_seed(0)
    exp = Experiment(task=task, algorithm_config=algorithm.get_from_yaml(),
                     model_config=MlpConfig.get_from_yaml(),
                     critic_model_config=MlpConfig.get_from_yaml(), seed=0,
                     config=_config(tmp_path, 14, continuous))
    before = [p.detach().clone() for p in exp.policy.parameters()]
    exp.run()
    assert exp.n_iters_performed == ITERS
    assert exp.total_frames == ITERS * 2 * 14
    after = list(exp.policy.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True)), \
        "the policy did not change"


def test_the_task_validates_its_keywords() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        rex_task(scenario="toy", bogus=1)
