"""The report as one self-contained HTML page: the tables, a funnel chart and a time-per-step chart.

The charts are drawn by matplotlib (its SVG backend, no display, no pyplot state) and inlined in the
page, text kept as text; no script, no font, no style sheet from elsewhere: the page opens offline.
It reads on a phone without scrolling sideways: below 56rem (where the help table's seven columns no
longer fit) each table row becomes its heading over label/value lines; the charts scale to the
screen's width.
"""

import io
from html import escape
from typing import Any

from bot.report_sections import Section, heading, sections, step_names
from flows.catalogue import Catalogue

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:64rem;padding:1rem;
color:#1d232a;line-height:1.4}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}h1,h2{overflow-wrap:anywhere}
figure{margin:1rem 0;max-width:42rem}figure svg{width:100%;height:auto;display:block}
table{border-collapse:collapse;font-size:.9rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid #d6dbe0;text-align:right;vertical-align:bottom}
th:first-child{text-align:left}th[scope=row]{font-weight:normal}td{white-space:nowrap}
ul.lines{list-style:none;padding:0;font-size:.9rem}
ul.lines li{padding:.3rem 0;border-bottom:1px solid #d6dbe0;overflow-wrap:anywhere}
p.note{color:#56606b;font-size:.85rem}
@media (max-width:56rem){
thead{display:none}table,tbody,tr,th,td{display:block}
tr{padding:.4rem 0;border-bottom:1px solid #d6dbe0}th,td{border:0;padding:.1rem 0}
th[scope=row]{font-weight:600}td{display:flex;justify-content:space-between;gap:1rem;white-space:normal}
td::before{content:attr(data-label);text-align:left;color:#56606b}
}
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
    """A table whose every cell names its column (data-label): a narrow screen shows each row as its
    heading over label/value lines (STYLE) instead of a table wider than the screen. A section
    without columns (the comments) is a list of lines."""
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in section.notes)
    if not section.header:
        lines = "".join(f"<li>{escape(line)}</li>" for (line,) in section.rows)
        return f'<section><h2>{escape(section.title)}</h2><ul class="lines">{lines}</ul>{notes}</section>'
    head = "".join(f'<th scope="col">{escape(cell)}</th>' for cell in section.header)
    rows = "".join(f'<tr><th scope="row">{escape(row[0])}</th>'
                   + "".join(f'<td data-label="{escape(label)}">{escape(cell)}</td>'
                             for label, cell in zip(section.header[1:], row[1:])) + "</tr>"
                   for row in section.rows)
    return (f"<section><h2>{escape(section.title)}</h2>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{notes}</section>")


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
