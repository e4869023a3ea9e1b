"""Dependencies point inward: the conversation knows nothing of Telegram, TinyDB or the web."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def imported_packages(package: str) -> dict[str, set[str]]:
    """For each module of the package, the top-level packages it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [
    ("flows", {"telegram", "tinydb", "aiohttp", "bot", "storage"}),
    ("storage", {"bot", "telegram"}),
])
def test_a_package_imports_nothing_from_the_layers_outside_it(package: str, forbidden: set[str]) -> None:
    modules = imported_packages(package)
    assert modules, f"no module found in {package}/"
    assert {module: names & forbidden for module, names in modules.items() if names & forbidden} == {}


def test_the_scan_sees_imports() -> None:
    """The check itself works: known imports are found."""
    modules = imported_packages("bot")
    assert "telegram" in modules["bot/telegram_transport.py"] and "flows" in modules["bot/app.py"]


def module_imports() -> dict[str, set[str]]:
    """For each module of ours, the modules of ours it imports, wherever in the file (a
    `TYPE_CHECKING` import is a dependency too)."""
    ours = {str(path.relative_to(ROOT).with_suffix("")).replace("/", ".").removesuffix(".__init__"): path
            for package in ("bot", "flows", "storage") for path in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in ours.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets.add(node.module)
                targets |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
        graph[name] = {target for target in targets if target in ours and target != name}
    return graph


def test_no_module_imports_itself_back_through_others() -> None:
    graph = module_imports()
    assert "flows.helpdesk.plumbing" in graph["flows.helpdesk.agent_turn"]  # the scan sees imports
    cycles = []
    for start in graph:
        path, seen = [start], set()
        stack = [(start, iter(sorted(graph[start])))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
            elif child == start:
                cycles.append(" -> ".join([*path, start]))
            elif child not in seen:
                seen.add(child)
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    assert cycles == []
