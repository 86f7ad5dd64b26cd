"""The printable report: HTML from a Jinja template, typeset to PDF by WeasyPrint.

WeasyPrint paginates like a printer (page numbers, repeated table headers, no
sidebar or form), and draws the chart from SVG as vectors; it needs Debian's pango
libraries (``make`` checks for them).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from backend.exports.chart import trajectory_svg
from backend.exports.record import ClientRecord
from scoring.instruments import DEFAULT_INSTRUMENT, get_instrument

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DAY_FORMAT = "%d %b %Y"


def _day(value: date | datetime | None) -> str:
    return value.strftime(DAY_FORMAT) if value else ""


def _words(code: str | None) -> str:
    """A stored code as words: ``raised_in_session`` -> ``Raised in session``."""
    return (code or "").replace("_", " ").capitalize()


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    environment.filters["day"] = _day
    environment.filters["words"] = _words
    return environment


def report_html(record: ClientRecord, *, with_comments: bool, printed_at: datetime) -> str:
    latest = record.rated[-1] if record.rated else None
    if latest is not None:
        instrument = get_instrument(latest.rating.instrument)
    elif record.sessions:
        instrument = get_instrument(record.sessions[-1].instrument)
    else:
        instrument = get_instrument(DEFAULT_INSTRUMENT)
    shown = [r for r in record.rated if r.rating.instrument == instrument.id]
    return (
        _environment()
        .get_template("report.html")
        .render(
            record=record,
            instrument=instrument,
            latest=latest,
            shown=shown,
            other_instruments=len(record.rated) - len(shown),
            chart=trajectory_svg(record, instrument),
            with_comments=with_comments,
            comments=[r for r in record.rated if r.rating.comment],
            printed_at=printed_at,
        )
    )


def report_pdf(record: ClientRecord, *, with_comments: bool, printed_at: datetime) -> bytes:
    from weasyprint import HTML  # imported on first use: it takes a second or two

    html = report_html(record, with_comments=with_comments, printed_at=printed_at)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
