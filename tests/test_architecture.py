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
