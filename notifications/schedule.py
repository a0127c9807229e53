"""Calendar arithmetic for reminders: when occurrences fall, and which days are quiet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from notifications.models import QuietPeriod


def occurrence_dates(
    anchor: dt.date, offsets: list[int], repeat_every: int | None, max_count: int
) -> list[dt.date]:
    """The days a policy reminds on: the offsets, then every ``repeat_every`` days after
    the last one, ``max_count`` in all."""
    days = sorted(offsets)[:max_count]
    dates = [anchor + dt.timedelta(days=d) for d in days]
    if repeat_every and dates:
        while len(dates) < max_count:
            dates.append(dates[-1] + dt.timedelta(days=repeat_every))
    return dates


def latest_due_occurrence(
    anchor: dt.date, today: dt.date, offsets: list[int], repeat_every: int | None, max_count: int
) -> tuple[int, dt.date] | None:
    """(number, day) of the latest occurrence due on or before ``today``, if any."""
    due = [
        (number, day)
        for number, day in enumerate(occurrence_dates(anchor, offsets, repeat_every, max_count), 1)
        if day <= today
    ]
    return due[-1] if due else None


@dataclass(frozen=True)
class QuietCalendar:
    """Weekends and the school holidays of each zone."""

    periods: tuple[tuple[str, dt.date, dt.date], ...]

    @classmethod
    def load(cls) -> QuietCalendar:
        return cls(tuple(QuietPeriod.objects.values_list("zone", "starts_on", "ends_on")))

    def is_quiet(self, day: dt.date, zone: str) -> bool:
        if day.weekday() >= 5:
            return True
        return any(z == zone and start <= day <= end for z, start, end in self.periods)
