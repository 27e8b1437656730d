{#- Daily effective-cost forecasts per series through the end of next month, money as DECIMAL. -#}

with

predicted as (

    select * from {{ ref('int_forecast__predicted') }}

),

final as (

    select
        series_type,
        series_key,
        currency,
        cast(forecast_date as date) as forecast_date,
        model,
        cast(predicted_cost as decimal(38, 2)) as predicted_cost,
        cast(lower_80 as decimal(38, 2)) as lower_80,
        cast(upper_80 as decimal(38, 2)) as upper_80,
        cast(lower_95 as decimal(38, 2)) as lower_95,
        cast(upper_95 as decimal(38, 2)) as upper_95
    from predicted

)

select * from final
