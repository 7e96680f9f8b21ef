"""The project's modules and the imports between them, read from the source (inside
functions too), as ARCHITECTURE.md's rules for dependencies speak of them."""

import ast
from pathlib import Path

from testing.servers import ROOT

PACKAGES = (
    "accounts",
    "bench",
    "chaos",
    "messaging",
    "notifications",
    "orders",
    "pro_platform",
    "reports",
    "services",
    "testing",
    "tests",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, wherever in the file the import stands; an import of
    a project module that does not exist comes back as `missing:<name>`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            bases = [alias.name for alias in node.names]
            targets = bases
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            bases = [base]
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        else:
            continue
        found.update(
            f"missing:{base}" for base in bases if base.partition(".")[0] in PACKAGES and base not in modules
        )
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_every_import_of_a_project_module_names_one_that_exists():
    missing = {
        name: sorted(i for i in imported if i.startswith("missing:"))
        for name, imported in import_graph().items()
    }
    assert {name: found for name, found in missing.items() if found} == {}


def test_services_and_messaging_modules_stay_small():
    sizes = {
        name: len(path.read_text().splitlines())
        for name, path in project_modules().items()
        if name.startswith(("services.", "messaging."))
    }
    assert {name: lines for name, lines in sizes.items() if lines > 300} == {}


def test_nothing_outside_the_tests_imports_them():
    offenders = {
        name: sorted(i for i in imported if i == "tests" or i.startswith("tests."))
        for name, imported in import_graph().items()
        if not (name == "tests" or name.startswith("tests."))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each a cycle or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while (member := stack.pop()) != module:
                group.append(member)
            if group:
                found.append(sorted([module, *group]))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_one_that_imports_it_back():
    graph = {
        name: {i for i in imported if not i.startswith("missing:")}
        for name, imported in import_graph().items()
    }
    assert cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
