"""The import graph of `qa`: which module imports which, by layer, with cycles and upward imports.

    python tests/import_graph.py        # prints the listing; exit status 1 on a violation

Layers, lowest first; a module may import from its own layer or lower ones only (the
imports inside functions and under TYPE_CHECKING count too):
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "qa"
LAYERS = (
    ("base", ("qa.errors", "qa.types", "qa.config", "qa.files", "qa.lazy", "qa.text", "qa.models")),
    ("ingest", ("qa.ingest",)),
    ("indexing", ("qa.indexing", "qa.distributed")),  # distributed: sharded builds and search
    ("retrieve", ("qa.retrieve",)),
    ("read", ("qa.read",)),
    ("answer", ("qa.answer",)),
    ("reply", ("qa.reply",)),
    ("entry", ("qa.api", "qa.cli", "qa.__main__", "qa")),
)


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    imports: tuple[str, ...]


def modules() -> dict[str, Module]:
    """Every module of the package with the `qa` modules it imports."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    out = {}
    for name, path in found.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(a.name for a in node.names if a.name.split(".")[0] == "qa")
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "qa":
                for alias in node.names:  # "from qa.indexing import store" imports a module
                    sub = f"{node.module}.{alias.name}"
                    imported.add(sub if sub in found else node.module)
        out[name] = Module(name, path, tuple(sorted(imported - {name})))
    return out


def layer_of(name: str) -> int:
    """The layer number of a module (the longest matching prefix decides)."""
    best, length = -1, -1
    for number, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > length:
                best, length = number, len(prefix)
    if best < 0:
        raise ValueError(f"module {name} belongs to no layer; add it to LAYERS in {__file__}")
    return best


def upward_imports(graph: dict[str, Module]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where a lower layer imports a higher one."""
    return [(m.name, i) for m in graph.values() for i in m.imports if layer_of(i) > layer_of(m.name)]


def cycles(graph: dict[str, Module]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v].imports:
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def largest_function(graph: dict[str, Module]) -> tuple[str, int]:
    """The longest function or method in lines, as ("module:name", lines)."""
    best = ("", 0)
    for module in graph.values():
        for node in ast.walk(ast.parse(module.path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > best[1]:
                    best = (f"{module.name}:{node.name}", lines)
    return best


def main() -> int:
    graph = modules()
    for number, (layer, _) in enumerate(LAYERS):
        print(f"layer {number} {layer}")
        for name in sorted(n for n in graph if layer_of(n) == number):
            lines = len(graph[name].path.read_text(encoding="utf-8").splitlines())
            print(f"  {name} ({lines} lines) <- {', '.join(graph[name].imports) or '-'}")
    upward, loops = upward_imports(graph), cycles(graph)
    biggest = max(graph.values(), key=lambda m: len(m.path.read_text(encoding="utf-8").splitlines()))
    function, length = largest_function(graph)
    print(f"largest module: {biggest.name} ({len(biggest.path.read_text(encoding='utf-8').splitlines())} lines)")
    print(f"largest function: {function} ({length} lines)")
    print(f"upward imports: {upward or 'none'}")
    print(f"cycles: {loops or 'none'}")
    return 1 if upward or loops else 0


if __name__ == "__main__":
    sys.exit(main())
