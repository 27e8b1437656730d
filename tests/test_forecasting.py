"""Forecasting and anomaly-detection functions on synthetic series with known answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from finops_warehouse.forecasting.anomalies import DetectionSettings, detect, episodes, first_day_to_write, resume_day
from finops_warehouse.forecasting.backtest import (
    Accuracy,
    DailySeries,
    backtest,
    choose_model,
    forecast_series,
    from_rows,
    interval_scale,
    keys_to_backtest,
    origins,
)
from finops_warehouse.forecasting.calendar import month_back, scheduled_forecast
from finops_warehouse.forecasting.models import CANDIDATES, SeriesTooShort, ets, seasonal_naive, theta
from finops_warehouse.forecasting.scoring import score_frame
from finops_warehouse.forecasting.series import dense_daily

MONDAY = dt.date(2026, 1, 5)
SETTINGS = DetectionSettings()


def weekly_series(days: int, level: float = 1000.0, growth: float = 0.0, noise: float = 0.02, seed: int = 1):
    """Weekdays at `level`, weekends at 75% of it, growing by `growth` a day, with multiplicative noise."""
    rng = np.random.default_rng(seed)
    day = np.arange(days)
    weekend = (day % 7) >= 5
    return level * (1 + growth) ** day * np.where(weekend, 0.75, 1.0) * (1 + noise * rng.standard_normal(days))


def series_of(values: np.ndarray, scheduled: np.ndarray | None = None, start: dt.date = MONDAY) -> DailySeries:
    return DailySeries(start, values, np.zeros(len(values)) if scheduled is None else scheduled)


# --- dense grids -------------------------------------------------------------------------------------------


def test_days_without_rows_are_zero_and_rows_of_one_day_add_up() -> None:
    days = pd.Series([MONDAY, MONDAY, MONDAY + dt.timedelta(days=3)])
    values = dense_daily(days, pd.Series([1.5, 2.5, 7]), MONDAY, MONDAY + dt.timedelta(days=4))
    assert values.tolist() == [4.0, 0.0, 0.0, 7.0, 0.0]


def test_a_series_starts_where_its_usage_starts_not_at_an_earlier_fee() -> None:
    fee_day, usage_day = dt.date(2026, 3, 1), dt.date(2026, 3, 20)
    frame = pd.DataFrame({"d": [fee_day, usage_day], "u": [0, 10], "s": [500, 0]})
    series = from_rows(frame["d"], frame["u"], frame["s"], dt.date(2026, 3, 22))
    assert series.start == usage_day
    assert series.usage.tolist() == [10.0, 0.0, 0.0]


# --- calendar-driven charges -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 3, 31), dt.date(2026, 2, 28)),
        (dt.date(2028, 3, 30), dt.date(2028, 2, 29)),
        (dt.date(2026, 1, 15), dt.date(2025, 12, 15)),
        (dt.date(2026, 12, 1), dt.date(2026, 11, 1)),
    ],
)
def test_month_back_keeps_the_day_or_takes_the_shorter_months_last(day: dt.date, expected: dt.date) -> None:
    assert month_back(day) == expected


def test_a_month_start_fee_repeats_on_every_following_first_of_the_month() -> None:
    start = dt.date(2026, 10, 1)
    history = np.zeros(52)  # 2026-10-01 .. 2026-11-21
    history[0], history[31] = 900.0, 1000.0  # fees on Oct 1 and Nov 1
    forecast = scheduled_forecast(history, start, 40)  # 2026-11-22 .. 2026-12-31
    dates = [dt.date(2026, 11, 22) + dt.timedelta(days=i) for i in range(40)]
    assert {d: v for d, v in zip(dates, forecast, strict=True) if v} == {dt.date(2026, 12, 1): 1000.0}


# --- forecasters -------------------------------------------------------------------------------------------


def test_seasonal_naive_repeats_last_week_and_widens_by_week() -> None:
    history = np.tile([10.0, 20, 30, 40, 50, 5, 5], 3) + np.repeat([0.0, 1, 3], 7)
    forecast = seasonal_naive(history, 14)
    assert forecast.mean.tolist() == history[-7:].tolist() * 2
    width_week_1 = forecast.upper_80[0] - forecast.lower_80[0]
    width_week_2 = forecast.upper_80[7] - forecast.lower_80[7]
    assert width_week_2 == pytest.approx(width_week_1 * np.sqrt(2))


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_an_all_zero_series_forecasts_zero_with_no_spread(name: str) -> None:
    forecast = CANDIDATES[name](np.zeros(40), 10)
    for band in forecast.bands():
        assert np.all(band == 0)


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_a_series_with_gaps_forecasts_finite_values(name: str) -> None:
    values = weekly_series(56)
    values[[10, 11, 30]] = 0.0  # days without charges
    forecast = CANDIDATES[name](values, 14)
    assert all(np.all(np.isfinite(band)) for band in forecast.bands())
    assert np.all(forecast.lower_95 <= forecast.lower_80)
    assert np.all(forecast.upper_80 <= forecast.upper_95)


@pytest.mark.parametrize("model", [ets, theta, seasonal_naive])
def test_a_series_shorter_than_its_model_needs_is_refused(model) -> None:
    with pytest.raises(SeriesTooShort):
        model(np.ones(5), 7)


def test_a_series_shorter_than_one_season_is_forecast_by_its_mean() -> None:
    series = series_of(np.array([10.0, 12, 14, 16, 18]))
    results = backtest(series, 30)
    assert results == []
    model = choose_model(results, len(series))
    assert model == "level"
    assert forecast_series(series, model, 3).mean.tolist() == [14.0, 14.0, 14.0]


def test_ets_and_theta_follow_a_level_shift() -> None:
    values = np.concatenate([weekly_series(42, noise=0.01), weekly_series(28, level=1500.0, noise=0.01, seed=2)])
    weekday_level = 1500.0
    for model in (ets, theta):
        forecast = model(values, 7)
        assert forecast.mean[0] == pytest.approx(weekday_level, rel=0.1)


# --- backtest ----------------------------------------------------------------------------------------------


def test_origins_are_a_week_apart_newest_first_and_leave_enough_history() -> None:
    assert origins(90, 30, 4, 7, 28) == [60, 53, 46, 39]
    assert origins(60, 30, 4, 7, 28) == [30]
    assert origins(50, 30, 4, 7, 28) == []


def test_interval_scale_is_the_quantile_of_error_ratios() -> None:
    ratios = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert interval_scale(ratios, 0.8) == pytest.approx(0.8)
    assert interval_scale(np.array([]), 0.8) == 1.0


def test_on_a_growing_weekly_series_the_models_beat_the_seasonal_naive_baseline() -> None:
    series = series_of(weekly_series(120, growth=0.004, noise=0.01))
    results = {result.model: result for result in backtest(series, 30)}
    assert set(results) == set(CANDIDATES)
    best = results[choose_model(list(results.values()), len(series))]
    assert best.model != "seasonal_naive"
    assert best.mape <= 0.8 * results["seasonal_naive"].mape
    assert all(result.points == 4 * 30 for result in results.values())


def test_an_all_zero_series_backtests_without_a_mape_and_keeps_the_baseline() -> None:
    results = backtest(series_of(np.zeros(90)), 30)
    assert {result.mape for result in results} == {None}
    assert {result.smape for result in results} == {0.0}
    assert choose_model(results, 90) == "seasonal_naive"


def test_the_baseline_wins_a_tie() -> None:
    def accuracy(model: str, smape: float) -> Accuracy:
        return Accuracy(model, 4, 30, 120, smape, smape, 1.0, 0.8, 0.95, 1.0, 1.0)

    assert choose_model([accuracy("ets", 0.05), accuracy("seasonal_naive", 0.05)], 90) == "seasonal_naive"
    assert choose_model([accuracy("ets", 0.04), accuracy("seasonal_naive", 0.05)], 90) == "ets"


def test_calibrated_intervals_cover_about_their_level_out_of_sample() -> None:
    series = series_of(weekly_series(150, growth=0.002, noise=0.05, seed=3))
    for result in backtest(series, 30, max_origins=8):
        assert 0.6 <= result.coverage_80 <= 0.95, result
        assert result.coverage_95 >= result.coverage_80


# --- anomaly detection -------------------------------------------------------------------------------------


def test_weekly_seasonality_and_slow_growth_raise_no_flags() -> None:
    values = weekly_series(180, growth=0.003, noise=0.02)
    assert not detect(values, MONDAY.weekday(), SETTINGS).is_anomaly.any()


def test_an_all_zero_series_raises_no_flags_and_scores_zero() -> None:
    found = detect(np.zeros(60), 0, SETTINGS)
    assert not found.is_anomaly.any()
    assert np.all(found.score[SETTINGS.min_history_days :] == 0)
    assert np.all(np.isnan(found.score[: SETTINGS.min_history_days]))


def test_a_series_shorter_than_the_minimum_history_is_not_scored() -> None:
    found = detect(np.array([1.0, 500.0, 3.0]), 0, SETTINGS)
    assert np.all(np.isnan(found.expected))
    assert not found.is_anomaly.any()


def test_a_spike_is_flagged_on_its_first_day_with_its_impact() -> None:
    values = weekly_series(60, noise=0.02)
    values[45] *= 4
    found = detect(values, MONDAY.weekday(), SETTINGS)
    assert np.flatnonzero(found.is_anomaly).tolist() == [45]
    assert found.direction[45] == "spike"
    assert values[45] - found.expected[45] == pytest.approx(values[45] * 0.75, rel=0.1)
    assert found.upper[45] < values[45]


def test_a_gap_in_a_large_series_is_a_drop_but_in_a_tiny_one_is_below_the_minimum_impact() -> None:
    large = weekly_series(60)
    large[40:42] = 0.0
    found = detect(large, MONDAY.weekday(), SETTINGS)
    assert np.flatnonzero(found.is_anomaly).tolist() == [40, 41]
    assert set(found.direction[[40, 41]]) == {"drop"}
    assert found.episode_start[41] == 40 and found.episode_end[40] == 41
    tiny = weekly_series(60, level=20.0)
    tiny[40:42] = 0.0
    assert not detect(tiny, MONDAY.weekday(), SETTINGS).is_anomaly.any()


def test_a_slow_leak_is_flagged_within_five_days_and_stays_flagged() -> None:
    values = weekly_series(70, noise=0.01)
    values[42:] *= 1.045 ** np.arange(1, 29)
    found = detect(values, MONDAY.weekday(), SETTINGS)
    first = int(np.flatnonzero(found.is_anomaly)[0])
    assert 42 <= first <= 46
    assert found.is_anomaly[first:].all()
    assert found.episode_end[first] == len(values) - 1


def test_a_moderate_step_to_a_new_steady_level_is_not_a_leak() -> None:
    values = weekly_series(70, noise=0.005)
    values[42:] *= 1.15  # a new resource: one step up, then flat
    assert not detect(values, MONDAY.weekday(), SETTINGS).is_anomaly.any()


def test_a_level_shift_is_flagged_then_accepted_as_the_new_normal() -> None:
    values = np.concatenate([weekly_series(42, noise=0.01), weekly_series(42, level=1600.0, noise=0.01, seed=2)])
    found = detect(values, MONDAY.weekday(), SETTINGS)
    flagged = np.flatnonzero(found.is_anomaly)
    assert flagged[0] == 42
    assert flagged[-1] < 42 + SETTINGS.rebaseline_days + SETTINGS.window_days
    assert not found.is_anomaly[-7:].any()


def test_episodes_split_on_a_change_of_direction() -> None:
    flagged = np.array([False, True, True, True, False, True])
    direction = np.array(["", "spike", "spike", "drop", "", "drop"], dtype=object)
    start, end = episodes(flagged, direction)
    assert start.tolist() == [-1, 1, 1, 3, -1, 5]
    assert end.tolist() == [-1, 2, 2, 3, -1, 5]


# --- resuming: a new day is scored from the stored state, with the result of a full rescoring ---------------


def _eventful_series() -> np.ndarray:
    """Spikes, a drop, a leak and a level shift that is accepted: every piece of the detector's state."""
    values = weekly_series(150, noise=0.02, seed=5)
    values[30] *= 4
    values[40:42] = 0.0
    values[55:75] *= 1.045 ** np.arange(1, 21)
    values[90:] *= 1.6
    values[140] *= 3
    return values


