"""The package's shape: no import cycle in dlbook (function-local imports, modules named in strings
and parent packages included), dlbook never imports chapters/ but to run the section a user names,
and no function over 60 lines or module over 450 lines in dlbook/ and chapters/. Parsed with ast.

On the code before this test (121fd8a) it finds dlbook.entry -> dlbook.notebook -> dlbook.entry and
dlbook.cli naming chapters.ch01.s1_10_6_chatbot."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION, MAX_MODULE = 60, 450


def _modules(*folders):
    """{dotted name: path} of every module under ``folders``."""
    found = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules("dlbook", "chapters")


def _docstrings(tree):
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def _named(name, module):
    """The modules ``module``'s import of ``name`` runs: the module (or package) and its parent
    packages, but for ``module``'s own packages (those ran before ``module`` itself)."""
    parts, own = name.split("."), module.split(".")
    named = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return named & set(MODULES) - {".".join(own[:i]) for i in range(1, len(own) + 1)}


def imports(module):
    """Every module ``module`` imports: at the top, inside functions, or by dotted name in a string
    (importlib, lazy export tables); importing ``a.b.c`` imports the packages ``a`` and ``a.b`` too."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    skip, found = _docstrings(tree), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {m for alias in node.names for m in _named(alias.name, module)}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found |= _named(base, module)
            found |= {f"{base}.{alias.name}" for alias in node.names} & set(MODULES)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if "." in node.value and node.value in MODULES:  # a dotted name, not a path part
                found |= _named(node.value, module)
    return found - {module}


GRAPH = {module: imports(module) for module in MODULES}


def find_cycle(graph):
    """One import cycle of ``graph`` as a list of modules (first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_in_dlbook():
    package = {m: {n for n in GRAPH[m] if n.startswith("dlbook")} for m in MODULES if m.startswith("dlbook")}
    cycle = find_cycle(package)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_sees_function_local_and_string_imports(tmp_path, monkeypatch):
    """entry.py, notebook.py and plots.py once imported each other inside functions: such an edge,
    and a module named in a string, count like a top-level import."""
    fake = tmp_path / "fake.py"
    fake.write_text('"""A module."""\n\ndef f():\n    from dlbook.cli import entry\n    return "dlbook.plots"\n')
    monkeypatch.setitem(MODULES, "dlbook.fake", fake)
    assert imports("dlbook.fake") == {"dlbook.cli", "dlbook.cli.entry", "dlbook.plots"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_dlbook_imports_chapters_only_to_run_a_section():
    """The section runner (dlbook.cli) imports a section by the name the sections table builds at
    run time; no module of dlbook imports or names a module of chapters/ (`dlbook chat` once did)."""
    for module in (m for m in MODULES if m.startswith("dlbook")):
        reached = {n for n in GRAPH[module] if n.startswith("chapters")}
        assert not reached, f"{module} imports {sorted(reached)}"
    assert "chapters.ch01.{s.module}" in MODULES["dlbook.cli.sections"].read_text()


def _lengths():
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        yield module, None, len(path.read_text(encoding="utf-8").splitlines())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield module, node.name, node.end_lineno - node.lineno + 1


def _too_long(kind):
    limit = MAX_MODULE if kind == "module" else MAX_FUNCTION
    return {f"{module}{'' if name is None else '.' + name}": n
            for module, name, n in _lengths() if (name is None) == (kind == "module") and n > limit}


@pytest.mark.parametrize("kind, limit", [("module", MAX_MODULE), ("function", MAX_FUNCTION)])
def test_no_long_module_or_function(kind, limit):
    long = _too_long(kind)
    assert not long, f"{kind}s over {limit} lines:\n" + "\n".join(f"{k}: {n} lines" for k, n in long.items())

