"""AWS billing semantics shared by the legacy CUR and CUR 2.0 writers.

`AwsModel` owns one payer's streams, commitments (one Compute Savings Plan, a few no-upfront RIs) and
the static attributes of every line (products, resources, tags). `AwsModel.deliver` yields the rows of
one delivery as `AwsBlock`s (columns of integers and indices); the writers only render them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from finops_warehouse.demo.company import COMPANY, AwsAccount
from finops_warehouse.demo.encode import (
    decimal_text,
    mix64,
    parse_decimal,
    round_units,
    stable_guid,
    stable_int,
    stable_token,
)
from finops_warehouse.demo.labels import AnomalyPlan, AnomalyTracker, anomaly_multiplier
from finops_warehouse.demo.optimize import PLANTED, planted_start_end
from finops_warehouse.demo.streams import (
    CASE_DRIFT,
    DayUsage,
    Owner,
    SpecTable,
    UsageModel,
    UsageSpec,
    build_streams,
    cover_greedy,
)
from finops_warehouse.demo.timeline import Delivery, Period, Window

NULL = np.iinfo(np.int64).min  # sentinel for an empty cell in integer columns
LEGAL_ENTITY = "Amazon Web Services, Inc."
PROVIDER_CODE = {"aws_cur": 1, "aws_cur2": 2}

# Line item types, in code order.
LINE_TYPES = (
    "Usage",
    "SavingsPlanCoveredUsage",
    "SavingsPlanNegation",
    "DiscountedUsage",
    "SavingsPlanRecurringFee",
    "RIFee",
    "Fee",
    "Tax",
    "Credit",
    "Refund",
)
USAGE, SP_COVERED, SP_NEGATION, DISCOUNTED, SP_FEE, RI_FEE, FEE, TAX, CREDIT, REFUND = range(len(LINE_TYPES))
PRICING_TERM = ("OnDemand", "OnDemand", "OnDemand", "Reserved", "Savings Plan", "Reserved", None, None, None, None)
PURCHASE_OPTION = (None, None, None, "No Upfront", "No Upfront", "No Upfront", None, None, None, None)
# Which line types are taxed and count toward the support fee.
_TAXABLE = np.array([True, True, True, True, True, True, True, False, False, False])

_HOUR = "0.0001"
_UNIT = "1"
_FINE = "0.000001"


def _spec(key: str, code: str, usage_type: str, op: str, unit: str, rate: str, quantum: str, base: float,
          profile: str, cap: float | None = None, **attrs: str) -> UsageSpec:  # fmt: skip
    attrs["operation"] = op
    return UsageSpec(key, code, usage_type, unit, rate, quantum, base, profile, cap, attrs)


# The price list. `{p}` is the region prefix ("" in us-east-1, "EU-" in eu-west-1), `{r}` the region code.
AWS_SPECS: tuple[UsageSpec, ...] = (
    _spec("ec2_m6i_xl", "AmazonEC2", "{p}BoxUsage:m6i.xlarge", "RunInstances", "Hrs", "0.192", _HOUR, 22,
          "business", 24, family="Compute Instance", instance_type="m6i.xlarge", nf="8", sp="1",
          resource="instance", desc="$0.192 per On Demand Linux m6i.xlarge Instance Hour"),
    _spec("ec2_c6i_2xl", "AmazonEC2", "{p}BoxUsage:c6i.2xlarge", "RunInstances", "Hrs", "0.34", _HOUR, 22,
          "business", 24, family="Compute Instance", instance_type="c6i.2xlarge", nf="16", sp="1",
          resource="instance", desc="$0.34 per On Demand Linux c6i.2xlarge Instance Hour"),
    _spec("ec2_r6i_l", "AmazonEC2", "{p}BoxUsage:r6i.large", "RunInstances", "Hrs", "0.126", _HOUR, 23,
          "flat", 24, family="Compute Instance", instance_type="r6i.large", nf="4", sp="1",
          resource="instance", desc="$0.126 per On Demand Linux r6i.large Instance Hour",
          ri_desc="USD 0.0 hourly fee per Linux/UNIX (Amazon VPC), r6i.large instance"),
    _spec("ec2_m7g_l", "AmazonEC2", "{p}BoxUsage:m7g.large", "RunInstances", "Hrs", "0.0816", _HOUR, 22,
          "business", 24, family="Compute Instance", instance_type="m7g.large", nf="4", sp="1",
          resource="instance", desc="$0.0816 per On Demand Linux m7g.large Instance Hour"),
    _spec("ec2_t3_m", "AmazonEC2", "{p}BoxUsage:t3.medium", "RunInstances", "Hrs", "0.0416", _HOUR, 14,
          "batch", 24, family="Compute Instance", instance_type="t3.medium", nf="2", sp="1",
          resource="instance", desc="$0.0416 per On Demand Linux t3.medium Instance Hour"),
    _spec("ebs_gp3", "AmazonEC2", "{p}EBS:VolumeUsage.gp3", "CreateVolume-Gp3", "GB-Mo", "0.08", _FINE, 12,
          "flat", family="Storage", resource="volume",
          desc="$0.08 per GB-month of General Purpose (gp3) provisioned storage"),
    _spec("ec2_egress", "AWSDataTransfer", "{p}DataTransfer-Out-Bytes", "RunInstances", "GB", "0.09", _FINE, 40,
          "traffic", family="Data Transfer", desc="$0.090 per GB - first 10 TB / month data transfer out"),
    _spec("nat_hours", "AmazonEC2", "{p}NatGateway-Hours", "NatGateway", "Hrs", "0.045", _HOUR, 24, "flat", 24,
          family="NAT Gateway", resource="nat", desc="$0.045 per NAT Gateway Hour"),
    _spec("nat_bytes", "AmazonEC2", "{p}NatGateway-Bytes", "NatGateway", "GB", "0.045", _FINE, 300, "traffic",
          family="NAT Gateway", resource="nat", desc="$0.045 per GB Data Processed by NAT Gateways"),
    _spec("s3_storage", "AmazonS3", "{p}TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", "0.023", _FINE, 400,
          "flat", family="Storage", resource="bucket", desc="$0.023 per GB - first 50 TB / month of storage used"),
    _spec("s3_put", "AmazonS3", "{p}Requests-Tier1", "PutObject", "Requests", "0.000005", _UNIT, 60000,
          "business", family="API Request", resource="bucket",
          desc="$0.005 per 1,000 PUT, COPY, POST, or LIST requests"),
    _spec("s3_get", "AmazonS3", "{p}Requests-Tier2", "GetObject", "Requests", "0.0000004", _UNIT, 400000,
          "traffic", family="API Request", resource="bucket", desc="$0.0004 per 1,000 GET and all other requests"),
    _spec("rds_r6g_l", "AmazonRDS", "{p}InstanceUsage:db.r6g.large", "CreateDBInstance:0014", "Hrs", "0.225",
          _HOUR, 24, "flat", 24, family="Database Instance", instance_type="db.r6g.large", nf="4",
          resource="rds",
          desc="$0.225 per RDS db.r6g.large Multi-AZ instance hour (or partial hour) running PostgreSQL",
          ri_desc="USD 0.0 hourly fee per PostgreSQL, db.r6g.large instance"),
    _spec("rds_storage", "AmazonRDS", "{p}RDS:GP3-Storage", "CreateDBInstance:0014", "GB-Mo", "0.115", _FINE, 15,
          "flat", family="Database Storage", resource="rds", desc="$0.115 per GB-month of provisioned GP3 storage"),
    _spec("lambda_gbs", "AWSLambda", "{p}Lambda-GB-Second", "Invoke", "Lambda-GB-Second", "0.0000166667", _UNIT,
          90000, "traffic", family="Serverless", resource="lambda",
          desc="AWS Lambda - Total Compute - US East (Northern Virginia)"),
    _spec("lambda_req", "AWSLambda", "{p}Request", "Invoke", "Requests", "0.0000002", _UNIT, 900000, "traffic",
          family="Serverless", resource="lambda", desc="AWS Lambda - Total Requests - US East (Northern Virginia)"),
    _spec("cloudfront_out", "AmazonCloudFront", "US-DataTransfer-Out-Bytes", "GET", "GB", "0.085", _FINE, 150,
          "traffic", family="Data Transfer", resource="cloudfront",
          desc="$0.085 per GB - first 10 TB / month data transfer out (United States)"),
    _spec("ddb_read", "AmazonDynamoDB", "{p}ReadRequestUnits", "GetItem", "ReadRequestUnits", "0.00000025", _UNIT,
          3000000, "traffic", family="Amazon DynamoDB PayPerRequest Throughput", resource="dynamodb",
          desc="$0.25 per million read request units"),
    _spec("ddb_write", "AmazonDynamoDB", "{p}WriteRequestUnits", "PutItem", "WriteRequestUnits", "0.00000125",
          _UNIT, 800000, "traffic", family="Amazon DynamoDB PayPerRequest Throughput", resource="dynamodb",
          desc="$1.25 per million write request units"),
    _spec("ddb_storage", "AmazonDynamoDB", "{p}TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", "0.25", _FINE, 8,
          "flat", family="Database Storage", resource="dynamodb", desc="$0.25 per GB-Month of storage used"),
    _spec("cw_logs", "AmazonCloudWatch", "{p}DataProcessing-Bytes", "PutLogEvents", "GB", "0.5", _FINE, 6,
          "business", family="Data Payload", resource="loggroup", desc="$0.50 per GB custom log data ingested"),
    _spec("cw_metrics", "AmazonCloudWatch", "{p}CW:MetricMonitorUsage", "MetricStorage", "Metrics", "0.3", _FINE,
          12, "flat", family="Metric", desc="$0.30 per metric-month - first 10,000 metrics"),
    _spec("eks_cluster", "AmazonEKS", "{p}AmazonEKS-Hours:perCluster", "CreateOperation", "Hrs", "0.1", _HOUR, 24,
          "flat", 24, family="Compute", resource="eks", desc="Amazon EKS cluster usage"),
    _spec("cache_r6g_l", "AmazonElastiCache", "{p}NodeUsage:cache.r6g.large", "CreateCacheCluster:0002", "Hrs",
          "0.206", _HOUR, 24, "flat", 24, family="Cache Instance", instance_type="cache.r6g.large",
          resource="elasticache", desc="$0.206 per Redis cache.r6g.large node-hour (or partial hour)"),
    _spec("es_r6g_l", "AmazonES", "{p}ESInstance:r6g.large.search", "ESDomain", "Hrs", "0.167", _HOUR, 24, "flat",
          24, family="Amazon OpenSearch Service Instance", instance_type="r6g.large.search", resource="opensearch",
          desc="$0.167 per r6g.large.search instance hour (or partial hour)",
          ri_desc="USD 0.0 hourly fee per Amazon OpenSearch Service, r6g.large.search instance"),
    _spec("sm_train", "AmazonSageMaker", "{r}-Train:ml.g5.xlarge", "CreateTrainingJob", "Hrs", "1.408", _HOUR, 9,
          "batch", 24, family="ML Instance", instance_type="ml.g5.xlarge", resource="sagemaker",
          desc="$1.408 per Training ml.g5.xlarge hour"),
    _spec("vpce_hours", "AmazonVPC", "{r}-VpcEndpoint-Hours", "VpcEndpoint", "Hrs", "0.01", _HOUR, 24, "flat", 24,
          family="VpcEndpoint", resource="vpce", desc="$0.01 per VPC Endpoint Hour"),
    _spec("interregion", "AWSDataTransfer", "{r}-USW2-AWS-Out-Bytes", "RunInstances", "GB", "0.02", _FINE, 150,
          "traffic", family="Data Transfer",
          desc="$0.02 per GB - US East (Northern Virginia) data transfer to US West (Oregon)"),
    _spec("alb_hours", "AWSELB", "{p}LoadBalancerUsage", "LoadBalancing:Application", "Hrs", "0.0225", _HOUR, 24,
          "flat", 24, family="Load Balancer-Application", resource="elb",
          desc="$0.0225 per Application LoadBalancer-hour (or partial hour)"),
    _spec("alb_lcu", "AWSELB", "{p}LCUUsage", "LoadBalancing:Application", "LCU-Hrs", "0.008", _FINE, 120,
          "traffic", family="Load Balancer-Application", resource="elb",
          desc="$0.008 per used Application load balancer capacity unit-hour (or partial hour)"),
    _spec("athena_scan", "AmazonAthena", "{r}-DataScannedInTB", "RunQuery", "Terabytes", "5", _FINE, 1.2, "batch",
          family="Serverless", desc="$5.00 per Terabyte of data scanned"),
    # Used only by planted streams (finops_warehouse.demo.optimize), never drawn into a workload mix.
    _spec("eip_idle", "AmazonVPC", "{p}PublicIPv4:IdleAddress", "AssociateAddressVPC", "Hrs", "0.005", _HOUR, 24,
          "flat", 24, family="IP Address", resource="eip", desc="$0.005 per idle public IPv4 address per hour"),
    _spec("cache_m6g_xl", "AmazonElastiCache", "{p}NodeUsage:cache.m6g.xlarge", "CreateCacheCluster:0002", "Hrs",
          "0.308", _HOUR, 24, "flat", 24, family="Cache Instance", instance_type="cache.m6g.xlarge",
          resource="elasticache", desc="$0.308 per Redis cache.m6g.xlarge node-hour (or partial hour)"),
    _spec("glue_dpu", "AWSGlue", "{r}-ETL-DPU-Hour", "Jobrun", "DPU-Hour", "0.44", _HOUR, 40, "batch",
          family="AWS Glue", resource="gluejob",
          desc="$0.44 per DPU-Hour for each Apache Spark or Spark Streaming job"),
)  # fmt: skip

# Workload mixes: which specs an account of a given purpose runs, with relative stream counts.
MIXES: dict[str, tuple[tuple[str, float], ...]] = {
    "web": (("ec2_m6i_xl", 6), ("ec2_c6i_2xl", 3), ("ebs_gp3", 6), ("ec2_egress", 1), ("cloudfront_out", 1),
            ("alb_hours", 1), ("alb_lcu", 1), ("s3_storage", 1), ("s3_get", 1), ("s3_put", 0.5),
            ("cache_r6g_l", 1), ("lambda_gbs", 1), ("lambda_req", 1), ("cw_logs", 1), ("cw_metrics", 0.5)),
    "database": (("rds_r6g_l", 4), ("rds_storage", 4), ("ec2_r6i_l", 2), ("ebs_gp3", 2), ("ddb_read", 1),
                 ("ddb_write", 1), ("ddb_storage", 1), ("lambda_gbs", 1), ("lambda_req", 1), ("cw_logs", 1)),
    "service": (("ec2_m7g_l", 5), ("ebs_gp3", 4), ("ddb_read", 1), ("ddb_write", 1), ("ddb_storage", 1),
                ("lambda_gbs", 1), ("lambda_req", 1), ("alb_hours", 1), ("alb_lcu", 1), ("cw_logs", 1)),
    "ci": (("ec2_t3_m", 6), ("ebs_gp3", 4), ("s3_storage", 1), ("s3_put", 1), ("s3_get", 1), ("cw_logs", 1)),
    "datalake": (("s3_storage", 6), ("s3_put", 3), ("s3_get", 3), ("ec2_r6i_l", 3), ("ebs_gp3", 2),
                 ("athena_scan", 1), ("glue_dpu", 2), ("cw_logs", 0.5)),
    "network": (("nat_hours", 2), ("nat_bytes", 2), ("vpce_hours", 3), ("interregion", 1), ("ec2_egress", 1)),
    "kubernetes": (("eks_cluster", 0.3), ("ec2_m6i_xl", 6), ("ec2_c6i_2xl", 3), ("ebs_gp3", 5), ("cw_logs", 1),
                   ("ec2_egress", 0.5)),
    "search": (("es_r6g_l", 4), ("ec2_m6i_xl", 3), ("ebs_gp3", 3), ("s3_storage", 1), ("s3_get", 1),
               ("s3_put", 1), ("ec2_egress", 1), ("cw_logs", 1)),
    "ml": (("sm_train", 3), ("ec2_m6i_xl", 2), ("s3_storage", 3), ("s3_get", 1), ("ebs_gp3", 2), ("cw_logs", 1)),
}  # fmt: skip

ACCOUNT_WEIGHT = {
    "commerce-storefront-prod": 1.5,
    "commerce-checkout-prod": 1.0,
    "commerce-payments-prod": 0.9,
    "platform-identity-prod": 0.7,
    "platform-devtools": 0.8,
    "data-lake-prod": 1.1,
    "shared-networking": 0.3,
    "shared-eks": 1.3,
    "searchly-prod": 1.3,
    "searchly-ml": 0.7,
}
SHARED_CONSUMERS = {"kubernetes": ("storefront", "checkout", "identity", "developer-tools")}

REGIONS = {
    "aws_cur": ("us-east-1", "", "USE1", "US East (N. Virginia)"),
    "aws_cur2": ("eu-west-1", "EU-", "EU", "EU (Ireland)"),
}

PRODUCT_NAMES = {
    "AmazonEC2": "Amazon Elastic Compute Cloud",
    "AmazonS3": "Amazon Simple Storage Service",
    "AmazonRDS": "Amazon Relational Database Service",
    "AWSLambda": "AWS Lambda",
    "AmazonCloudFront": "Amazon CloudFront",
    "AmazonDynamoDB": "Amazon DynamoDB",
    "AmazonCloudWatch": "AmazonCloudWatch",
    "AmazonEKS": "Amazon Elastic Container Service for Kubernetes",
    "AmazonElastiCache": "Amazon ElastiCache",
    "AmazonES": "Amazon OpenSearch Service",
    "AmazonSageMaker": "Amazon SageMaker",
    "AmazonVPC": "Amazon Virtual Private Cloud",
    "AWSDataTransfer": "AWS Data Transfer",
    "AWSELB": "Elastic Load Balancing",
    "AmazonAthena": "Amazon Athena",
    "AWSGlue": "AWS Glue",
    "ComputeSavingsPlans": "Savings Plans for AWS Compute usage",
    "AWSSupportBusiness": "AWS Support (Business)",
}


@dataclass(frozen=True)
class ReservationPlan:
    """A no-upfront reserved-instance purchase covering one spec in one account.

    Attributes:
        account_name: Linked account whose streams it covers.
        spec: Spec key covered.
        hourly_rate: Effective hourly rate (decimal text).
        max_covered: Most streams it covers (reserved units are one more: some capacity is unused).
        label: Name used in the ARN.
    """

    account_name: str
    spec: str
    hourly_rate: str
    max_covered: int
    label: str


RESERVATIONS = {
    "aws_cur": (
        ReservationPlan("commerce-payments-prod", "rds_r6g_l", "0.1395", 10, "payments-pg-r6g"),
        ReservationPlan("data-lake-prod", "ec2_r6i_l", "0.07938", 8, "datalake-r6i"),
    ),
    "aws_cur2": (ReservationPlan("searchly-prod", "es_r6g_l", "0.11189", 8, "search-domains"),),
}
SP_DISCOUNT_PERCENT = 72  # Savings Plan rate = 72% of on-demand
SP_COMMIT_SHARE = 0.9  # commitment sized to 90% of a typical weekday's eligible spend
TAX_RATE_BP = 625  # sales tax, basis points of 1/100 percent (6.25%)
CREDITS = {
    "aws_cur": (
        ("data-lake-prod", "AmazonAthena", -1500000000000, "AWS Credits - Data Analytics Migration Program"),
        ("platform-devtools", "AmazonEC2", -2000000000000, "AWS Credits - Graviton Adoption Promotion"),
        ("shared-eks", "AmazonEKS", -750000000000, "AWS Credits - Containers Modernization Promotion"),
    ),
    "aws_cur2": (("searchly-ml", "AmazonSageMaker", -1000000000000, "AWS Credits - Generative AI Accelerator"),),
}
REFUNDS = {
    "aws_cur": ("commerce-checkout-prod", "AmazonEC2", -4200000000000, "Refund for duplicate EC2 capacity charge"),
    "aws_cur2": ("searchly-prod", "AmazonES", -1850000000000, "Refund for OpenSearch service event credit"),
}


@dataclass
class AwsBlock:
    """Rows of one chunk. Integer columns use NULL for empty cells.

    Attributes:
        static: Index into the model's static attribute table.
        line_type: Index into LINE_TYPES.
        start_day: Usage start as a window day index (may be negative for a month start).
        end_day: Usage end (exclusive) as a window day index.
        key_day: Date ordinal used to derive the stable line item id.
        ints: Integer columns (money 1e-10, quantities 1e-6); see AwsModel.INT_COLUMNS.
        ri: Reservation index per row, -1 when none.
        sp: Savings Plan index per row, -1 when none.
    """

    static: np.ndarray
    line_type: np.ndarray
    start_day: np.ndarray
    end_day: np.ndarray
    key_day: np.ndarray
    ints: dict[str, np.ndarray]
    ri: np.ndarray
    sp: np.ndarray

    def __len__(self) -> int:
        return len(self.static)

    @staticmethod
    def concat(blocks: list[AwsBlock]) -> AwsBlock:
        """Stack blocks row-wise.

        Args:
            blocks: Blocks with the same integer columns.

        Returns:
            One block.
        """
        cat = np.concatenate
        return AwsBlock(
            static=cat([b.static for b in blocks]),
            line_type=cat([b.line_type for b in blocks]),
            start_day=cat([b.start_day for b in blocks]),
            end_day=cat([b.end_day for b in blocks]),
            key_day=cat([b.key_day for b in blocks]),
            ints={k: cat([b.ints[k] for b in blocks]) for k in blocks[0].ints},
            ri=cat([b.ri for b in blocks]),
            sp=cat([b.sp for b in blocks]),
        )


@dataclass
class Ledger:
    """Totals of one delivery, from the generated integers.

    Attributes:
        billed: Sum of UnblendedCost.
        effective: Amortised total (see effective_cost).
        rows: Line count.
    """

    billed: int = 0
    effective: int = 0
    rows: int = 0


@dataclass
class _AssemblyState:
    ledger: Ledger
    ri_used_cost: np.ndarray
    ri_used_amount: np.ndarray
    tax_base: np.ndarray
    support_base: int = 0


@dataclass(frozen=True)
class Reservation:
    """A purchased RI.

    Attributes:
        arn: Reservation ARN.
        account_id: Account that bought it (its RIFee lands there).
        spec: Spec index covered.
        units: Reserved instances.
        rate: Effective hourly rate, 1e-10 units.
    """

    arn: str
    account_id: str
    spec: int
    units: int
    rate: int


@dataclass(frozen=True)
class SavingsPlan:
    """The payer's Compute Savings Plan.

    Attributes:
        arn: Savings Plan ARN.
        hourly: Hourly commitment, 1e-10 units.
    """

    arn: str
    hourly: int

    @property
    def daily(self) -> int:
        """Commitment per day."""
        return self.hourly * 24


INT_COLUMNS = (
    "amount", "nf", "normalized", "rate", "cost", "od_rate", "od_cost", "ri_eff", "ri_recurring_for_usage",
    "ri_amortized_upfront_bp", "ri_unused_upfront", "ri_unused_recurring", "ri_total_units", "ri_unused_qty",
    "sp_rate", "sp_eff", "sp_total", "sp_used", "sp_recurring_bp", "sp_amortized_upfront_bp",
)  # fmt: skip


def effective_cost(block: AwsBlock) -> np.ndarray:
    """Amortised cost per row, exactly as the brief defines the AWS effective total.

    Args:
        block: Rows.

    Returns:
        int64 effective cost per row (1e-10 units).
    """
    t = block.line_type
    v = {k: np.where(a == NULL, 0, a) for k, a in block.ints.items()}
    out = v["cost"].copy()
    out[t == SP_COVERED] = v["sp_eff"][t == SP_COVERED]
    out[t == SP_NEGATION] = 0
    fee = t == SP_FEE
    out[fee] = v["sp_total"][fee] - v["sp_used"][fee]
    out[t == DISCOUNTED] = v["ri_eff"][t == DISCOUNTED]
    ri_fee = t == RI_FEE
    out[ri_fee] = v["ri_unused_upfront"][ri_fee] + v["ri_unused_recurring"][ri_fee]
    return out


class AwsModel:
    """One payer's estate and billing logic."""

    def __init__(
        self, layout: str, window: Window, seed: int, n_streams: int, plans: list[AnomalyPlan], tracker: AnomalyTracker
    ) -> None:
        """Build streams, commitments and the static attribute table.

        Args:
            layout: "aws_cur" or "aws_cur2".
            window: Run window.
            seed: Run seed.
            n_streams: Target stream count.
            plans: Anomaly plans.
            tracker: Anomaly baseline tracker.
        """
        self.layout = layout
        self.window = window
        self.seed = seed
        self.tracker = tracker
        self.payer = COMPANY.payer(layout)
        self.region, self.prefix, self.region_tag, self.location = REGIONS[layout]
        self.accounts = COMPANY.accounts_of(self.payer.account_id)
        self._account_by_name = {a.name: a for a in self.accounts}
        owners = [
            Owner(a.account_id, a.team, a.env, a.purpose, ACCOUNT_WEIGHT[a.name], SHARED_CONSUMERS.get(a.purpose, ()))
            for a in self.accounts
        ]
        code = PROVIDER_CODE[layout]
        rng = np.random.default_rng([seed, code, 0])
        self.table = SpecTable(AWS_SPECS)
        cost_centers = {t.key: t.cost_center for t in COMPANY.teams}
        self.streams = build_streams(rng, self.table, owners, MIXES, n_streams, window, CASE_DRIFT, cost_centers)
        self.reservations, self.stream_ri = self._reserve()
        # Planted after the commitments are placed, so no reservation picks them up.
        self.planted, fixed_quantity = self._plant(cost_centers)
        self.stream_ri = np.concatenate([self.stream_ri, np.full(len(self.streams) - len(self.stream_ri), -1)])
        self.sp_rate_q, self.sp_rate = self._sp_rates()
        self.sp_eligible = np.array([self.table.specs[s].attrs.get("sp") == "1" for s in self.streams.spec])
        self.sp_eligible &= (self.stream_ri < 0) & np.isnan(fixed_quantity)
        self.savings_plan = self._size_savings_plan()
        sub_accounts = [self.accounts[o].account_id for o in self.streams.owner]
        # A planted stream's service is blanked for targeting only: no anomaly ever bends it.
        services = ["" if i in self.planted else self.table.service[s] for i, s in enumerate(self.streams.spec)]
        multiplier, self.anomaly_targets = anomaly_multiplier(plans, layout, sub_accounts, services)
        self.usage = UsageModel(
            self.streams, self.table, window, seed, code, multiplier, fixed=self.stream_ri >= 0,
            fixed_quantity=fixed_quantity,
        )  # fmt: skip
        self.static = StaticTable(self)

    # ----- commitments -----------------------------------------------------------------------------------

    def _reserve(self) -> tuple[list[Reservation], np.ndarray]:
        stream_ri = np.full(len(self.streams), -1, dtype=np.int64)
        reservations = []
        for plan in RESERVATIONS[self.layout]:
            account = self._account_by_name[plan.account_name]
            owner = self.accounts.index(account)
            spec = self.table.index[plan.spec]
            candidates = np.flatnonzero((self.streams.owner == owner) & (self.streams.spec == spec))
            covered = candidates[: plan.max_covered]
            self.streams.pin(covered, self.window.days)
            stream_ri[covered] = len(reservations)
            guid = stable_guid(self.seed, self.layout, plan.label)
            service = "rds" if plan.spec.startswith("rds") else "es" if plan.spec.startswith("es") else "ec2"
            resource = {"rds": "ri", "es": "reserved-instance", "ec2": "reserved-instances"}[service]
            arn = f"arn:aws:{service}:{self.region}:{account.account_id}:{resource}/{guid}"
            units = len(covered) + 1
            reservations.append(Reservation(arn, account.account_id, spec, units, parse_decimal(plan.hourly_rate, 10)))
        return reservations, stream_ri

    def _plant(self, cost_centers: dict[str, str]) -> tuple[dict[int, str], np.ndarray]:
        """Append the planted savings opportunities (legacy-CUR payer only) as streams.

        Returns:
            (stream index -> planted resource id, fixed daily quantity per stream, NaN where not fixed).
        """
        resources = list(PLANTED) if self.layout == "aws_cur" else []
        s = self.streams
        first = len(s)
        for r in resources:
            account = self._account_by_name[r.account_name]
            start, end = planted_start_end(r, self.window.days)
            s.spec = np.append(s.spec, self.table.index[r.spec])
            s.owner = np.append(s.owner, self.accounts.index(account))
            s.base = np.append(s.base, float(r.quantity))
            s.start = np.append(s.start, start)
            s.end = np.append(s.end, end)
            s.serial = np.append(s.serial, len(s.serial))
            s.team.append(account.team)
            s.tag_key.append("team")
            s.tag_value.append(account.team)
            s.env.append(account.env)
            s.cost_center.append(cost_centers.get(account.team or ""))
        fixed = np.full(len(s), np.nan)
        fixed[first:] = [float(r.quantity) for r in resources]
        return {first + i: r.resource_id for i, r in enumerate(resources)}, fixed

    def steady_instance_ids(self, count: int) -> list[str]:
        """Resource ids of the first `count` ordinary (not planted, not reserved) instances running all window.

        Args:
            count: How many.

        Returns:
            EC2 instance ids, in stream order.
        """
        s = self.streams
        found = [
            str(self.static.text["resource_id"][i])
            for i in range(len(s))
            if i not in self.planted
            and self.stream_ri[i] < 0
            and self.table.specs[s.spec[i]].attrs.get("resource") == "instance"
            and s.start[i] == 0
            and s.end[i] == self.window.days
        ]
        return found[:count]

    def _sp_rates(self) -> tuple[np.ndarray, np.ndarray]:
        # Rounded to 6 decimals so rate x (1e-4 hour quanta) stays a whole number of 1e-10 units.
        sp_rate = round_units(self.table.rate * SP_DISCOUNT_PERCENT // 100, 10**4)
        return sp_rate * self.table.quantum // 10**6, sp_rate

    def _size_savings_plan(self) -> SavingsPlan:
        s = self.streams
        spec = s.spec
        weekday_hours = np.minimum(s.base * 1.07, self.table.cap[spec])
        quanta = weekday_hours / self.table.quantum_float[spec]
        eligible = self.sp_eligible & (s.start == 0)
        daily = float(np.sum(quanta[eligible] * self.sp_rate_q[spec][eligible])) * SP_COMMIT_SHARE
        hourly = round_units(int(daily / 24), 10**7)  # a round commitment: whole tenths of a cent per hour
        arn = f"arn:aws:savingsplans::{self.payer.account_id}:savingsplan/{stable_guid(self.seed, self.layout, 'sp')}"
        return SavingsPlan(arn, max(int(hourly), 10**9))

    # ----- deliveries ------------------------------------------------------------------------------------

    def deliver(self, delivery: Delivery, ledger: Ledger) -> Iterator[AwsBlock]:
        """Yield one delivery's rows: one block per day, then the month-level charges.

        Args:
            delivery: Which period and how far.
            ledger: Filled with the delivery's totals as blocks are yielded.

        Yields:
            Row blocks.
        """
        n_products = len(self.static.product_codes)
        state = _AssemblyState(
            ledger,
            np.zeros(len(self.reservations), dtype=np.int64),
            np.zeros(len(self.reservations), dtype=np.int64),
            np.zeros(n_products, dtype=np.int64),
        )
        period = delivery.period
        for day in range(period.first_day, delivery.last_day + 1):
            partial = 0
            if delivery.partial_last_day:
                partial = {delivery.last_day: 2, delivery.last_day - 1: 1}.get(day, 0)
            block = self._day_block(day, partial, state, track=delivery.current)
            self._book(block, state)
            yield block
        block = self._month_block(period, state, closed=not period.is_open)
        self._book(block, state)
        yield block

    def _book(self, block: AwsBlock, state: _AssemblyState) -> None:
        cost = np.where(block.ints["cost"] == NULL, 0, block.ints["cost"])
        state.ledger.billed += int(cost.sum())
        state.ledger.effective += int(effective_cost(block).sum())
        state.ledger.rows += len(block)
        taxable = _TAXABLE[block.line_type]
        product = self.static.product_index[block.static]
        np.add.at(state.tax_base, product[taxable], cost[taxable])
        state.support_base += int(cost[taxable & (block.line_type != FEE)].sum())

    def _day_block(self, day: int, partial: int, state: _AssemblyState, track: bool) -> AwsBlock:
        usage = self.usage.day(day, partial)
        if track:
            for plan, mask in self.anomaly_targets:
                sel = mask[usage.index]
                self.tracker.observe(plan, day, usage.cost[sel], usage.anomaly[sel])
        ri = self.stream_ri[usage.index]
        on_ri = ri >= 0
        sp_cost = usage.quanta * self.sp_rate_q[self.streams.spec[usage.index]]
        covered = cover_greedy(sp_cost, self.sp_eligible[usage.index], self.savings_plan.daily)
        on_demand = ~on_ri & ~covered
        parts = [
            self._usage_rows(usage.subset(on_demand), day, USAGE),
            self._usage_rows(usage.subset(covered), day, SP_COVERED),
            self._usage_rows(usage.subset(covered), day, SP_NEGATION),
            self._usage_rows(usage.subset(on_ri), day, DISCOUNTED),
        ]
        used = int(sp_cost[covered].sum())
        parts.append(self._sp_fee_row(day, used))
        block = AwsBlock.concat(parts)
        ri_rows = block.line_type == DISCOUNTED
        np.add.at(state.ri_used_cost, block.ri[ri_rows], block.ints["ri_eff"][ri_rows])
        np.add.at(state.ri_used_amount, block.ri[ri_rows], block.ints["amount"][ri_rows])
        return block

    def _empty_ints(self, n: int) -> dict[str, np.ndarray]:
        return {k: np.full(n, NULL, dtype=np.int64) for k in INT_COLUMNS}

    def _usage_rows(self, usage: DayUsage, day: int, line_type: int) -> AwsBlock:
        n = len(usage.index)
        spec = self.streams.spec[usage.index]
        rate = self.table.rate[spec]
        ints = self._empty_ints(n)
        nf = self.static.nf[usage.index]
        ints["amount"] = usage.amount
        ints["nf"] = nf
        ints["normalized"] = np.where(nf == NULL, NULL, usage.amount * np.where(nf == NULL, 0, nf))
        ints["od_rate"] = rate
        ints["od_cost"] = usage.cost
        ri = np.full(n, -1, dtype=np.int64)
        sp = np.full(n, -1, dtype=np.int64)
        if line_type in (USAGE, SP_COVERED):
            ints["rate"], ints["cost"] = rate, usage.cost
        if line_type == SP_NEGATION:
            ints["rate"], ints["cost"] = -rate, -usage.cost
        if line_type in (SP_COVERED, SP_NEGATION):
            sp[:] = 0
            ints["sp_rate"] = self.sp_rate[spec]
        if line_type == SP_COVERED:
            ints["sp_eff"] = usage.quanta * self.sp_rate_q[spec]
        if line_type == DISCOUNTED:
            ri = self.stream_ri[usage.index]
            ri_rate = np.array([r.rate for r in self.reservations], dtype=np.int64)[ri]
            ints["rate"] = np.zeros(n, dtype=np.int64)
            ints["cost"] = np.zeros(n, dtype=np.int64)
            ints["ri_eff"] = usage.amount * ri_rate // 10**6
            ints["ri_recurring_for_usage"] = ints["ri_eff"]
        ordinal = int(self.window.ordinal[day])
        return AwsBlock(
            static=usage.index.astype(np.int64),
            line_type=np.full(n, line_type, dtype=np.int8),
            start_day=np.full(n, day, dtype=np.int64),
            end_day=np.full(n, day + 1, dtype=np.int64),
            key_day=np.full(n, ordinal, dtype=np.int64),
            ints=ints,
            ri=ri,
            sp=sp,
        )

    def _sp_fee_row(self, day: int, used: int) -> AwsBlock:
        sp = self.savings_plan
        period = self.window.period_of_day(day)
        ints = self._empty_ints(1)
        ints["amount"][:] = 24 * 10**6
        ints["rate"][:] = sp.hourly
        ints["cost"][:] = sp.daily
        ints["sp_total"][:] = sp.daily
        ints["sp_used"][:] = used
        ints["sp_recurring_bp"][:] = sp.hourly * 24 * period.days_in_month
        ints["sp_amortized_upfront_bp"][:] = 0
        return self._single(self.static.sp_fee_row, SP_FEE, day, day + 1, ints, sp_index=0)

    def _single(
        self, static: int, line_type: int, start: int, end: int, ints: dict[str, np.ndarray], sp_index: int = -1,
        ri_index: int = -1,
    ) -> AwsBlock:  # fmt: skip
        return AwsBlock(
            static=np.array([static], dtype=np.int64),
            line_type=np.array([line_type], dtype=np.int8),
            start_day=np.array([start], dtype=np.int64),
            end_day=np.array([end], dtype=np.int64),
            key_day=np.array([int(self.window.ordinal[0]) + start], dtype=np.int64),
            ints=ints,
            ri=np.array([ri_index], dtype=np.int64),
            sp=np.array([sp_index], dtype=np.int64),
        )

    def _month_block(self, period: Period, state: _AssemblyState, closed: bool) -> AwsBlock:
        """Month-level charges: RI fees, support, credits, the refund, then tax on all of it."""
        start = (period.start - self.window.start_date).days
        end = (period.end - self.window.start_date).days
        hours = period.days_in_month * 24
        rows: list[AwsBlock] = []
        for r_i, res in enumerate(self.reservations):
            ints = self._empty_ints(1)
            fee = res.units * hours * res.rate
            ints["amount"][:] = res.units * hours * 10**6
            ints["rate"][:] = res.rate
            ints["cost"][:] = fee
            ints["ri_amortized_upfront_bp"][:] = 0
            ints["ri_unused_upfront"][:] = 0
            ints["ri_unused_recurring"][:] = fee - state.ri_used_cost[r_i]
            ints["ri_total_units"][:] = res.units * hours * 10**6
            ints["ri_unused_qty"][:] = res.units * hours * 10**6 - state.ri_used_amount[r_i]
            rows.append(self._single(self.static.ri_fee_rows[r_i], RI_FEE, start, end, ints, ri_index=r_i))
            state.support_base += fee
        rows.append(self._amount_row(self.static.support_row, FEE, start, end, _support_fee(state.support_base)))
        for c_i, (_, _, amount, _) in enumerate(CREDITS[self.layout]):
            rows.append(self._amount_row(self.static.credit_rows[c_i], CREDIT, start, end, amount))
        if period.index == self._refund_period():
            rows.append(self._amount_row(self.static.refund_row, REFUND, start, end, REFUNDS[self.layout][2]))
        support_product = self.static.product_index[self.static.support_row]
        state.tax_base[support_product] += _support_fee(state.support_base)
        for p_i, base in enumerate(state.tax_base):
            tax = int(round_units(int(base) * TAX_RATE_BP // 10000, 10**8))
            if tax:
                rows.append(self._amount_row(self.static.tax_rows[p_i], TAX, start, end, tax))
        return AwsBlock.concat(rows)

    def _refund_period(self) -> int:
        periods = self.window.periods
        return periods[-2].index if len(periods) >= 2 else periods[-1].index

    def _amount_row(self, static: int, line_type: int, start: int, end: int, amount: int) -> AwsBlock:
        ints = self._empty_ints(1)
        ints["amount"][:] = 10**6
        ints["cost"][:] = amount
        return self._single(static, line_type, start, end, ints)

    def invoice_id(self, period: Period) -> str | None:
        """AWS invoice number of a closed period (None while the month is open).

        Args:
            period: Billing period.

        Returns:
            Invoice id or None.
        """
        if period.is_open:
            return None
        return str(1_000_000_000 + stable_int(self.payer.account_id, period.label) % 9_000_000_000)

    def line_item_ids(self, block: AwsBlock) -> np.ndarray:
        """Stable hashes for identity/LineItemId: same line, same id in every delivery.

        Args:
            block: Rows.

        Returns:
            uint64 hash per row.
        """
        return mix64(self.seed, int(self.payer.account_id), block.static, block.key_day, block.line_type)


def _support_fee(spend: int) -> int:
    """AWS Business support: 10% of the first $10K, 7% to $80K, 5% to $250K, 3% above; at least $100."""
    usd = 10**10
    tiers = ((10_000 * usd, 10), (80_000 * usd, 7), (250_000 * usd, 5), (None, 3))
    fee, lower = 0, 0
    for upper, pct in tiers:
        part = max(0, (spend if upper is None else min(spend, upper)) - lower)
        fee += part * pct // 100
        if upper is None or spend <= upper:
            break
        lower = upper
    return int(round_units(max(fee, 100 * usd), 10**8))


class StaticTable:
    """Per-line attributes that do not change by day: streams first, then fee/tax/credit pseudo-lines.

    Text columns are Python lists aligned with the row index; writers convert them once.
    """

    def __init__(self, model: AwsModel) -> None:
        """Collect the attributes of every stream and pseudo-line.

        Args:
            model: The payer model (streams, specs, commitments).
        """
        self._model = model
        self._rows: list[dict[str, str | None]] = []
        self._nf: list[int] = []
        for i in range(len(model.streams)):
            self._add(*self._stream_row(i))
        self.ri_fee_rows: list[int] = []
        self.credit_rows: list[int] = []
        self._tax_row_index: dict[str, int] = {}
        self._add_pseudo_rows()
        self.text = {k: [r[k] for r in self._rows] for k in self._rows[0]}
        self.nf = np.array(self._nf, dtype=np.int64)
        self.product_codes = sorted(set(self.text["product_code"]))
        lookup = {c: i for i, c in enumerate(self.product_codes)}
        self.product_index = np.array([lookup[c] for c in self.text["product_code"]], dtype=np.int64)
        self.tax_rows = [self._tax_row_index[c] for c in self.product_codes]

    def __len__(self) -> int:
        return len(self._rows)

    def _add(self, row: dict[str, str | None], nf: int = NULL) -> int:
        self._rows.append(row)
        self._nf.append(nf)
        return len(self._rows) - 1

    def _base_row(self, account: AwsAccount | None, code: str) -> dict[str, str | None]:
        m = self._model
        account_id = account.account_id if account else m.payer.account_id
        account_name = account.name if account else m.payer.name
        return {
            "usage_account_id": account_id,
            "usage_account_name": account_name,
            "product_code": code,
            "usage_type": None,
            "operation": None,
            "availability_zone": None,
            "resource_id": None,
            "desc_usage": None,
            "desc_negation": None,
            "desc_ri": None,
            "product_name": PRODUCT_NAMES[code],
            "product_family": None,
            "region": None,
            "location": None,
            "instance_type": None,
            "servicecode": code,
            "sku": None,
            "rate_code": None,
            "rate_code_ri": None,
            "rate_id": None,
            "unit": None,
            "tax_type": None,
            "bill_type": "Anniversary",
            "tag_key": None,
            "tag_value": None,
            "env": None,
            "cost_center": None,
            "created_by": None,
        }

    def _stream_row(self, i: int) -> tuple[dict[str, str | None], int]:
        m = self._model
        s = m.streams
        spec = m.table.specs[s.spec[i]]
        account = m.accounts[s.owner[i]]
        usage_type = spec.usage_type.format(p=m.prefix, r=m.region_tag)
        sku = stable_token("ABCDEFGHJKMNPQRSTUVWXYZ23456789", 16, spec.key, m.region)
        h = int(mix64(s.serial[i], PROVIDER_CODE[m.layout], m.seed)[()])
        row = self._base_row(account, spec.service)
        row.update(
            usage_type=usage_type,
            operation=spec.attrs["operation"],
            availability_zone=f"{m.region}{'abc'[h % 3]}" if spec.attrs.get("instance_type") else None,
            resource_id=m.planted.get(i)
            or _resource_id(spec.attrs.get("resource"), account, m.region, int(s.serial[i]), h),
            desc_usage=spec.attrs["desc"],
            desc_negation=f"SavingsPlanNegation used by AccountId : {account.account_id} and UsageSku : {sku}",
            desc_ri=spec.attrs.get("ri_desc"),
            product_family=spec.attrs.get("family"),
            region=m.region,
            location=m.location,
            instance_type=spec.attrs.get("instance_type"),
            servicecode="AWSDataTransfer" if spec.service == "AWSDataTransfer" else spec.service,
            sku=sku,
            rate_code=f"{sku}.JRTCKXETXF.6YS6EN2CT7",
            rate_code_ri=f"{sku}.38NPMPTW36.6YS6EN2CT7",
            rate_id=str(10_000_000_000 + h % 89_999_999_999),
            unit=spec.unit,
            tag_key=s.tag_key[i],
            tag_value=s.tag_value[i],
            env=s.env[i],
            cost_center=s.cost_center[i],
            created_by=_created_by(h) if spec.attrs.get("resource") in ("instance", "volume") else None,
        )
        nf = int(spec.attrs["nf"]) if "nf" in spec.attrs else NULL
        return row, nf

    def _add_pseudo_rows(self) -> None:
        m = self._model
        sp_row = self._base_row(None, "ComputeSavingsPlans")
        sp_row.update(
            usage_type="ComputeSP:1yrNoUpfront",
            desc_usage="1 year No Upfront Compute Savings Plan",
            product_family="Savings Plans",
            unit="Hrs",
            sku=stable_token("ABCDEFGHJKMNPQRSTUVWXYZ23456789", 16, "computesp", m.layout),
        )
        self.sp_fee_row = self._add(sp_row)
        for res in m.reservations:
            spec = m.table.specs[res.spec]
            account = next(a for a in m.accounts if a.account_id == res.account_id)
            row = self._base_row(account, spec.service)
            heavy = spec.usage_type.format(p=m.prefix, r=m.region_tag).split(":")[-1]
            row.update(
                usage_type=f"{m.prefix}HeavyUsage:{heavy}",
                operation=spec.attrs["operation"],
                desc_usage=f"USD {decimal_text(res.rate, 10)} hourly fee per {spec.attrs['instance_type']} instance",
                product_family=spec.attrs.get("family"),
                region=m.region,
                location=m.location,
                instance_type=spec.attrs.get("instance_type"),
                unit="Hrs",
            )
            self.ri_fee_rows.append(self._add(row))
        support = self._base_row(None, "AWSSupportBusiness")
        support.update(usage_type="Dollar", desc_usage="AWS Support (Business)", product_family="Support")
        self.support_row = self._add(support)
        for name, code, _, text in CREDITS[m.layout]:
            row = self._base_row(m._account_by_name[name], code)
            row.update(desc_usage=text)
            self.credit_rows.append(self._add(row))
        name, code, _, text = REFUNDS[m.layout]
        refund = self._base_row(m._account_by_name[name], code)
        refund.update(desc_usage=text, bill_type="Refund")
        self.refund_row = self._add(refund)
        codes = sorted({r["product_code"] for r in self._rows})
        for code in codes:
            row = self._base_row(None, code)
            row.update(desc_usage=f"Tax for product code {code}", tax_type="Sales Tax")
            self._tax_row_index[code] = self._add(row)


def _created_by(h: int) -> str:
    principals = ("AssumedRole:AROAXNWEXAMPLEDEPLOY:terraform-ci", "IAMUser:AIDAXNWEXAMPLEOPS01:ops-admin")
    return principals[h % 2]


def _resource_id(kind: str | None, account: AwsAccount, region: str, serial: int, h: int) -> str | None:
    hex17 = f"{h & ((1 << 68) - 1):017x}"[-17:]
    name = account.name.split("-", 1)[-1]
    acct = account.account_id
    patterns = {
        "instance": f"i-{hex17}",
        "volume": f"vol-{hex17}",
        "nat": f"arn:aws:ec2:{region}:{acct}:natgateway/nat-{hex17}",
        "bucket": f"nw-{name}-{serial:05d}",
        "rds": f"arn:aws:rds:{region}:{acct}:db:{name}-pg-{serial:05d}",
        "lambda": f"arn:aws:lambda:{region}:{acct}:function:{name}-fn-{serial:05d}",
        "cloudfront": f"arn:aws:cloudfront::{acct}:distribution/E{hex17[:13].upper()}",
        "dynamodb": f"arn:aws:dynamodb:{region}:{acct}:table/{name}-{serial:05d}",
        "loggroup": f"arn:aws:logs:{region}:{acct}:log-group:/aws/{name}/{serial:05d}",
        "eks": f"arn:aws:eks:{region}:{acct}:cluster/{name}-{serial:05d}",
        "elasticache": f"arn:aws:elasticache:{region}:{acct}:cluster:{name}-redis-{serial:05d}",
        "opensearch": f"arn:aws:es:{region}:{acct}:domain/{name}-{serial:05d}",
        "sagemaker": f"arn:aws:sagemaker:{region}:{acct}:training-job/{name}-train-{serial:05d}",
        "vpce": f"vpce-{hex17}",
        "elb": f"arn:aws:elasticloadbalancing:{region}:{acct}:loadbalancer/app/{name}-{serial:05d}/{hex17[:16]}",
        "gluejob": f"arn:aws:glue:{region}:{acct}:job/{name}-etl-{serial:05d}",
    }
    return patterns.get(kind or "")
