"""Score every day of every anomaly series against its robust, weekday-aware baseline.

One row per series and day from the series' first day to the latest day of data (days without charges
count as zero): the expected cost and band, the robust score, for flagged days the direction and the
first and last day of the episode, and the detector's state. Incremental: each series resumes at its
first day whose cost changed since the last run, so a new day costs the same whatever the history's
length (finops_warehouse.forecasting.scoring). Runs unchanged on DuckDB and Snowpark.
"""

from finops_warehouse.forecasting.anomalies import DetectionSettings
from finops_warehouse.forecasting.frames import to_pandas
from finops_warehouse.forecasting.scoring import score_frame


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["anomaly_series_key", "charge_date"],
        on_schema_change="append_new_columns",
        packages=["pandas", "numpy", "statsmodels"],
    )
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
    stored = to_pandas(session.sql(f"select * from {dbt.this}")) if dbt.is_incremental else None
    return score_frame(to_pandas(dbt.ref("int_anomaly__daily_series")), settings, stored)