def _same_detection(left, right, days: slice) -> None:
    for field in ("expected", "lower", "upper", "score"):
        np.testing.assert_array_equal(getattr(left, field)[days], getattr(right, field)[days], err_msg=field)
    for field in ("direction", "is_anomaly", "episode_start", "episode_end", "run_start", "rebaselined_on"):
        assert getattr(left, field)[days].tolist() == getattr(right, field)[days].tolist(), field


def test_the_eventful_series_exercises_every_part_of_the_state() -> None:
    found = detect(_eventful_series(), MONDAY.weekday(), SETTINGS)
    assert (found.rebaselined_on >= 0).any()  # an accepted level shift
    assert set(found.direction[found.is_anomaly]) == {"spike", "drop"}
    assert (found.run_start[found.is_anomaly] < np.flatnonzero(found.is_anomaly)).any()  # runs longer than a day


@pytest.mark.parametrize("resume_from", [0, 10, 31, 41, 60, 80, 95, 96, 104, 110, 141, 149])
def test_resuming_at_any_day_equals_scoring_the_whole_series(resume_from: int) -> None:
    values = _eventful_series()
    whole = detect(values, MONDAY.weekday(), SETTINGS)
    resumed = detect(values, MONDAY.weekday(), SETTINGS, whole, resume_from)
    _same_detection(resumed, whole, slice(None))


