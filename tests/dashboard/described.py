"""Instruments as the dashboard gets them: the API's own listing, read back by the dashboard."""

from __future__ import annotations

from backend.overview.router import instruments
from dashboard.instruments import InstrumentView, instrument_view


def described(instrument_id: str) -> InstrumentView:
    """``GET /api/instruments``'s entry for this instrument, as ``dashboard.session`` reads it."""
    listed = [listing.model_dump(mode="json") for listing in instruments(None)]
    return next(instrument_view(i) for i in listed if i["instrument"]["id"] == instrument_id)
