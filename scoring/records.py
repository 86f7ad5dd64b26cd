"""Scoring's output as plain records: the one shape the backend stores, from either path.

``evaluate`` scores a caseload into DataFrames; ``scoring.one_client`` scores one client
with plain Python. Both end as ``ScoreRecords``, so the backend reconciles one shape
and a test compares the two paths record by record. A record holds plain Python values
only: ``str``, ``int``, ``float``, ``bool``, ``datetime.date``, lists and dicts, and
``None`` wherever a frame holds NaN, NaT or NA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scoring.evaluate import Evaluation

Record = dict[str, Any]


@dataclass(frozen=True)
class ScoreRecords:
    """What scoring says, one dict per row, keyed and ordered as ``Evaluation``'s frames.

    ``flags`` (``FLAG_COLUMNS``), ``episodes`` (``EPISODE_COLUMNS``), ``summary``
    (``SUMMARY_COLUMNS``, one per client) and ``ranges`` (``RANGE_COLUMNS``).
    """

    flags: list[Record]
    episodes: list[Record]
    summary: list[Record]
    ranges: list[Record]


def evaluation_records(evaluation: Evaluation) -> ScoreRecords:
    """Every frame of an evaluation as records."""
    return ScoreRecords(
        flags=frame_records(evaluation.flags),
        episodes=frame_records(evaluation.episodes),
        summary=frame_records(evaluation.summary),
        ranges=frame_records(evaluation.ranges),
    )


def frame_records(frame: pd.DataFrame) -> list[Record]:
    """The frame's rows as records, converted a column at a time."""
    names = list(frame.columns)
    columns = [_plain_column(frame[name]) for name in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _plain_column(column: pd.Series) -> list[Any]:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = column.cat.categories.tolist()
        return [categories[code] if code >= 0 else None for code in column.cat.codes.tolist()]
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        # date-only contract: midnight timestamps are dates; NaT becomes None
        return column.to_numpy().astype("datetime64[D]").tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = column.to_numpy()
        plain = values.tolist()
        if np.isnan(values).any():
            plain = [None if v != v else v for v in plain]
        return plain
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return column.to_numpy().tolist()
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):  # nullable Int64: NA -> None
        return [None if value is pd.NA else int(value) for value in column.array]
    return [None if _missing(value) else value for value in column.tolist()]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)
