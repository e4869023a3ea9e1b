"""The report as one self-contained HTML page: the tables, a funnel chart and a time-per-step chart.

The charts are drawn by matplotlib (its SVG backend, no display, no pyplot state) and inlined in the
page, text kept as text; no script, no font, no style sheet from elsewhere: the page opens offline.
It reads on a phone without scrolling sideways: below 56rem (where the help table's seven columns no
longer fit) each table row becomes its heading over label/value lines, and the charts, drawn narrow
with their labels above the bars, keep their text about the size of the page's.
"""

import io
from html import escape
from typing import TYPE_CHECKING, Any

from babel.numbers import format_decimal

from bot.report_sections import Section, heading, sections, step_names
from flows.catalogue import Catalogue

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:64rem;padding:1rem;
color:#1d232a;line-height:1.4}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}h1,h2{overflow-wrap:anywhere}
figure{margin:1.5rem 0;max-width:27rem}figure svg{width:100%;height:auto;display:block}
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
TEXT, TITLE = 11, 12.5  # points of a 4-inch-wide chart: about 13 and 15 CSS pixels once shrunk to a phone's width
BAND = 0.5  # the share of each row its bars take; the rest holds its label


def page(figures: dict[str, Any], texts: Catalogue, zone: str, since: str | None, until: str | None) -> str:
    title = f"{texts.text('report.title')} — {heading(texts, since, until)}"
    parts = [f"<h1>{escape(title)}</h1>"]
    for index, section in enumerate(sections(figures, texts, zone)):
        parts.append(_section(section))
        if index == 0:
            parts += [f"<figure>{_svg(chart(figures, texts))}</figure>" for chart in (funnel_chart, times_chart)]
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


def funnel_chart(figures: dict[str, Any], texts: Catalogue) -> "Figure":
    """How many subscriptions reached each stage, widest at the top."""
    stages = step_names(texts)
    counts = [figures["funnel"][key] for key, _ in stages]
    figure, axes = _figure(texts, [label for _, label in stages], 0.5)
    axes.barh(range(len(stages)), counts, BAND, color=BARS)
    for position, count in enumerate(counts):
        axes.annotate(texts.number(count), (count, position), xytext=(4, 0), textcoords="offset points",
                      va="center", fontsize=TEXT)
    axes.set_title(texts.text("report.chart_funnel"), loc="left", fontsize=TITLE)
    axes.set_xlim(0, max(counts + [1]) * 1.2)
    axes.xaxis.set_major_locator(_ticks(integer=True))
    return figure


def times_chart(figures: dict[str, Any], texts: Catalogue) -> "Figure":
    """Median and 90th percentile of the time from opening to each step, in hours or days."""
    stages = [(key, label) for key, label in step_names(texts) if key != "opened"]
    times = [figures["time_to"][key] for key, _ in stages]
    longest = max([t["p90_s"] or 0 for t in times] + [0])
    unit, length = ("report.unit_days", 86400) if longest > 3 * 86400 else ("report.unit_hours", 3600)
    figure, axes = _figure(texts, [label for _, label in stages], 0.72)
    for shift, key, colour, name in ((-BAND / 4, "median_s", BARS, "report.col_median"),
                                     (BAND / 4, "p90_s", LIGHT, "report.col_p90")):
        axes.barh([p + shift for p in range(len(stages))], [(t[key] or 0) / length for t in times], BAND / 2,
                  color=colour, label=texts.text(name))
    figure.legend(loc="outside lower left", ncols=2, fontsize=TEXT, frameon=False)  # under the axis: covers no bar
    axes.set_title(texts.text("report.chart_times", unit=texts.text(unit)), loc="left", fontsize=TITLE)
    axes.xaxis.set_major_locator(_ticks(integer=False))
    return figure


def _figure(texts: Catalogue, rows: list[str], inches_per_row: float) -> tuple["Figure", "Axes"]:
    """A narrow figure (4 inches: its text keeps about its size on a phone), one row of bars per label,
    each label above its bars rather than beside them so the bars keep the whole width, and the
    axis's numbers written as the page's language writes them (« 0,25 »)."""
    from matplotlib.figure import Figure  # only the HTML page pays for importing it
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(4.0, inches_per_row * len(rows) + 1.0), layout="constrained")
    axes = figure.subplots()
    axes.spines[["top", "right", "left"]].set_visible(False)
    axes.tick_params(labelsize=TEXT)
    axes.set_yticks([])
    axes.set_ylim(len(rows) - 0.5, -0.8)  # the first row at the top, with room above its bars for its label
    for position, label in enumerate(rows):
        axes.text(0, position - BAND / 2 - 0.06, label, va="bottom", fontsize=TEXT)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: format_decimal(value, locale=texts.language)))
    return figure, axes


def _ticks(integer: bool) -> "MaxNLocator":
    """Few ticks, so their numbers stay apart in the chart's narrow width."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=4, integer=integer, min_n_ticks=2)


def _svg(figure: "Figure") -> str:
    """The chart as an inline <svg>: text stays text, no metadata, no XML prologue."""
    from matplotlib import rc_context

    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "font.family": "sans-serif"}):
        figure.savefig(buffer, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]
