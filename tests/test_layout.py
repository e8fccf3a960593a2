"""The package's shape: every import arrow points down (no cycles), and each module is readable in one sitting."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_lite"
ALIASES = {"viz", "explain", "page", "tutorials", "demos", "fit", "plots"}  # old paths, gone: one import path each


def _modules():
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name, path, modules):
    """The package modules that `name` imports, at module level or inside functions."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {m for m in found if m in modules and m != name}


def test_no_module_imports_in_a_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) - {"tinygrad_lite"} for name, path in modules.items()}
    state, cycles = {}, []

    def visit(name, trail):
        state[name] = "open"
        for dep in sorted(graph[name]):
            if state.get(dep) == "open":
                cycles.append(trail[trail.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, trail + [dep])
        state[name] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert not cycles, f"import cycles: {cycles}"
    assert graph["tinygrad_lite.ops"] <= {f"tinygrad_lite.ops.{f}" for f in
                                          ("core", "arithmetic", "functions", "reductions", "shapes", "windows")}
    assert not any(m.startswith(("tinygrad_lite.show", "tinygrad_lite.programs", "tinygrad_lite.cli"))
                   for m in graph["tinygrad_lite.value"] | graph["tinygrad_lite.backward"])


def test_every_module_is_readable_in_one_sitting():
    # value.py alone may be longer: the whole Value, every method written out, is read in one place (DESIGN.md)
    limits = {"tinygrad_lite.value": 1000}
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text().splitlines())) > limits.get(name, 430)}
    assert not long, f"modules over about 400 lines: {long}"
    for old in ALIASES:  # no module at the package's root only points to another
        assert not (PACKAGE / f"{old}.py").exists(), old
