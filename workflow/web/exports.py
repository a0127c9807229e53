"""The académie's export of letters (``workflow.selectors.exports``) written for a
spreadsheet: CSV for French Excel, and XLSX with typed cells.

- CSV: ``;`` between cells, UTF-8 with a byte-order mark (without it Excel reads the
  accents as Windows-1252), decimal comma and no thousands separator (so that Excel
  reads a number), dates as dd/mm/yyyy.
- XLSX: a title row naming the académie and the year, then the header, frozen, with
  the filters on; numbers are numbers (amounts with a euro format), dates are dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Alignment, Font, NamedStyle
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from workflow.selectors.exports import Cell, Kind, LettersExport

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NUMBER_FORMATS = {
    Kind.DATE: "DD/MM/YYYY",
    Kind.EUROS: '#,##0.00\\ "€"',
    Kind.HOURS: "0.00",
    Kind.INTEGER: "0",
}


def _csv_cell(value: Cell) -> str | int:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def export_csv(export: LettersExport) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow([column.label for column in export.columns])
    writer.writerows([_csv_cell(cell) for cell in row] for row in export.rows)
    return _attachment(response, f"{export.file_stem}.csv")


def _sheet_title(export: LettersExport) -> str:
    """At most 31 characters, none of ``[]:*?/\\`` (Excel's rules for a sheet name)."""
    name = f"{export.academy.code} {export.school_year.code}"
    return "".join(c for c in name if c not in "[]:*?/\\")[:31]


def _xlsx_value(value: str | int | Decimal | dt.date) -> str | float:
    """A cell's value as the file stores it: text, or a number (a date is a number of
    days since 1900, shown as a date by its format)."""
    if isinstance(value, dt.date):
        return float(to_excel(value))
    if isinstance(value, Decimal):
        return float(value)  # Excel keeps every number as a double
    return value


def export_xlsx(export: LettersExport) -> HttpResponse:
    """Written row by row (openpyxl's write-only mode): an académie's 1 200 letters
    make 50 000 cells, which the ordinary mode keeps and sorts in memory. Dates are
    written as Excel serial days with a date format, which is what a date cell is in
    the file; a ``datetime`` cell would make openpyxl test its format for each one."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = export.title
    sheet = workbook.create_sheet(_sheet_title(export))
    styles: dict[Kind, NamedStyle] = {}
    for kind, number_format in NUMBER_FORMATS.items():
        named = NamedStyle(name=f"lm-{kind.value}", number_format=number_format)
        workbook.add_named_style(named)
        styles[kind] = named
    for index, column in enumerate(export.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "C3"  # the header, and the UAI and name beside every row
    last_row = len(export.rows) + 2
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(export.columns))}{last_row}"
    title = WriteOnlyCell(sheet, value=export.title)
    title.font = Font(bold=True, size=13)
    sheet.append([title])
    header = []
    for column in export.columns:
        cell = WriteOnlyCell(sheet, value=column.label)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    kinds = [styles.get(column.kind) for column in export.columns]
    for row in export.rows:
        cells: list[XlsxCell | None] = []
        for value, style in zip(row, kinds, strict=True):
            if value is None:
                cells.append(None)
                continue
            cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
            if style is not None:
                cell.style = style.name
            cells.append(cell)
        sheet.append(cells)
    content = io.BytesIO()
    workbook.save(content)
    return _attachment(
        HttpResponse(content.getvalue(), content_type=XLSX_TYPE), f"{export.file_stem}.xlsx"
    )