@pytest.mark.parametrize("changed_from", [35, 60, 92, 100, 145])
def test_resuming_after_a_restatement_equals_scoring_the_restated_series(changed_from: int) -> None:
    before = _eventful_series()[:146]
    after = _eventful_series()
    after[changed_from:] *= 0.7  # the provider restated the days from here on, and delivered four more
    earlier = detect(before, MONDAY.weekday(), SETTINGS)
    resume_from = resume_day(before, after, earlier)
    assert resume_from == changed_from
    resumed = detect(after, MONDAY.weekday(), SETTINGS, earlier, resume_from)
    _same_detection(resumed, detect(after, MONDAY.weekday(), SETTINGS), slice(None))


def test_only_the_new_day_and_the_open_episode_are_rewritten() -> None:
    values = _eventful_series()
    open_leak = detect(values[:70], MONDAY.weekday(), SETTINGS)
    start = int(open_leak.episode_start[69])
    assert start > 55 and open_leak.is_anomaly[69]
    assert first_day_to_write(detect(values[:71], 0, SETTINGS, open_leak, 70), 70) == start
    quiet = detect(values[:130], MONDAY.weekday(), SETTINGS)
    assert first_day_to_write(detect(values[:131], 0, SETTINGS, quiet, 130), 130) == 130


