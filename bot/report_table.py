"""The report in the terminal: each section a table with aligned columns."""

from typing import Any

from bot.report_sections import Section, heading, sections
from flows.catalogue import Catalogue


def table(figures: dict[str, Any], texts: Catalogue, zone: str, since: str | None, until: str | None) -> str:
    lines = [f"{texts.text('report.title')} — {heading(texts, since, until)}"]
    for section in sections(figures, texts, zone):
        lines += ["", section.title, *_aligned(section)]
        lines += [f"  {note}" for note in section.notes]
    return "\n".join(lines)


def _aligned(section: Section) -> list[str]:
    """The first column to the left, numbers to the right, so figures line up."""
    grid = ([section.header] if section.header else []) + section.rows
    widths = [max(len(row[i]) for row in grid if i < len(row)) for i in range(max(map(len, grid)))]
    return ["  " + "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i])
                             for i, cell in enumerate(row)).rstrip() for row in grid]
