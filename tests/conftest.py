"""Hypothesis profiles: ``ci`` (thorough, set env CI) and ``dev`` (quick, the default); SB3's
scratch folder kept inside pytest's own temporary tree."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=200)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True, scope="session")
def _sb3_logdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """SB3 makes a folder ``$TMPDIR/SB3-<time>`` per model without a log folder; keep them in
    pytest's tree (pruned after three runs) instead of leaving one per test in /tmp."""
    saved = os.environ.get("SB3_LOGDIR")
    os.environ["SB3_LOGDIR"] = str(tmp_path_factory.mktemp("sb3"))
    yield
    if saved is None:
        os.environ.pop("SB3_LOGDIR", None)
    else:
        os.environ["SB3_LOGDIR"] = saved
