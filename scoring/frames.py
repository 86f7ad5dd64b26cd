"""Assembling the output DataFrames from numpy columns, cheaply and with stable dtypes.

Text columns stay ``object`` (plain Python ``str``/``None``), empty or not, so the backend
sees the same dtypes for one client as for a whole caseload. Sharing one index skips
pandas' index alignment, which dominates the cost of a 30-rating evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd


def object_array(values: Sequence[object] | np.ndarray) -> np.ndarray:
    """A 1-D object array, even when the values are lists or dicts."""
    out = np.empty(len(values), dtype=object)
    out[:] = values if not isinstance(values, np.ndarray) else values.astype(object)
    return out


@lru_cache(maxsize=64)
def _category_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories))


def categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    """A categorical column straight from integer codes (-1 = null): no string scans."""
    return pd.Categorical.from_codes(codes, dtype=_category_dtype(tuple(categories)))


def build_frame(columns: Mapping[str, object], length: int) -> pd.DataFrame:
    """A DataFrame whose object arrays stay ``object`` columns, in the given column order."""
    index = pd.RangeIndex(length)
    data = {
        name: pd.Series(values, index=index, dtype=object, copy=False)
        if isinstance(values, np.ndarray) and values.dtype == object
        else values
        for name, values in columns.items()
    }
    return pd.DataFrame(data, index=index, copy=False)
