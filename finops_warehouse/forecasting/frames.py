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


def typed_frame(rows: list[dict], dtypes: dict[str, str]) -> pd.DataFrame:
    """Rows as a DataFrame with the given column types, also when there are no rows.

    An empty frame of untyped columns becomes a table of NULL-typed columns, which later casts and dbt unit
    tests (which read column types from the built relation) cannot handle.

    Args:
        rows: Records keyed by column name.
        dtypes: Column name -> pandas dtype, in output order.

    Returns:
        The frame.
    """
    frame = pd.DataFrame(rows, columns=list(dtypes))
    return frame.astype(dtypes)