def _daily_frame(series: dict[str, np.ndarray], days: int) -> pd.DataFrame:
    rows = [
        {"anomaly_series_key": key, "charge_date": MONDAY + dt.timedelta(days=day), "actual_cost": Decimal(f"{v:.2f}")}
        for key, values in series.items()
        for day, v in enumerate(values[:days])
        if v
    ]
    return pd.DataFrame(rows)


def _merged(stored: pd.DataFrame, written: pd.DataFrame) -> pd.DataFrame:
    """What delete+insert on (series, day) leaves in the table."""
    keys = ["anomaly_series_key", "charge_date"]
    kept = stored.merge(written[keys], on=keys, how="left", indicator=True).query("_merge == 'left_only'")
    merged = pd.concat([kept.drop(columns="_merge"), written], ignore_index=True)
    return merged.sort_values(keys, ignore_index=True).astype(written.dtypes.to_dict())


def test_the_incremental_frame_writes_few_rows_and_leaves_the_table_as_a_full_scoring_would() -> None:
    series = {"aws|EC2|web": _eventful_series(), "gcp|BigQuery|data": weekly_series(150, level=300.0, seed=9)}
    stored = score_frame(_daily_frame(series, 120), SETTINGS)
    written = score_frame(_daily_frame(series, 121), SETTINGS, stored)
    assert len(written) == 2  # one new day per series: no open episode on day 120
    full = score_frame(_daily_frame(series, 121), SETTINGS).sort_values(["anomaly_series_key", "charge_date"])
    pd.testing.assert_frame_equal(_merged(stored, written), full.reset_index(drop=True))
    assert score_frame(_daily_frame(series, 121), SETTINGS, full).empty  # nothing changed, nothing written


