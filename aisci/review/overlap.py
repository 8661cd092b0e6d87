"""The train/test overlap probe a template's notebook runs on the data it split:

    aisci.record("train_test_overlap", overlap_fraction(X_train, X_test))

is the fraction of test examples (rows) that also appear, exactly, in the training data. The review's
grounded checks read that record back (aisci.paper.checks.check_split_overlap) when the template
declares its splits. Rows are compared by a hash of their values: pandas objects through
`pandas.util.hash_pandas_object`, arrays row by row through their bytes, other sequences through repr.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd


def row_hashes(data: Any) -> list[str]:
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return [str(h) for h in pd.util.hash_pandas_object(data, index=False).tolist()]
    if isinstance(data, np.ndarray) or hasattr(data, "__array__") and not isinstance(data, (list, tuple)):
        array = np.ascontiguousarray(np.asarray(data))
        rows = array.reshape(len(array), -1) if array.ndim > 1 else array.reshape(-1, 1)
        return [hashlib.sha1(row.tobytes() + str(array.dtype).encode()).hexdigest() for row in rows]
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        return [hashlib.sha1(repr(item).encode()).hexdigest() for item in data]
    raise TypeError(f"overlap_fraction needs a DataFrame, Series, array or sequence of examples, not {type(data).__name__}")


def overlap_fraction(train: Any, test: Any) -> float:
    """Fraction of the test examples that also occur in the training examples (0.0 for an empty test set)."""
    seen = set(row_hashes(train))
    test_rows = row_hashes(test)
    if not test_rows:
        return 0.0
    return sum(row in seen for row in test_rows) / len(test_rows)
