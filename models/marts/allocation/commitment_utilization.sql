{#- Reserved instances, savings plans and committed-use discounts per commitment and month, from the FOCUS
    commitment columns:
      used commitment cost    EffectiveCost of usage rows the commitment covered (CommitmentDiscountStatus Used);
      unused commitment cost  EffectiveCost of its Unused rows (the part of the commitment nobody used);
      utilization             used / (used + unused);
      covered contracted cost ContractedCost of the covered usage: what it would have cost without the
                              commitment;
      eligible contracted cost ContractedCost of all usage (covered or not) of the services the commitment
                              covered that month, in the same billing account;
      coverage                covered / eligible contracted cost;
      net savings             covered contracted cost - (used + unused);
      effective savings rate  net savings / eligible contracted cost.
    Coverage and the savings rate of several commitments on the same services add up to the service's.
    When covered usage carries no commitment cost (GCP today: the committed-use credit zeroes the usage row
    and the commitment fee is on rows without a CommitmentDiscountId), utilization and savings cannot be
    computed from FOCUS and are null; is_commitment_cost_linked says so. -#}

with

focus_costs as (

    select
        cast({{ month_start('ChargePeriodStart') }} as date) as charge_month,
        x_SourceProvider,
        BillingAccountId,
        BillingCurrency,
        ServiceName,
        ChargeCategory,
        CommitmentDiscountId,
        CommitmentDiscountType,
        CommitmentDiscountCategory,
        CommitmentDiscountName,
        CommitmentDiscountStatus,
        EffectiveCost,
        ContractedCost
    from {{ ref('focus_costs') }}

),

commitment_rows as (

    select * from focus_costs
    where CommitmentDiscountId is not null

),

commitments as (

    select
        charge_month,
        x_SourceProvider,
        BillingAccountId,
        BillingCurrency,
        CommitmentDiscountId,
        max(CommitmentDiscountType) as CommitmentDiscountType,
        max(CommitmentDiscountCategory) as CommitmentDiscountCategory,
        max(CommitmentDiscountName) as CommitmentDiscountName,
        sum(case when ChargeCategory = 'Usage' and CommitmentDiscountStatus = 'Used' then EffectiveCost else 0 end)
            as used_commitment_cost,
        sum(case when CommitmentDiscountStatus = 'Unused' then EffectiveCost else 0 end) as unused_commitment_cost,
        sum(
            case when ChargeCategory = 'Usage' and CommitmentDiscountStatus = 'Used' then ContractedCost else 0 end
        ) as covered_contracted_cost
    from commitment_rows
    group by charge_month, x_SourceProvider, BillingAccountId, BillingCurrency, CommitmentDiscountId

),

covered_services as (

    select distinct
        charge_month,
        x_SourceProvider,
        BillingAccountId,
        BillingCurrency,
        CommitmentDiscountId,
        ServiceName
    from commitment_rows
    where ChargeCategory = 'Usage' and CommitmentDiscountStatus = 'Used'

),

service_usage as (

    select
        charge_month,
        x_SourceProvider,
        BillingAccountId,
        BillingCurrency,
        ServiceName,
        sum(ContractedCost) as eligible_contracted_cost
    from focus_costs
    where ChargeCategory = 'Usage' and coalesce(CommitmentDiscountStatus, 'Used') = 'Used'
    group by charge_month, x_SourceProvider, BillingAccountId, BillingCurrency, ServiceName

),

eligible as (

    select
        covered_services.charge_month,
        covered_services.x_SourceProvider,
        covered_services.BillingAccountId,
        covered_services.BillingCurrency,
        covered_services.CommitmentDiscountId,
        count(*) as covered_service_count,
        sum(service_usage.eligible_contracted_cost) as eligible_contracted_cost
    from covered_services
    inner join service_usage
        on
            covered_services.charge_month = service_usage.charge_month
            and covered_services.x_SourceProvider = service_usage.x_SourceProvider
            and covered_services.BillingAccountId = service_usage.BillingAccountId
            and covered_services.BillingCurrency = service_usage.BillingCurrency
            and covered_services.ServiceName = service_usage.ServiceName
    group by
        covered_services.charge_month,
        covered_services.x_SourceProvider,
        covered_services.BillingAccountId,
        covered_services.BillingCurrency,
        covered_services.CommitmentDiscountId

),

measured as (

    select
        commitments.*,
        commitments.used_commitment_cost + commitments.unused_commitment_cost as commitment_cost,
        coalesce(eligible.covered_service_count, 0) as covered_service_count,
        coalesce(eligible.eligible_contracted_cost, 0) as eligible_contracted_cost,
        (
            commitments.used_commitment_cost <> 0
            or commitments.unused_commitment_cost <> 0
            or commitments.covered_contracted_cost = 0
        ) as is_commitment_cost_linked
    from commitments
    left join eligible
        on
            commitments.charge_month = eligible.charge_month
            and commitments.x_SourceProvider = eligible.x_SourceProvider
            and commitments.BillingAccountId = eligible.BillingAccountId
            and commitments.BillingCurrency = eligible.BillingCurrency
            and commitments.CommitmentDiscountId = eligible.CommitmentDiscountId

),

final as (

    select
        charge_month,
        x_SourceProvider,
        BillingAccountId,
        BillingCurrency,
        CommitmentDiscountId,
        CommitmentDiscountType,
        CommitmentDiscountCategory,
        CommitmentDiscountName,
        covered_service_count,
        cast(used_commitment_cost as {{ money_type() }}) as used_commitment_cost,
        cast(unused_commitment_cost as {{ money_type() }}) as unused_commitment_cost,
        cast(commitment_cost as {{ money_type() }}) as commitment_cost,
        case
            when is_commitment_cost_linked and commitment_cost > 0
                then {{ divide_decimal('used_commitment_cost', 'commitment_cost') }}
        end as utilization,
        cast(covered_contracted_cost as {{ money_type() }}) as covered_contracted_cost,
        cast(eligible_contracted_cost as {{ money_type() }}) as eligible_contracted_cost,
        case
            when eligible_contracted_cost > 0
                then {{ divide_decimal('covered_contracted_cost', 'eligible_contracted_cost') }}
        end as coverage,
        case
            when is_commitment_cost_linked
                then cast(covered_contracted_cost - commitment_cost as {{ money_type() }})
        end as net_savings,
        case
            when is_commitment_cost_linked and eligible_contracted_cost > 0
                then {{ divide_decimal('covered_contracted_cost - commitment_cost', 'eligible_contracted_cost') }}
        end as effective_savings_rate,
        is_commitment_cost_linked
    from measured

)

select * from final
