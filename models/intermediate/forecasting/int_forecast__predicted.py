"""Daily forecasts of every series from the day after the data through the end of next month.

Each series is forecast with the model its backtest selected, its usage and scheduled charges apart, and
its intervals rescaled by the backtest's calibration so that an 80% band holds about 80% of outcomes.
A series without a backtest (too short) gets the seasonal-naive baseline, or its mean under a week. Models
are fitted on at most var forecast_max_training_days days, as in the backtest.
"""

import datetime as dt

import pandas as pd

from finops_warehouse.forecasting.backtest import forecast_series, from_rows
from finops_warehouse.forecasting.frames import to_pandas, typed_frame
from finops_warehouse.forecasting.models import fallback_model
from finops_warehouse.forecasting.series import as_date, day_grid

KEY = ["series_type", "series_key", "currency"]
DTYPES = {
    **dict.fromkeys(KEY, "str"),
    "forecast_date": "datetime64[ns]",
    "model": "str",
    **dict.fromkeys(["predicted_cost", "lower_80", "upper_80", "lower_95", "upper_95"], "float64"),
}


def end_of_next_month(day: dt.date) -> dt.date:
    """The last day of the month after `day`'s month."""
    first_of_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return (first_of_next + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def selected_models(backtested: pd.DataFrame) -> dict[tuple, tuple[str, float, float]]:
    """(model, 80% scale, 95% scale) per series key, from the selected backtest rows."""
    chosen = backtested[backtested["is_selected"].astype(bool)]
    return {
        tuple(row[KEY]): (row["model"], float(row["interval_scale_80"]), float(row["interval_scale_95"]))
        for _, row in chosen.iterrows()
    }


def forecast_rows(daily: pd.DataFrame, backtested: pd.DataFrame, max_train: int) -> list[dict]:
    """Forecast rows of every series in the long daily frame."""
    if daily.empty:
        return []
    data_through = as_date(daily["charge_date"].max())
    horizon = (end_of_next_month(data_through) - data_through).days
    dates = day_grid(data_through + dt.timedelta(days=1), horizon)
    choices = selected_models(backtested)
    rows = []
    for key, group in daily.groupby(KEY, sort=True):
        series = from_rows(group["charge_date"], group["usage_cost"], group["scheduled_cost"], data_through)
        series = series.tail(max_train)
        name, scale_80, scale_95 = choices.get(key, (fallback_model(len(series)), 1.0, 1.0))
        forecast = forecast_series(series, name, horizon).calibrated(scale_80, scale_95)
        for index, day in enumerate(dates):
            bands = [float(band[index]) for band in forecast.bands()]
            rows.append(dict(zip(DTYPES, [*key, day, name, *bands], strict=True)))
    return rows


def model(dbt, session):
    dbt.config(materialized="table", packages=["pandas", "numpy", "statsmodels"])
    daily = to_pandas(dbt.ref("int_forecast__daily_series"))
    backtested = to_pandas(dbt.ref("int_forecast__backtested"))
    return typed_frame(forecast_rows(daily, backtested, int(dbt.config.get("max_train"))), DTYPES)
