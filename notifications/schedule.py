"""Calendar arithmetic for reminders: when occurrences fall, and which days are quiet."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import holidays

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


# The départements with public holidays of their own, as the ``holidays`` library names
# them: Alsace-Moselle's local law (Good Friday, 26 December) and the overseas
# départements (the abolition of slavery, and others).
LOCAL_HOLIDAYS = {
    "057": "57",
    "067": "6AE",
    "068": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
}


@functools.cache
def public_holidays(year: int, department_code: str = "") -> frozenset[dt.date]:
    """The French public holidays (jours fériés) of ``year`` in the département
    ``department_code`` (as the directory writes it, « 057 »; empty: the national
    ones), from the ``holidays`` library, which follows the law (Easter and its movable
    feasts included) rather than a list kept by hand."""
    subdivision = LOCAL_HOLIDAYS.get(department_code.zfill(3))  # « 57 » as « 057 »
    return frozenset(holidays.France(years=year, subdiv=subdivision))


@dataclass(frozen=True)
class QuietCalendar:
    """The days no reminder goes out: weekends, French public holidays (with those of
    Alsace-Moselle and overseas where the establishment is), and the school holidays of
    each zone (``QuietPeriod``, edited in the administration or loaded by
    ``import_school_calendar``)."""

    periods: tuple[tuple[str, dt.date, dt.date], ...]

    @classmethod
    def load(cls) -> QuietCalendar:
        return cls(tuple(QuietPeriod.objects.values_list("zone", "starts_on", "ends_on")))

    def is_quiet(self, day: dt.date, zone: str, department_code: str = "") -> bool:
        """Whether ``day`` is quiet for an establishment of ``zone`` in the département
        ``department_code`` (its own public holidays count, Alsace-Moselle's included)."""
        if day.weekday() >= 5 or day in public_holidays(day.year, department_code):
            return True
        return any(z == zone and start <= day <= end for z, start, end in self.periods)

    def next_working_day(self, day: dt.date, zone: str, department_code: str = "") -> dt.date:
        """``day`` itself when it is a working day in ``zone`` and the département, else
        the first one after (looked for over a year at most: holidays that never end
        are a data error)."""
        for offset in range(366):
            candidate = day + dt.timedelta(days=offset)
            if not self.is_quiet(candidate, zone, department_code):
                return candidate
        raise ValueError(f"no working day in zone {zone} for a year from {day}")
