"""finops-warehouse: native cloud billing exports to FOCUS 1.2 marts on DuckDB or Snowflake."""
