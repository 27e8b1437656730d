{#- Daily utilisation per resource and metric from both loaders: CloudWatch for AWS and the generic CSV for
    any cloud. When both have the same resource, metric and day, the later load wins. -#}

with

unioned as (

    select * from {{ ref('stg_aws_cloudwatch__metrics') }}
    union all
    select * from {{ ref('stg_utilisation__metrics') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by provider_name, resource_id, metric, metric_date order by loaded_at desc, source_file asc
        ) as load_rank
    from unioned

),

final as (

    select
        metric_date,
        provider_name,
        resource_id,
        metric,
        average_percent,
        maximum_percent,
        source_file
    from ranked
    where load_rank = 1

)

select * from final
