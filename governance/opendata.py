"""The ministry's open-data CSV exports (data.education.gouv.fr: the directory of
schools, the school calendar), read alike: a separator that is a semicolon (or a comma),
a byte-order mark perhaps, a header of labels or of field names in any case, and rows
whose cells are read by column."""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence

# One row: a column's key → its cell, stripped ("" when the row or the file lacks it).
Cell = Callable[[str], str]


class EmptyFile(ValueError):
    """The file has no header."""


class MissingColumns(ValueError):
    """Required columns are not in the header: ``missing``, each by its first name."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing


def export_rows(
    lines: Iterable[str],
    columns: Mapping[str, Sequence[str]],
    optional: Collection[str] = (),
) -> Iterator[Cell]:
    """Each row of the export that is not blank, as its ``Cell``. ``columns``: each key
    with the names its column may have in the header (a label, a field name); every
    key not ``optional`` must be there. The header is read at once: ``EmptyFile`` or
    ``MissingColumns`` is raised by this call, not by the first row."""
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None or not first.strip():
        raise EmptyFile
    first = first.lstrip("\ufeff")
    rows = csv.reader(_chain(first, iterator), delimiter=";" if ";" in first else ",")
    names = [name.strip().lower() for name in next(rows)]
    index: dict[str, int] = {}
    missing: list[str] = []
    for key, accepted in columns.items():
        found = next((names.index(n.lower()) for n in accepted if n.lower() in names), None)
        if found is not None:
            index[key] = found
        elif key not in optional:
            missing.append(accepted[0])
    if missing:
        raise MissingColumns(missing)
    return (_cells(row, index) for row in rows if any(cell.strip() for cell in row))


def _cells(row: list[str], index: dict[str, int]) -> Cell:
    def cell(key: str) -> str:
        at = index.get(key)
        return row[at].strip() if at is not None and at < len(row) else ""

    return cell


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
