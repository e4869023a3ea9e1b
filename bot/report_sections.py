"""The report's figures as titled tables of formatted cells, in the operator's language: what the
terminal prints and the HTML page shows, written once."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal, format_percent

from flows.catalogue import Catalogue
from flows.journey import STEP_COUNT

DASH = "–"


@dataclass(frozen=True)
class Section:
    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    notes: list[str] = field(default_factory=list)


def heading(texts: Catalogue, since: str | None, until: str | None) -> str:
    """The period as the operator typed it."""
    if since and until:
        return texts.text("report.period_between", since=since, until=until)
    if since:
        return texts.text("report.period_since", since=since)
    if until:
        return texts.text("report.period_until", until=until)
    return texts.text("report.period_all")


def sections(figures: dict[str, Any], texts: Catalogue, zone: str) -> list[Section]:
    return [_funnel(figures, texts), _help(figures, texts), _reminders(figures, texts), _ratings(figures, texts),
            *_comments(figures, texts, zone)]


def step_names(texts: Catalogue) -> list[tuple[str, str]]:
    """The funnel's stages: its key in the figures and its label."""
    return [("opened", texts.text("report.opened")),
            *((f"step_{n}", f"{n}. {texts.text(f'step.{n}')}") for n in range(1, STEP_COUNT + 1)),
            ("finished", texts.text("report.finished"))]


def span(seconds: float | None, texts: Catalogue) -> str:
    """A duration the way a person reads it: « 45 s », « 12 min », « 3 h 05 min », « 2 j 4 h »."""
    if seconds is None:
        return DASH
    if seconds < 59.5:
        return texts.text("report.span_seconds", seconds=round(seconds))
    if seconds < 86400 - 30:  # to the nearest minute
        hours, minutes = divmod(round(seconds / 60), 60)
        if hours:
            return texts.text("report.span_hours", hours=hours, minutes=f"{minutes:02d}")
        return texts.text("report.span_minutes", minutes=minutes)
    days, hours = divmod(round(seconds / 3600), 24)  # to the nearest hour
    return texts.text("report.span_days", days=days, hours=hours)


def _count(n: int, texts: Catalogue) -> str:
    return texts.number(n)


def _share(part: int, whole: int, texts: Catalogue) -> str:
    return format_percent(part / whole, locale=texts.language) if whole else DASH


def _funnel(figures: dict[str, Any], texts: Catalogue) -> Section:
    funnel, times = figures["funnel"], figures["time_to"]
    rows = [(label, _count(funnel[key], texts), _share(funnel[key], funnel["opened"], texts),
             span(times.get(key, {}).get("median_s"), texts), span(times.get(key, {}).get("p90_s"), texts))
            for key, label in step_names(texts)]
    notes = [texts.text("report.times_note")]
    if funnel["steps_unknown"]:
        notes.append(texts.plural("report.steps_unknown", funnel["steps_unknown"]))
    if figures["unreadable"]["subscriptions"]:
        notes.append(texts.plural("report.unreadable", figures["unreadable"]["subscriptions"]))
    return Section(texts.text("report.funnel"),
                   (texts.text("report.col_step"), texts.text("report.col_subscriptions"),
                    texts.text("report.col_share"), texts.text("report.col_median"), texts.text("report.col_p90")),
                   rows, notes)


def _help(figures: dict[str, Any], texts: Catalogue) -> Section:
    def row(label: str, place: dict[str, Any]) -> tuple[str, ...]:
        wait, handling = place["wait"], place["handling"]
        return (label, *(_count(place[key], texts) for key in ("requested", "joined", "cancelled", "open")),
                f"{span(wait['median_s'], texts)} / {span(wait['p90_s'], texts)}",
                f"{span(handling['median_s'], texts)} / {span(handling['p90_s'], texts)}")

    places = figures["help"]["by_step"]
    labels = {**{str(n): f"{n}. {texts.text(f'step.{n}')}" for n in range(1, STEP_COUNT + 1)},
              "other": texts.text("report.help_other")}
    rows = [row(labels[place], figures) for place, figures in places.items()]
    rows.append(row(texts.text("report.all"), figures["help"]["all"]))
    return Section(texts.text("report.help"),
                   tuple(texts.text(f"report.col_{key}") for key in
                         ("step", "requested", "joined", "cancelled", "open", "wait", "handling")),
                   rows, [texts.text("report.help_note")])


def _reminders(figures: dict[str, Any], texts: Catalogue) -> Section:
    reminders = figures["reminders"]
    counted = [(texts.text(f"report.round_{r}"), reminders["by_round"][r]) for r in ("1", "2")]
    counted.append((texts.text("report.all"), reminders))
    rows = [(label, _count(c["sent"], texts), _count(c["followed_within_48h"], texts),
             _share(c["followed_within_48h"], c["sent"], texts)) for label, c in counted]
    return Section(texts.text("report.reminders"),
                   ("", texts.text("report.col_sent"), texts.text("report.col_followed"), texts.text("report.col_share")),
                   rows)


def _ratings(figures: dict[str, Any], texts: Catalogue) -> Section:
    rows = []
    for kind, rating in figures["ratings"].items():
        average = format_decimal(rating["average"], locale=texts.language) if rating["average"] is not None else DASH
        rows.append((texts.text(f"report.rating_{kind}"), _count(rating["count"], texts), average,
                     *(_count(rating["distribution"][str(mark)], texts) for mark in range(1, 6))))
    return Section(texts.text("report.ratings"),
                   ("", texts.text("report.col_ratings"), texts.text("report.col_average"),
                    *(texts.text("report.col_mark", mark=mark) for mark in range(1, 6))),
                   rows)


def _comments(figures: dict[str, Any], texts: Catalogue, zone: str) -> list[Section]:
    """One list per kind of rating, newest first (the figures keep the latest ones only)."""
    listed = []
    for kind, rating in figures["ratings"].items():
        lines = [(texts.text("report.comment", date=_date(c["at"], zone), subscription=c["subscription"],
                             rating=c["rating"] if c["rating"] is not None else DASH, comment=c["comment"]),)
                 for c in rating["comments"]]
        title = f"{texts.text('report.comments')} — {texts.text(f'report.rating_{kind}')}"
        listed.append(Section(title, (), lines or [(texts.text("report.no_comment"),)]))
    return listed


def _date(at: float, zone: str) -> str:
    return datetime.fromtimestamp(at, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
