"""SQL written by hand, for the few reads every request makes.

Building and compiling a query through the ORM costs more than PostgreSQL takes to
answer the small indexed reads that every read of letters starts with. Those few are
written in SQL that any of the
project's databases runs (PostgreSQL, and SQLite for the embedded default), with the
tables and columns named from the models, so that a renamed field cannot leave them
behind.
"""

from __future__ import annotations

from collections.abc import Sized

from django.db import connection, models


def sql_names(model: type[models.Model], *fields: str) -> list[str]:
    """The model's table, then the columns of ``fields``, quoted for this database."""
    quote = connection.ops.quote_name
    columns = []
    for name in fields:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        columns.append(quote(field.column))
    return [quote(model._meta.db_table), *columns]


def placeholders(values: Sized) -> str:
    """``%s, %s, …``: one parameter per value, for an ``IN (…)``."""
    return ", ".join(["%s"] * len(values))
