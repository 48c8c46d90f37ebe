"""The package's layers, enforced (STYLE.md practice 15; README "Layout").

Every import of every module counts — top-level, inside a function (lazy) and under
``TYPE_CHECKING`` — because each of them is an arrow a reader has to follow. A module may import
only modules of its own layer or of a layer below it, and no two packages may import each other
(a cycle), whatever the layer table says.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: tuple[tuple[str, ...], ...] = (
    # lowest first; a name is a module or a package prefix
    ("rex_env.exchange", "rex_env._core", "rex_env.physics"),
    ("rex_env.spec",),
    ("rex_env.sim", "rex_env.replay"),
    ("agents",),
    ("rex_env.scenarios",),
    ("rex_env.envs", "rex_env.classroom"),
    ("rex_env.plots",),
    ("rex_env.simulate", "rex_env.rllib", "rex_env.demo", "rex_env"),
)
"""The order of the README's layout section, lowest first."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    out = {}
    for top in ("rex_env", "agents"):
        for path in sorted((ROOT / top).rglob("*.py")):
            out[_module_name(path)] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Every module this one names in an import, anywhere in its body, resolved to absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            # "from pkg import sub" names a submodule when one exists
            found.update(f"{mod}.{alias.name}" for alias in node.names)
    return found


def _layer(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for i, names in enumerate(LAYERS):
        for prefix in names:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), i)
    return None if best is None else best[1]


def _package(module: str) -> str:
    """The unit a cycle is measured on: the sub-package (``rex_env.sim``) or top module. The
    compiled engine (``rex_env._core``) and the reference it stands in for are one unit: the
    exchange selects the engine, the engine reuses the reference's records."""
    parts = module.split(".")
    unit = ".".join(parts[:2]) if parts[0] == "rex_env" else parts[0]
    return "rex_env.exchange" if unit == "rex_env._core" else unit


MODULES = _modules()
EDGES = {name: {m for m in _imports(name, path) if m in MODULES and m != name}
         for name, path in MODULES.items()}


def test_every_module_has_a_layer() -> None:
    missing = [m for m in MODULES if _layer(m) is None]
    assert not missing, f"modules outside the layer table: {missing}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    here = _layer(module)
    assert here is not None
    upward = sorted(m for m in EDGES[module]
                    if (there := _layer(m)) is not None and there > here
                    and not module.startswith(m + ".") and m != "rex_env")
    assert not upward, f"{module} (layer {here}) imports from a higher layer: {upward}"


def test_no_package_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for src, targets in EDGES.items():
        a = _package(src)
        for t in targets:
            b = _package(t)
            if a != b and b != "rex_env" and a != "rex_env":
                graph.setdefault(a, set()).add(b)
    cycles = []
    for a, outs in graph.items():
        for b in outs:
            if a in _reachable(graph, b):
                cycles.append(tuple(sorted((a, b))))
    assert not cycles, f"package import cycles: {sorted(set(cycles))}"


def test_no_module_cycles() -> None:
    """Inside a package too (``envs.parallel`` <-> ``envs.render`` was one): a package's
    ``__init__`` re-exporting its own modules is not a cycle, so it is left out."""
    graph = {m: {t for t in ts if not m.startswith(t + ".") and not t.startswith(m + ".")}
             for m, ts in EDGES.items() if not MODULES[m].name == "__init__.py"}
    cycles = sorted({tuple(sorted((a, b))) for a, outs in graph.items() for b in outs
                     if a in _reachable(graph, b)})
    assert not cycles, f"module import cycles: {cycles}"


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        for m in graph.get(n, ()):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


def test_the_checker_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    src = tmp_path / "mod.py"
    src.write_text("from typing import TYPE_CHECKING\n"
                   "if TYPE_CHECKING:\n    from rex_env.envs import parallel\n"
                   "def f():\n    import agents.zi\n", encoding="utf-8")
    found = _imports("rex_env.exchange.mod", src)
    assert {"rex_env.envs", "rex_env.envs.parallel", "agents.zi"} <= found
