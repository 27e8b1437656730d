"""Rolling-origin backtest of every candidate forecaster on every forecast series.

One row per series and model with its pooled errors, the held-out coverage of its calibrated intervals and
the interval scales; `is_selected` marks the model the series is forecast with (lowest sMAPE, the
seasonal-naive baseline winning ties). Each cut's models see at most var forecast_max_training_days days.

Incremental: the stored backtest is kept until var forecast_backtest_refresh_days days of new data have
arrived, and only series it does not cover are backtested in between, so a daily delivery does not refit
every candidate at every cut. Runs unchanged on DuckDB and Snowpark.
"""

import pandas as pd

from finops_warehouse.forecasting.backtest import backtest, choose_model, from_rows, keys_to_backtest
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
    "backtest_settings": "str",
}


def series_rows(daily: pd.DataFrame, settings: dict, stored: pd.DataFrame | None) -> list[dict]:
    """Backtest results of the series of the long daily frame that are due."""
    if daily.empty:
        return []
    data_through = as_date(daily["charge_date"].max())
    fingerprint = repr(sorted(settings.items()))
    if stored is not None and ("backtest_settings" not in stored or (stored["backtest_settings"] != fingerprint).any()):
        stored = None
    groups = dict(list(daily.groupby(KEY, sort=True)))
    due = keys_to_backtest(list(groups), stored, KEY, data_through, settings["refresh_days"])
    rows = []
    for key in due:
        group = groups[key]
        series = from_rows(group["charge_date"], group["usage_cost"], group["scheduled_cost"], data_through)
        results = backtest(
            series,
            settings["horizon"],
            max_origins=settings["origins"],
            min_train=settings["min_train"],
            max_train=settings["max_train"],
        )
        chosen = choose_model(results, len(series))
        for result in results:
            rows.append(
                {
                    **dict(zip(KEY, key, strict=True)),
                    **result.__dict__,
                    "is_selected": result.model == chosen,
                    "history_days": len(series),
                    "data_through": data_through,
                    "backtest_settings": fingerprint,
                }
            )
    return rows


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["series_type", "series_key", "currency", "model"],
        on_schema_change="append_new_columns",
        packages=["pandas", "numpy", "statsmodels"],
    )
    # dbt reads config keys from the source text, so each is spelled out.
    settings = {
        "horizon": int(dbt.config.get("horizon")),
        "origins": int(dbt.config.get("origins")),
        "min_train": int(dbt.config.get("min_train")),
        "max_train": int(dbt.config.get("max_train")),
        "refresh_days": int(dbt.config.get("refresh_days")),
    }
    stored = to_pandas(session.sql(f"select * from {dbt.this}")) if dbt.is_incremental else None
    rows = series_rows(to_pandas(dbt.ref("int_forecast__daily_series")), settings, stored)
    return typed_frame(rows, DTYPES)
