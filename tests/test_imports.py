"""No import circles in the package: its modules form a layered graph.

Every module of ``python/attartm`` is parsed with ``ast`` and every import of an attartm
module is collected, wherever it stands: at the top, inside a function (a late import
that closes a circle is still a circle, only hidden until the function runs), and inside
``if TYPE_CHECKING:`` blocks. Those last do not run, so they cannot make a circle at run
time; they count all the same, because a module that needs another's names for its
annotations depends on it, and a graph without them would let a circle of concepts
stand behind a flag. ``from . import x`` counts as an import of ``attartm.x`` (a
module or, where ``x`` is no module, the package that defines it); ``attartm._core``
is the compiled extension, a leaf. The package root ``attartm/__init__.py`` is a node
like the others: it imports the public names of every module, so a module that imports
``attartm`` itself closes a circle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "attartm"


def module_name(path: Path) -> str:
    """The dotted name of a source file of the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name (the root included)."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    """The absolute module a ``from … import`` names (relative levels resolved)."""
    if node.level == 0:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The attartm modules ``path`` imports, at any nesting level."""
    current = module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def add(name: str) -> None:
        # `import attartm.a.b` imports attartm.a.b; keep the longest known prefix.
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name.startswith("attartm"):
            found.add(name)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            target = resolve(node, current, is_package)
            for alias in node.names:
                # `from pkg import mod` imports the module pkg.mod when there is one.
                submodule = f"{target}.{alias.name}"
                add(submodule if submodule in known or submodule == "attartm._core" else target)
    found.discard(current)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the attartm modules it imports (the compiled ``_core`` as a leaf)."""
    modules = package_modules()
    known = set(modules) | {"attartm._core"}
    graph = {name: imported_modules(path, known) for name, path in modules.items()}
    graph["attartm._core"] = set()
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports as a path that ends where it began, or None."""
    unvisited, on_stack, done = 0, 1, 2
    state = dict.fromkeys(graph, unvisited)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = on_stack
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt, done) == on_stack:
                return [*stack[stack.index(nxt) :], nxt]
            if state.get(nxt) == unvisited and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = done
        return None

    for node in sorted(graph):
        if state[node] == unvisited and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert "attartm._core" in graph["attartm.kernels"]  # `from . import _core`
    assert "attartm.artm" in graph["attartm.cli"]  # `from .artm import ARTM`
    assert "attartm.polars" in graph["attartm"]  # `from . import polars as …`
    assert "attartm.streaming" in graph["attartm.corpus"]  # `from . import …, streaming`
    assert len(graph) > 20


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def all_cycles(graph: dict[str, set[str]], most: int = 20) -> list[list[str]]:
    """Circles of imports, one after another: each found circle's closing import is taken
    out of the graph before the next is looked for, so every circle is reported once."""
    graph = {node: set(targets) for node, targets in graph.items()}
    cycles = []
    while len(cycles) < most and (cycle := find_cycle(graph)):
        cycles.append(cycle)
        graph[cycle[-2]].discard(cycle[-1])
    return cycles


def test_the_cycle_finder_reports_every_circle():
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": {"b"}}
    assert all_cycles(graph) == [["a", "b", "a"], ["b", "c", "b"]]


def test_no_module_of_the_package_takes_part_in_an_import_circle():
    cycles = all_cycles(import_graph())
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_importing_the_package_leaves_out_optional_heavy_modules():
    """``import attartm`` (every process of the command line pays it) does not import
    scipy, sklearn, gensim, ray or tqdm: they are imported by the functions that need
    them (tqdm by the first progress bar that is shown). (Not asyncio as well: tqdm
    brings it, but so does polars through some versions of typing_extensions.)"""
    heavy = ("scipy", "sklearn", "gensim", "ray", "tqdm")
    code = (
        f"import sys, attartm, attartm.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tqdm_is_imported_only_when_a_bar_is_shown():
    """A progress bar that is off (``enabled=False``, or ``None`` off a terminal, as in
    this child whose standard error is a pipe) iterates without importing tqdm; one that
    is on imports it and draws on standard error."""
    code = (
        "import sys\n"
        "from attartm._progress import progress\n"
        "assert list(progress(range(3), enabled=False, desc='off')) == [0, 1, 2]\n"
        "assert list(progress(range(3), enabled=None, desc='auto')) == [0, 1, 2]\n"
        "print('tqdm' in sys.modules)\n"
        "assert list(progress(range(3), enabled=True, desc='counting')) == [0, 1, 2]\n"
        "print('tqdm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    assert "counting" in out.stderr and "auto" not in out.stderr and "off" not in out.stderr
