"""Rolling-origin backtest of every candidate forecaster on every forecast series.

One row per series and model with its pooled errors, the held-out coverage of its calibrated intervals and
the interval scales; `is_selected` marks the model the series is forecast with (lowest sMAPE, the
seasonal-naive baseline winning ties). Runs unchanged on DuckDB and Snowpark.
"""

import pandas as pd

from finops_warehouse.forecasting.backtest import backtest, choose_model, from_rows
from finops_warehouse.forecasting.frames import to_pandas, typed_frame
from finops_warehouse.forecasting.series import as_date

KEY = ["series_type", "series_key", "currency"]
DTYPES = {
    **dict.fromkeys(KEY, "str"),
    "model": "str",
    **dict.fromkeys(["origins", "horizon_days", "points"], "int64"),
    **dict.fromkeys(["mape", "smape", "mae", "coverage_80", "coverage_95"], "float64"),
    **dict.fromkeys(["interval_scale_80", "interval_scale_95"], "float64"),
    "is_selected": "bool",
    "history_days": "int64",
    "data_through": "datetime64[ns]",
}


def series_rows(daily: pd.DataFrame, horizon: int, origins: int, min_train: int) -> list[dict]:
    """Backtest results of every series in the long daily frame."""
    if daily.empty:
        return []
    data_through = as_date(daily["charge_date"].max())
    rows = []
    for key, group in daily.groupby(KEY, sort=True):
        series = from_rows(group["charge_date"], group["usage_cost"], group["scheduled_cost"], data_through)
        results = backtest(series, horizon, max_origins=origins, min_train=min_train)
        chosen = choose_model(results, len(series))
        for result in results:
            rows.append(
                {
                    **dict(zip(KEY, key, strict=True)),
                    **result.__dict__,
                    "is_selected": result.model == chosen,
                    "history_days": len(series),
                    "data_through": data_through,
                }
            )
    return rows


def model(dbt, session):
    dbt.config(materialized="table", packages=["pandas", "numpy", "statsmodels"])
    daily = to_pandas(dbt.ref("int_forecast__daily_series"))
    rows = series_rows(
        daily,
        horizon=int(dbt.config.get("backtest_horizon_days")),
        origins=int(dbt.config.get("backtest_origins")),
        min_train=int(dbt.config.get("min_training_days")),
    )
    return typed_frame(rows, DTYPES)
