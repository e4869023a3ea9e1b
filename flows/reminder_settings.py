"""When reminders may go, apart from the reminders themselves so the deployment settings can hold it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones()) - {"localtime"}  # the machine's own zone, not an IANA name


def is_time_zone(name: object) -> bool:
    """An IANA time zone name this machine knows (Europe/Brussels), checked against the list rather than
    handed to ZoneInfo, which would read any file name it is given."""
    return isinstance(name, str) and name in _time_zones()


@dataclass(frozen=True)
class ReminderSettings:
    """When reminders go: hours of silence before each one, and the business hours they keep to."""

    first_hours: float = 24
    second_hours: float = 72
    time_zone: str = "Europe/Paris"  # a subscription's own, when it has one, comes first
    opens: int = 9  # hour of the day, local time
    closes: int = 19
    weekdays: frozenset[int] = frozenset(range(5))  # Monday is 0
    invited_hours_before: float = 48  # an invited user's reminder, before their link expires

    def zone(self, time_zone: str | None = None) -> ZoneInfo:
        """A subscription's time zone (`time_zone`), else the configured one; a stored name this
        machine no longer knows falls back too, so one record never stops the reminders of others."""
        return ZoneInfo(time_zone if is_time_zone(time_zone) else self.time_zone)

    def is_open(self, at: float, time_zone: str | None = None) -> bool:
        """Whether `at` falls in business hours of `time_zone` (else the configured zone)."""
        return self._open_at(datetime.fromtimestamp(at, self.zone(time_zone)))

    def business_time(self, at: float, time_zone: str | None = None) -> float:
        """`at` itself when it falls in business hours of `time_zone` (else the configured zone), else
        the next opening."""
        if self.is_open(at, time_zone):
            return at
        zone = self.zone(time_zone)
        local = datetime.fromtimestamp(at, zone)
        for _ in range(8):
            if self._open_at(local):
                return local.timestamp()
            if local.weekday() in self.weekdays and local.hour < self.opens:
                local = local.replace(hour=self.opens, minute=0, second=0, microsecond=0)
                continue
            following = (local + timedelta(days=1)).date()
            local = datetime(following.year, following.month, following.day, self.opens, tzinfo=zone)
        raise ValueError("no business hours configured")

    def _open_at(self, local: datetime) -> bool:
        return local.weekday() in self.weekdays and self.opens <= local.hour < self.closes
