"""The one place that knows how each engine hands a dbt Python model its input."""

from __future__ import annotations

from typing import Any

import pandas as pd


def to_pandas(relation: Any) -> pd.DataFrame:
    """Materialise what `dbt.ref()` returned as a pandas DataFrame.

    DuckDB hands over a DuckDBPyRelation (`.df()`), Snowpark a DataFrame (`.to_pandas()`); Snowpark also
    upper-cases unquoted column names, so names are lower-cased to keep the model code engine-neutral.

    Args:
        relation: The object `dbt.ref()` or `dbt.source()` returned.

    Returns:
        The relation's rows with lower-case column names.
    """
    frame = relation.to_pandas() if hasattr(relation, "to_pandas") else relation.df()
    frame.columns = [str(column).lower() for column in frame.columns]
    return frame
