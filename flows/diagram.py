"""The state diagram in Mermaid, drawn by transitions from the journey's own tables.

`python -m flows.diagram` prints it; `--write README.md` puts it between the README's markers.
"""

import argparse
import re
from pathlib import Path

from transitions.extensions import GraphMachine

from flows.assistant import FIRST_STATE
from flows.journey import STATES, TRANSITIONS

START, END = "<!-- state-diagram:start -->", "<!-- state-diagram:end -->"


class _Drawing:
    """A bare model: the diagram needs one to hang the graph on."""


def mermaid() -> str:
    model = _Drawing()
    GraphMachine(model=model, states=list(STATES), transitions=TRANSITIONS, initial=FIRST_STATE,
                 auto_transitions=False, show_conditions=True, graph_engine="mermaid",
                 title="Flex setup assistant")
    return model.get_graph().draw(None)  # type: ignore[attr-defined]


def readme_block() -> str:
    return f"{START}\n```mermaid\n{mermaid().strip()}\n```\n{END}"


def embedded_in(text: str) -> str | None:
    match = re.search(re.escape(START) + ".*?" + re.escape(END), text, re.S)
    return match.group(0) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="replace the diagram between the markers of this file")
    target = parser.parse_args().write
    if target is None:
        print(mermaid())
        return
    text = target.read_text()
    if embedded_in(text) is None:
        raise SystemExit(f"{target} has no {START} … {END} markers")
    target.write_text(text.replace(embedded_in(text), readme_block()))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
