"""Council meetings as iCalendar (RFC 5545), so that they land in people's calendars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from governance.models import Meeting

MEETING_LENGTH = dt.timedelta(hours=2)


def meetings_calendar(meetings: Iterable[Meeting], letter_titles: dict[int, list[str]]) -> bytes:
    """One VEVENT per meeting; the letters on its agenda are listed in its description.
    ``letter_titles`` maps a meeting to the letters the reader may see that still wait
    for its opinion, each with its state (``workflow.web.meetings``)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Lettres de mission//séances des conseils//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Séances des conseils — lettres de mission"))
    host = urlsplit(settings.SITE_URL).hostname or "lettres-de-mission"
    for meeting in meetings:
        event = Event()
        event.add("uid", f"seance-{meeting.pk}@{host}")
        event.add("dtstamp", timezone.now())
        event.add("dtstart", meeting.starts_at)
        event.add("dtend", meeting.starts_at + MEETING_LENGTH)
        event.add(
            "summary",
            f"{meeting.council.get_kind_display()} — {meeting.council.establishment.name}",
        )
        if meeting.location:
            event.add("location", meeting.location)
        titles = letter_titles.get(meeting.pk, [])
        lines = [f"{meeting.get_convocation_display()}."]
        if titles:
            lines.append(_("Lettres de mission à l'ordre du jour :"))
            lines.extend(f"- {title}" for title in titles)
        event.add("description", "\n".join(lines))
        calendar.add_component(event)
    return calendar.to_ical()
