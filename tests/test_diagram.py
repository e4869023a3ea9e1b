"""The README's state diagram is the one drawn from the journey's tables, not a stale copy."""

from pathlib import Path

from flows.diagram import embedded_in, readme_block
from flows.journey import STATES

README = Path(__file__).parent.parent / "README.md"


def test_the_readme_diagram_matches_the_journey() -> None:
    assert embedded_in(README.read_text()) == readme_block(), "run `make diagram` to redraw it"


def test_the_diagram_shows_every_state() -> None:
    block = readme_block()
    assert [state for state in STATES if f'state "{state}"' not in block] == []
