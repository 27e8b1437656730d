"""Score every day of every anomaly series against its robust, weekday-aware baseline.

One row per series and day from the series' first day to the latest day of data (days without charges
count as zero): the expected cost and band, the robust score, and for flagged days the direction and the
first and last day of the episode the day belongs to. Runs unchanged on DuckDB and Snowpark.
"""

import datetime as dt

import numpy as np
import pandas as pd

from finops_warehouse.forecasting.anomalies import DetectionSettings, detect
from finops_warehouse.forecasting.frames import to_pandas, typed_frame
from finops_warehouse.forecasting.series import as_date, day_grid, dense_daily

DTYPES = {
    "anomaly_series_key": "str",
    "charge_date": "datetime64[ns]",
    **dict.fromkeys(["expected_cost", "lower_bound", "upper_bound", "robust_score"], "float64"),
    "is_flagged": "bool",
    "direction": "str",
    "anomaly_start_date": "datetime64[ns]",
    "anomaly_end_date": "datetime64[ns]",
}


def _day(dates: list[dt.date], index: int) -> dt.date | None:
    return dates[index] if index >= 0 else None


def score_frame(daily: pd.DataFrame, settings: DetectionSettings) -> pd.DataFrame:
    """Detection results for every series of the long daily frame."""
    if daily.empty:
        return typed_frame([], DTYPES)
    data_through = as_date(daily["charge_date"].max())
    parts = []
    for key, group in daily.groupby("anomaly_series_key", sort=True):
        start = as_date(group["charge_date"].min())
        values = dense_daily(group["charge_date"], group["actual_cost"], start, data_through)
        found = detect(values, start.weekday(), settings)
        dates = day_grid(start, len(values))
        parts.append(
            pd.DataFrame(
                {
                    "anomaly_series_key": key,
                    "charge_date": dates,
                    "expected_cost": found.expected,
                    "lower_bound": found.lower,
                    "upper_bound": found.upper,
                    "robust_score": found.score,
                    "is_flagged": found.is_anomaly,
                    "direction": np.where(found.is_anomaly, found.direction, None),
                    "anomaly_start_date": [_day(dates, index) for index in found.episode_start],
                    "anomaly_end_date": [_day(dates, index) for index in found.episode_end],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)[list(DTYPES)].astype(DTYPES)


def model(dbt, session):
    dbt.config(materialized="table", packages=["pandas", "numpy", "statsmodels"])
    settings = DetectionSettings(
        window_days=int(dbt.config.get("window_days")),
        min_history_days=int(dbt.config.get("min_history_days")),
        score_threshold=float(dbt.config.get("score_threshold")),
        drift_threshold=float(dbt.config.get("drift_threshold")),
        drift_days=int(dbt.config.get("drift_days")),
        drift_rise=float(dbt.config.get("drift_rise")),
        min_impact=float(dbt.config.get("min_impact")),
        relative_spread_floor=float(dbt.config.get("relative_spread_floor")),
        rebaseline_days=int(dbt.config.get("rebaseline_days")),
    )
    return score_frame(to_pandas(dbt.ref("int_anomaly__daily_series")), settings)
