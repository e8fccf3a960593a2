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
                                          ("core", "arithmetic", "functions", "reductions", "shapes", "windows",
                                           "lookups")}
    assert not any(m.startswith(("tinygrad_lite.show", "tinygrad_lite.programs", "tinygrad_lite.cli"))
                   for m in graph["tinygrad_lite.value"] | graph["tinygrad_lite.backward"])


def test_every_module_is_readable_in_one_sitting():
    # value.py alone may be longer: the whole Value, every method written out, is read in one place (DESIGN.md)
    limits = {"tinygrad_lite.value": 1010}
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text().splitlines())) > limits.get(name, 430)}
    assert not long, f"modules over about 400 lines: {long}"
    for old in ALIASES:  # no module at the package's root only points to another
        assert not (PACKAGE / f"{old}.py").exists(), old


def _calls(path):
    """The names of everything the module calls: `f(...)` as "f", `a.b(...)` as "a.b"."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name):
                names.add(f.id)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                names.add(f"{f.value.id}.{f.attr}")
    return names


def test_the_engine_uses_no_stack_frame_tricks_and_no_generated_code_outside_the_replay():
    for name, path in _modules().items():
        calls = _calls(path)
        assert not {"sys._getframe", "inspect.currentframe"} & calls, f"{name} inspects the caller's frame"
        if name != "tinygrad_lite.replay":
            assert not {"exec", "eval", "compile"} & calls, f"{name} runs generated code"


def test_value_is_one_class_written_out_and_nothing_is_attached_to_it_later():
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
                target = node.args[0] if node.args else None
                assert not (isinstance(target, ast.Name) and target.id == "Value"), f"{name} attaches to Value"
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    assert not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and
                                t.value.id == "Value"), f"{name} assigns an attribute of Value"
    assert "TYPE_CHECKING" not in (PACKAGE / "value.py").read_text()


def test_importing_the_package_changes_nothing_outside_it():
    """No module calls into the C allocator (or anything) at import: memory.tune() is only defined there, and only
    the command line's trainings call it (tests/test_memory.py checks the allocator in fresh processes)."""
    tree = ast.parse((PACKAGE / "memory.py").read_text())
    top_level_calls = [node for stmt in tree.body if not isinstance(stmt, (ast.FunctionDef, ast.ClassDef))
                       for node in ast.walk(stmt) if isinstance(node, ast.Call)]
    assert not top_level_calls, "memory.py calls something at import"
    callers = {name for name, path in _modules().items() if "memory.tune" in _calls(path)}
    assert callers == {"tinygrad_lite.cli"}, callers
