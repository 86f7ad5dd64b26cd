"""User-typed text on its way to markdown or to a spreadsheet, made inert.

Names, team names and notes are typed by people (an admin, a therapist); shown through
markdown they could plant links or formatting, and opened from a CSV download in a
spreadsheet a cell such as ``=HYPERLINK(...)`` would run as a formula (OWASP, "CSV
Injection").
"""

from __future__ import annotations

import re

import pandas as pd

#: Every ASCII punctuation character: CommonMark lets a backslash escape each of them,
#: and Streamlit's own syntax (``:red[...]``, ``:material/icon:``) is built from them.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: What spreadsheets read as the start of a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def plain(text: str) -> str:
    """``text`` for a markdown element, shown exactly as typed."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def inert_cell(value: object) -> object:
    """A text cell a spreadsheet will not run: a leading formula character gets a quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _number(value):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell made inert (Streamlit's table download is a CSV)."""
    text_columns = [
        c
        for c in frame.columns
        if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)
    ]
    if not text_columns:
        return frame
    safe = frame.copy()
    for column in text_columns:
        safe[column] = safe[column].map(inert_cell)
    return safe
