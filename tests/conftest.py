"""Hypothesis profiles: ``ci`` (thorough, set env CI) and ``dev`` (quick, the default)."""

import os

from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=200)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
