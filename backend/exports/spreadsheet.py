"""CSV that a spreadsheet opens as data, never as formulas.

A cell starting with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel, LibreOffice and
Google Sheets, and a leading tab or carriage return hides one (OWASP, "CSV Injection").
Therapist and team names are typed by people, so every text cell of every CSV Rapport
writes goes through ``neutralised``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | bool | None


def neutralised(cell: str) -> str:
    """The text as a spreadsheet shows it, prefixed with ``'`` if it could start a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_TRIGGERS) else cell


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:g}"
    return neutralised(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """RFC 4180 CSV (CRLF line ends), every text cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralised(name) for name in header])
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()
