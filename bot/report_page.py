"""The report as one self-contained HTML page: the tables, a funnel chart and a time-per-step chart.

The charts are drawn by matplotlib (its SVG backend, no display, no pyplot state) and inlined in the
page, text kept as text; no script, no font, no style sheet from elsewhere: the page opens offline,
and on a phone (viewport set, the charts scale to the screen's width).
"""

import io
from html import escape
from typing import Any

from bot.report_sections import Section, heading, sections, step_names
from flows.catalogue import Catalogue

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;
color:#1d232a;line-height:1.4}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
figure{margin:1rem 0;max-width:42rem}figure svg{width:100%;height:auto;display:block}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid #d6dbe0;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}td.text{white-space:normal;text-align:left}
p.note{color:#56606b;font-size:.85rem}
"""
BARS, LIGHT = "#00815c", "#8fd3b7"  # the product's green, and a lighter one for the 90th percentile


def page(figures: dict[str, Any], texts: Catalogue, zone: str, since: str | None, until: str | None) -> str:
    title = f"{texts.text('report.title')} — {heading(texts, since, until)}"
    parts = [f"<h1>{escape(title)}</h1>"]
    for index, section in enumerate(sections(figures, texts, zone)):
        parts.append(_section(section))
        if index == 0:
            parts.append(f"<figure>{funnel_chart(figures, texts)}</figure>")
            parts.append(f"<figure>{times_chart(figures, texts)}</figure>")
    return (f'<!DOCTYPE html>\n<html lang="{texts.language}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


def _section(section: Section) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in section.header)
    single = not section.header and all(len(row) == 1 for row in section.rows)
    cell = '<td class="text">{}</td>' if single else "<td>{}</td>"
    rows = "".join("<tr>" + "".join(cell.format(escape(c)) for c in row) + "</tr>" for row in section.rows)
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in section.notes)
    table = f'<div class="scroll"><table>{f"<thead><tr>{head}</tr></thead>" if head else ""}<tbody>{rows}</tbody></table></div>'
    return f"<section><h2>{escape(section.title)}</h2>{table}{notes}</section>"


def funnel_chart(figures: dict[str, Any], texts: Catalogue) -> str:
    """How many subscriptions reached each stage, widest at the top."""
    stages = step_names(texts)
    counts = [figures["funnel"][key] for key, _ in stages]
    figure, axes = _figure(len(stages))
    positions = range(len(stages))
    axes.barh(positions, counts, color=BARS)
    axes.set_yticks(list(positions), [label for _, label in stages])
    axes.invert_yaxis()
    for position, count in zip(positions, counts):
        axes.annotate(texts.number(count), (count, position), xytext=(4, 0), textcoords="offset points",
                      va="center", fontsize=10)
    axes.set_title(texts.text("report.chart_funnel"), loc="left", fontsize=12)
    axes.set_xlim(0, max(counts + [1]) * 1.15)
    return _svg(figure)


def times_chart(figures: dict[str, Any], texts: Catalogue) -> str:
    """Median and 90th percentile of the time from opening to each step, in hours or days."""
    stages = [(key, label) for key, label in step_names(texts) if key != "opened"]
    times = [figures["time_to"][key] for key, _ in stages]
    longest = max([t["p90_s"] or 0 for t in times] + [0])
    unit, length = ("report.unit_days", 86400) if longest > 3 * 86400 else ("report.unit_hours", 3600)
    figure, axes = _figure(len(stages))
    positions = [float(p) for p in range(len(stages))]
    height = 0.38
    axes.barh([p - height / 2 for p in positions], [(t["median_s"] or 0) / length for t in times], height,
              color=BARS, label=texts.text("report.col_median"))
    axes.barh([p + height / 2 for p in positions], [(t["p90_s"] or 0) / length for t in times], height,
              color=LIGHT, label=texts.text("report.col_p90"))
    axes.set_yticks(positions, [label for _, label in stages])
    axes.invert_yaxis()
    axes.legend(loc="lower right", fontsize=10, frameon=False)
    axes.set_title(texts.text("report.chart_times", unit=texts.text(unit)), loc="left", fontsize=12)
    return _svg(figure)


def _figure(rows: int) -> tuple[Any, Any]:
    from matplotlib.figure import Figure  # only the HTML page pays for importing it

    figure = Figure(figsize=(5.2, 0.42 * rows + 1.0), layout="constrained")  # narrow: its text stays legible on a phone
    axes = figure.subplots()
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=10)
    return figure, axes


def _svg(figure: Any) -> str:
    """The chart as an inline <svg>: text stays text, no metadata, no XML prologue."""
    from matplotlib import rc_context

    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "font.family": "sans-serif"}):
        figure.savefig(buffer, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]
