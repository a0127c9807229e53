"""Django's PostgreSQL backend, but for one thing: a ``timestamptz`` is read by psycopg's
compiled loader when the connection speaks UTC.

Django replaces psycopg's loader with one of its own, written in Python, to give each
value the connection's time zone object. On a connection in UTC, psycopg's compiled
loader already gives ``datetime.timezone.utc``, the very object Django's would: the
same values, read about three times faster. A page of fifty letters reads 200
timestamps, which took 0.65 ms of its 1.2 ms query (bench/RESULTS.md, stop 10).

Every other connection (another database time zone, psycopg without its compiled part)
keeps Django's loader.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.backends.postgresql import base
from psycopg import adapters, postgres
from psycopg.pq import Format

TIMESTAMPTZ_OID = postgres.types["timestamptz"].oid
# psycopg's own loader: the compiled one when psycopg_binary or psycopg_c is installed.
PSYCOPG_TIMESTAMPTZ_LOADER = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
COMPILED = PSYCOPG_TIMESTAMPTZ_LOADER is not None and (
    PSYCOPG_TIMESTAMPTZ_LOADER.__module__.startswith(("psycopg_binary", "psycopg_c"))
)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> Any:
        cursor = super().create_cursor(name)
        if COMPILED and self.timezone is dt.UTC:
            # Django set the connection's time zone to UTC when it opened it
            # (ensure_timezone), so psycopg's loader answers in datetime.timezone.utc.
            cursor.adapters.register_loader(TIMESTAMPTZ_OID, PSYCOPG_TIMESTAMPTZ_LOADER)
        return cursor
