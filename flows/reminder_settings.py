"""When reminders may go, apart from the reminders themselves so the deployment settings can hold it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ReminderSettings:
    """When reminders go: hours of silence before each one, and the business hours they keep to."""

    first_hours: float = 24
    second_hours: float = 72
    time_zone: str = "Europe/Paris"
    opens: int = 9  # hour of the day, local time
    closes: int = 19
    weekdays: frozenset[int] = frozenset(range(5))  # Monday is 0

    def business_time(self, at: float) -> float:
        """`at` itself when it falls in business hours, else the next opening."""
        zone = ZoneInfo(self.time_zone)
        local = datetime.fromtimestamp(at, zone)
        for _ in range(8):
            if local.weekday() in self.weekdays and self.opens <= local.hour < self.closes:
                return local.timestamp()
            if local.weekday() in self.weekdays and local.hour < self.opens:
                local = local.replace(hour=self.opens, minute=0, second=0, microsecond=0)
                continue
            following = (local + timedelta(days=1)).date()
            local = datetime(following.year, following.month, following.day, self.opens, tzinfo=zone)
        raise ValueError("no business hours configured")
