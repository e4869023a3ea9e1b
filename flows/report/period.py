"""Which subscriptions a report covers: those opened from `since` (included) to `until` (excluded)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    since: float | None = None
    until: float | None = None

    def holds(self, at: float) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)

    def to_dict(self) -> dict[str, str | None]:
        return {"since": _iso(self.since), "until": _iso(self.until)}


def period_from(since: str | None, until: str | None, zone: str) -> Period:
    """From the operator's `--since` / `--until`: a date in any ISO form (2027-03-01, 20270301,
    2027-W09-1; `until` then takes in that whole day) or an ISO datetime, read in `zone` when it names
    no offset. ValueError when unreadable, out of the range of dates, or when the period ends before
    it starts."""
    period = Period(_moment(since, zone, next_day=False), _moment(until, zone, next_day=True))
    if period.since is not None and period.until is not None and period.until <= period.since:
        raise ValueError("the period ends before it starts")
    return period


def _moment(text: str | None, zone: str, next_day: bool) -> float | None:
    if text is None:
        return None
    text = text.strip()
    try:
        day = date.fromisoformat(text)  # tried first: datetime.fromisoformat reads 20270301 as its midnight
    except ValueError:  # no date alone: a datetime, or a ValueError
        moment = datetime.fromisoformat(text)
        return _timestamp(moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone)), text)
    try:
        day += timedelta(days=1 if next_day else 0)
    except OverflowError:  # --until 9999-12-31
        raise ValueError(f"{text} is out of range") from None
    return _timestamp(datetime.combine(day, time(), ZoneInfo(zone)), text)


def _timestamp(moment: datetime, text: str) -> float:
    """The moment, if the report can also write it as a UTC datetime (0001-01-01 in Paris is year 0 in UTC)."""
    at = moment.timestamp()
    try:
        _iso(at)
    except (OverflowError, ValueError):
        raise ValueError(f"{text} is out of range") from None
    return at


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, ZoneInfo("UTC")).isoformat(timespec="seconds")
