"""STYLE practice 1: the market knows nothing of RL — the exchange imports stdlib + numpy only."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

RL_PACKAGES = ("gymnasium", "pettingzoo", "torch", "stable_baselines3")

# ``rex_env/__init__.py`` registers the envs with Gymnasium and PettingZoo (issue 14), so the
# probe stands in an empty ``rex_env`` package: what loads is the exchange's own import closure.
PROBE = """
import importlib.util, json, sys, types
pkg = types.ModuleType("rex_env")
pkg.__path__ = list(importlib.util.find_spec("rex_env").submodule_search_locations)
sys.modules["rex_env"] = pkg
import rex_env.exchange
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


@pytest.fixture(scope="module")
def loaded() -> set[str]:
    """Top-level modules loaded by ``import rex_env.exchange`` in a fresh interpreter, without
    the package's own ``__init__`` (which registers the envs)."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    return set(json.loads(out.stdout))


def test_importing_the_exchange_loads_no_rl_library(loaded):
    assert "rex_env" in loaded
    assert not loaded & set(RL_PACKAGES), f"exchange imported {sorted(loaded & set(RL_PACKAGES))}"


def test_importing_the_exchange_loads_only_the_standard_library_and_numpy(loaded):
    third_party = {
        m for m in loaded
        if m not in sys.stdlib_module_names and not m.startswith("_") and m not in (
            "numpy", "rex_env", "cython_runtime")  # the C core's own runtime module
    }
    assert not third_party, f"exchange imported third-party modules {sorted(third_party)}"


def test_exchange_source_imports_only_the_standard_library_numpy_and_itself():
    import rex_env.exchange

    package = Path(rex_env.exchange.__file__).parent
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: inside rex_env.exchange
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "numpy", (
                    f"{path.name} imports {name}")