def test_stored_scores_made_with_other_settings_are_rescored() -> None:
    series = {"aws|EC2|web": _eventful_series()}
    stored = score_frame(_daily_frame(series, 120), SETTINGS)
    stricter = DetectionSettings(score_threshold=8.0)
    assert len(score_frame(_daily_frame(series, 121), stricter, stored)) == 121


# --- forecasting cost bounded by history ------------------------------------------------------------------


def test_the_tail_of_a_series_keeps_its_calendar() -> None:
    series = series_of(np.arange(10.0), np.arange(10.0) * 2)
    tail = series.tail(4)
    assert tail.start == MONDAY + dt.timedelta(days=6)
    assert tail.usage.tolist() == [6.0, 7.0, 8.0, 9.0] and tail.scheduled.tolist() == [12.0, 14.0, 16.0, 18.0]
    assert series.tail(20).usage.tolist() == series.usage.tolist()


def test_a_backtest_with_a_training_cap_fits_only_the_capped_history() -> None:
    recent = weekly_series(120, seed=3)  # both cuts leave at least the 90 days the cap allows
    old_and_recent = np.concatenate([np.full(70, 50_000.0), recent])  # a very different distant past
    capped = backtest(series_of(old_and_recent, start=MONDAY - dt.timedelta(days=70)), 14, 2, max_train=90)
    alone = backtest(series_of(recent), 14, 2, max_train=90)
    assert [(r.model, r.smape) for r in capped] == [(r.model, r.smape) for r in alone]


def _stored(keys: list[tuple], through: dt.date) -> pd.DataFrame:
    return pd.DataFrame([{"series_key": key[0], "data_through": through} for key in keys])


@pytest.mark.parametrize(
    ("days_later", "expected"),
    [(1, [("new",)]), (6, [("new",)]), (7, [("old",), ("new",)]), (-1, [("old",), ("new",)])],
    ids=["next-day", "six-days", "a-week-refreshes", "older-data-refreshes"],
)
def test_a_stored_backtest_is_kept_for_a_week_and_new_series_are_backtested_at_once(
    days_later: int, expected: list[tuple]
) -> None:
    through = dt.date(2026, 10, 14)
    keys = [("old",), ("new",)]
    due = keys_to_backtest(keys, _stored([("old",)], through), ["series_key"], through + dt.timedelta(days_later), 7)
    assert due == expected
    assert keys_to_backtest(keys, None, ["series_key"], through, 7) == keys


def test_calibration_never_makes_the_95_interval_narrower_than_the_80_one() -> None:
    nominal = seasonal_naive(weekly_series(28), 14)
    calibrated = nominal.calibrated(scale_80=3.0, scale_95=0.5)
    assert np.all(calibrated.lower_95 <= calibrated.lower_80) and np.all(calibrated.upper_80 <= calibrated.upper_95)
    assert np.all(calibrated.upper_80 - calibrated.mean == pytest.approx(3.0 * (nominal.upper_80 - nominal.mean)))
