"""Forecasting and anomaly detection over daily cost series.

Pure functions over numpy arrays and pandas frames, with no dbt or engine imports, so the dbt Python
models call them unchanged on DuckDB and on Snowpark, and unit tests run them on synthetic series.
"""
