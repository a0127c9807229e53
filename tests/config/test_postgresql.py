"""The PostgreSQL backend (config/postgresql): timestamps read by psycopg's compiled
loader are the very values Django's own loader gives, and any connection not in UTC
keeps Django's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from psycopg.pq import Format

from config.postgresql.base import (
    COMPILED,
    PSYCOPG_TIMESTAMPTZ_LOADER,
    TIMESTAMPTZ_OID,
    DatabaseWrapper,
)
from governance.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Each kind of value a column may hold: whole seconds, microseconds, far in the past,
# far ahead, and an instant written with another offset.
STAMPS = """
    SELECT '2026-12-03 18:00:00+00'::timestamptz,
           '2026-12-03 18:00:00.000001+00'::timestamptz,
           '1901-03-04 05:06:07.891011+00'::timestamptz,
           '2999-12-31 23:59:59.999999+00'::timestamptz,
           '2026-03-29 02:30:00+02'::timestamptz,
           NULL::timestamptz
"""


def _read(cursor) -> tuple:
    cursor.execute(STAMPS)
    return cursor.fetchone()


def test_the_suite_runs_on_the_compiled_loader():
    """psycopg[binary] is what the lock file installs: its loader is the one in use."""
    assert COMPILED
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert loader is PSYCOPG_TIMESTAMPTZ_LOADER


def test_timestamps_are_the_values_djangos_loader_gives():
    with connection.cursor() as cursor:
        fast = _read(cursor)
        # The same cursor with Django's loader back: what Django alone would read.
        django_loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        assert django_loader is not PSYCOPG_TIMESTAMPTZ_LOADER
        cursor.cursor.adapters.register_loader(TIMESTAMPTZ_OID, django_loader)
        slow = _read(cursor)
    assert fast == slow
    for value in fast[:-1]:
        assert value.tzinfo is dt.UTC
    assert fast[4] == dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)
    assert fast[-1] is None


def test_a_saved_moment_reads_back_equal_and_in_utc():
    user = User.objects.create_user("stamped", password="pw")
    moment = dt.datetime(2026, 12, 3, 19, 0, 0, 123456, tzinfo=ZoneInfo("Europe/Paris"))
    User.objects.filter(pk=user.pk).update(last_login=moment)
    read = User.objects.values_list("last_login", flat=True).get(pk=user.pk)
    assert read == moment
    assert read.tzinfo is dt.UTC


def test_a_connection_in_another_time_zone_keeps_djangos_loader():
    """A database set to another TIME_ZONE: psycopg's loader would not give Django's
    time zone object, so Django's stays."""
    paris = DatabaseWrapper({**connection.settings_dict, "TIME_ZONE": "Europe/Paris"}, "paris")
    try:
        with paris.cursor() as cursor:
            loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
            first = _read(cursor)[0]
        assert loader is not PSYCOPG_TIMESTAMPTZ_LOADER
        assert first.tzinfo == ZoneInfo("Europe/Paris")
        assert first == dt.datetime(2026, 12, 3, 18, 0, tzinfo=dt.UTC)
    finally:
        paris.close()
