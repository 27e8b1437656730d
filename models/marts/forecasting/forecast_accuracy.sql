{#- Backtest accuracy per forecast series and candidate model; is_selected marks the model in use. -#}

with

backtested as (

    select * from {{ ref('int_forecast__backtested') }}

),

final as (

    select
        series_type,
        series_key,
        currency,
        model,
        cast(is_selected as boolean) as is_selected,
        cast(origins as integer) as origins,
        cast(horizon_days as integer) as horizon_days,
        cast(points as integer) as points,
        cast(mape as double) as mape,
        cast(smape as double) as smape,
        cast(mae as decimal(38, 2)) as mae,
        cast(coverage_80 as double) as coverage_80,
        cast(coverage_95 as double) as coverage_95,
        cast(interval_scale_80 as double) as interval_scale_80,
        cast(interval_scale_95 as double) as interval_scale_95,
        cast(history_days as integer) as history_days,
        cast(data_through as date) as data_through
    from backtested

)

select * from final
