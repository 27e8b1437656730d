"""GCP Cloud Billing detailed export (BigQuery schema) as newline-delimited JSON extracts.

    OUT/gcp/billing_export/invoice_month=202608/<export_time yyyymmddTHHMMSSZ>-000000000000.json

Each file is a full extract of one invoice month as of its export time; a newer file for the same month
supersedes older ones. The previous closed month gets a second, later extract that adds a late
`adjustment` row. Costs are JSON numbers with at most 6 decimals; credits are negative.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from finops_warehouse.demo.company import COMPANY, GcpProject
from finops_warehouse.demo.encode import (
    MAX_ROWS_PER_FILE,
    decimal_strings,
    join_lines,
    mix64,
    parse_decimal,
    round_units,
    stable_token,
    take_strings,
)
from finops_warehouse.demo.labels import AnomalyPlan, AnomalyTracker, anomaly_multiplier
from finops_warehouse.demo.output import InvoiceTotal, Progress, ProviderOutput, Ticker
from finops_warehouse.demo.streams import Owner, SpecTable, TagStyle, UsageModel, UsageSpec, build_streams, cover_greedy
from finops_warehouse.demo.timeline import UTC, Period, Window

PROVIDER_CODE = 4
MICRO = 10**4  # 1e-6 in 1e-10 units: GCP costs carry at most 6 decimals
_GIB = 2**30
_H = "0.0001"
_F = "0.000001"

# GCP labels must be lower case without spaces, so drift shows as key and separator variants.
GCP_LABELS = TagStyle(
    keys=("team", "owner_team"),
    key_weights=(0.85, 0.15),
    value_drift=(str, lambda v: v.replace("-", "_")),
    drift_weights=(0.85, 0.15),
)

SERVICE_IDS = {
    "Compute Engine": "6F81-5844-456A",
    "BigQuery": "24E6-581D-38E5",
    "Cloud Storage": "95FF-2EF5-5EA1",
    "Dataflow": "58CD-E7C3-72CA",
    "Cloud Run": "152E-C115-5142",
    "Cloud Logging": "5490-F7B7-8DF6",
    "Cloud Monitoring": "58CD-E7C3-72CB",
    "Cloud Pub/Sub": "A1E8-BE35-7EBC",
    "Vertex AI": "C7E2-9256-1C43",
    "Kubernetes Engine": "CCD8-9BF1-090E",
    "Invoice": "0000-0000-0000",
}


def _spec(key: str, service: str, sku: str, rate: str, quantum: str, base: float, profile: str,
          usage_unit: str, pricing_unit: str, factor: float, cap: float | None = None,
          **attrs: str) -> UsageSpec:  # fmt: skip
    attrs.update(usage_unit=usage_unit, factor=repr(factor))
    return UsageSpec(key, service, sku, pricing_unit, rate, quantum, base, profile, cap, attrs)


GCP_SPECS: tuple[UsageSpec, ...] = (
    _spec("n2_core", "Compute Engine", "N2 Instance Core running in Americas", "0.031611", _H, 150, "business",
          "seconds", "hour", 3600, resource="instance", cud="1", sud="1"),
    _spec("n2_ram", "Compute Engine", "N2 Instance Ram running in Americas", "0.004237", _H, 600, "business",
          "byte-seconds", "gibibyte hour", _GIB * 3600, resource="instance", sud="1"),
    _spec("t4_gpu", "Compute Engine", "Nvidia Tesla T4 GPU running in Americas", "0.35", _H, 24, "batch",
          "seconds", "hour", 3600, cap=24, resource="instance"),
    _spec("pd_capacity", "Compute Engine", "Storage PD Capacity", "0.04", _F, 20, "flat", "byte-seconds",
          "gibibyte month", _GIB * 2_592_000, resource="disk"),
    _spec("egress", "Compute Engine", "Network Internet Egress from Americas to Americas", "0.12", _F, 40,
          "traffic", "bytes", "gibibyte", _GIB, resource="instance"),
    _spec("bq_analysis", "BigQuery", "Analysis", "6.25", _F, 2.5, "batch", "bytes", "tebibyte", 2**40,
          resource="dataset"),
    _spec("bq_storage", "BigQuery", "Active Logical Storage", "0.02", _F, 70, "flat", "byte-seconds",
          "gibibyte month", _GIB * 2_592_000, resource="dataset"),
    _spec("gcs_standard", "Cloud Storage", "Standard Storage US Multi-region", "0.026", _F, 90, "flat",
          "byte-seconds", "gibibyte month", _GIB * 2_592_000, resource="bucket"),
    _spec("gcs_class_a", "Cloud Storage", "Multi-Region Standard Class A Operations", "0.00001", "1", 150000,
          "business", "requests", "count", 1, resource="bucket"),
    _spec("df_vcpu", "Dataflow", "vCPU Time Batch Iowa", "0.056", _H, 300, "batch", "seconds", "hour", 3600,
          resource="job"),
    _spec("df_ram", "Dataflow", "RAM Time Batch Iowa", "0.003557", _H, 1200, "batch", "byte-seconds",
          "gibibyte hour", _GIB * 3600, resource="job"),
    _spec("run_cpu", "Cloud Run", "CPU Allocation Time", "0.000024", "1", 250000, "traffic", "seconds", "second",
          1, resource="service", free="1"),
    _spec("run_mem", "Cloud Run", "Memory Allocation Time", "0.0000025", "1", 500000, "traffic", "byte-seconds",
          "gibibyte second", _GIB, resource="service", free="1"),
    _spec("log_storage", "Cloud Logging", "Log Storage cost", "0.5", _F, 25, "business", "bytes", "gibibyte",
          _GIB),
    _spec("metric_volume", "Cloud Monitoring", "Metric Volume", "0.258", _F, 250, "flat", "bytes", "mebibyte",
          2**20),
    _spec("pubsub", "Cloud Pub/Sub", "Message Delivery Basic", "40", _F, 0.4, "traffic", "bytes", "tebibyte",
          2**40),
    _spec("vertex_t4", "Vertex AI", "Custom Model Training Nvidia Tesla T4 GPU running in Americas", "0.4025", _H,
          40, "batch", "seconds", "hour", 3600, resource="training", promo="1"),
    _spec("gke_cluster", "Kubernetes Engine", "Regional Kubernetes Clusters", "0.1", _H, 24, "flat", "seconds",
          "hour", 3600, cap=24, resource="cluster"),
)  # fmt: skip

MIXES: dict[str, tuple[tuple[str, float], ...]] = {
    "bq": (("bq_analysis", 4), ("bq_storage", 3), ("gcs_standard", 2), ("gcs_class_a", 1), ("log_storage", 0.5)),
    "ml": (("vertex_t4", 4), ("t4_gpu", 3), ("n2_core", 3), ("n2_ram", 3), ("pd_capacity", 3),
           ("gcs_standard", 2)),
    "pipelines": (("df_vcpu", 4), ("df_ram", 4), ("pubsub", 2), ("gcs_standard", 2), ("gcs_class_a", 1),
                  ("bq_storage", 1)),
    "observability": (("log_storage", 3), ("metric_volume", 3), ("n2_core", 1), ("n2_ram", 1),
                      ("pd_capacity", 1)),
    "serverless": (("run_cpu", 4), ("run_mem", 4), ("gcs_standard", 1), ("gcs_class_a", 1), ("egress", 1),
                   ("log_storage", 0.5)),
    "gke": (("gke_cluster", 0.3), ("n2_core", 5), ("n2_ram", 5), ("pd_capacity", 4), ("egress", 1),
            ("log_storage", 1)),
}  # fmt: skip
PROJECT_WEIGHT = {
    "nw-analytics-bq": 1.0,
    "nw-ml-training": 1.0,
    "nw-data-pipelines": 1.0,
    "nw-observability": 0.6,
    "nw-catalog-api": 0.8,
    "nw-shared-gke": 1.2,
}
SHARED_CONSUMERS = {"gke": ("catalog", "storefront", "search", "sre")}
REGION = ("us-central1", "US", "us-central1-a")
CUD_PROJECT = "nw-shared-gke"
CUD_RATE = "0.019915"  # N2 core, 1-year resource-based commitment, per vCPU hour
CUD_SHARE = 0.85  # commit to 85% of the typical weekday N2 core hours
SUD_PERCENT = 20
PROMO_PERCENT = 30
FREE_TIER_DAILY = 1_440_000_000  # $0.144 of Cloud Run per service per day
TAX_BP = 625
ADJUSTMENT = -2_500_000_000_000  # $250.00 goodwill credit

# Row kinds and their cost_type.
REGULAR, CUD_FEE, TAX, ADJUST = 0, 1, 2, 3
COST_TYPES = ("regular", "regular", "tax", "adjustment")
# Credit kinds: (type, name, full_name, id prefix).
CREDIT_KINDS = (
    ("COMMITTED_USAGE_DISCOUNT", "Committed Usage Discount: CPU", "Committed use discount: N2 cores",
     "CommittedUsageDiscount"),
    ("SUSTAINED_USAGE_DISCOUNT", "Sustained Usage Discount", None, "SustainedUsageDiscount"),
    ("PROMOTION", "Vertex AI promotional credit", "Vertex AI Training Promotion 2026", "VertexAIPromotion"),
    ("FREE_TIER", "Free Tier", None, "FreeTier"),
)  # fmt: skip
CUD_CREDIT, SUD_CREDIT, PROMO_CREDIT, FREE_CREDIT = range(len(CREDIT_KINDS))


@dataclass
class GcpBlock:
    """Rows of one chunk. Money is 1e-10 units (multiples of 1e-6), quantities 1e-6.

    Attributes:
        static: Index into the static fragment table.
        kind: REGULAR / CUD_FEE / TAX / ADJUST.
        start: Usage start, seconds since the epoch.
        end: Usage end, seconds since the epoch.
        export: Row export time, microseconds since the epoch.
        quantity: Amount in pricing units (1e-6 units).
        cost: Cost (1e-10 units).
        credit_kind: Credit kind index, -1 when none.
        credit: Credit amount (negative, 1e-10 units).
    """

    static: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray
    export: np.ndarray
    quantity: np.ndarray
    cost: np.ndarray
    credit_kind: np.ndarray
    credit: np.ndarray

    def __len__(self) -> int:
        return len(self.static)

    @staticmethod
    def concat(blocks: list[GcpBlock]) -> GcpBlock:
        """Stack blocks row-wise.

        Args:
            blocks: Blocks.

        Returns:
            One block.
        """
        fields = GcpBlock.__dataclass_fields__
        return GcpBlock(**{f: np.concatenate([getattr(b, f) for b in blocks]) for f in fields})


@dataclass(frozen=True)
class Extract:
    """One extract file of an invoice month.

    Attributes:
        period: Invoice month.
        exported_at: Extract time.
        with_adjustment: Whether it carries the late adjustment row.
        current: Whether it is the newest extract of its month.
    """

    period: Period
    exported_at: dt.datetime
    with_adjustment: bool
    current: bool


class GcpModel:
    """The GCP estate: projects, streams, an N2 core commitment, credits and taxes."""

    def __init__(self, window: Window, seed: int, n_streams: int, plans: list[AnomalyPlan], tracker: AnomalyTracker):
        """Build the estate.

        Args:
            window: Run window.
            seed: Run seed.
            n_streams: Target stream count.
            plans: Anomaly plans.
            tracker: Anomaly baseline tracker.
        """
        self.window = window
        self.seed = seed
        self.tracker = tracker
        self.projects = COMPANY.gcp_projects
        owners = [
            Owner(
                p.project_id,
                p.team,
                p.env,
                p.purpose,
                PROJECT_WEIGHT[p.project_id],
                SHARED_CONSUMERS.get(p.purpose, ()),
            )
            for p in self.projects
        ]
        rng = np.random.default_rng([seed, PROVIDER_CODE, 0])
        self.table = SpecTable(GCP_SPECS)
        cost_centers = {t.key: t.cost_center for t in COMPANY.teams}
        self.streams = build_streams(rng, self.table, owners, MIXES, n_streams, window, GCP_LABELS, cost_centers)
        spec_attrs = [self.table.specs[s].attrs for s in self.streams.spec]
        self.cud_eligible = np.array([a.get("cud") == "1" for a in spec_attrs])
        self.sud_eligible = np.array([a.get("sud") == "1" for a in spec_attrs])
        self.promo = np.array([a.get("promo") == "1" for a in spec_attrs])
        self.free = np.array([a.get("free") == "1" for a in spec_attrs])
        self.cud_hours = self._size_commitment()
        projects = [self.projects[o].project_id for o in self.streams.owner]
        services = [self.table.service[s] for s in self.streams.spec]
        multiplier, self.anomaly_targets = anomaly_multiplier(plans, "gcp", projects, services)
        self.usage = UsageModel(self.streams, self.table, window, seed, PROVIDER_CODE, multiplier)
        self.fragments = StaticFragments(self)

    def _size_commitment(self) -> int:
        s = self.streams
        typical = np.sum(s.base[self.cud_eligible & (s.start == 0)]) * 1.07 * CUD_SHARE
        return int(typical // 24) * 24 * 10**6  # whole committed vCPUs, in 1e-6 vCPU-hours per day

    def extracts(self) -> list[Extract]:
        """Every extract file to write, oldest first per month.

        Returns:
            The extracts.
        """
        w = self.window
        today = w.end_date + dt.timedelta(days=1)
        out = []
        closed = [p for p in w.periods if not p.is_open]
        for period in w.periods:
            if period.is_open:
                out.append(Extract(period, dt.datetime.combine(today, dt.time(6, 41, 17), UTC), False, True))
                continue
            first = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(4, 12, 5), UTC)
            late = period is closed[-1]
            out.append(Extract(period, first, False, not late))
            if late:
                out.append(Extract(period, dt.datetime.combine(today, dt.time(7, 3, 48), UTC), True, True))
        return out

    def rows(self, extract: Extract, totals: list[int]) -> Iterator[GcpBlock]:
        """Yield an extract's rows: one block per day, then tax (and the late adjustment).

        Args:
            extract: The extract.
            totals: [billed, rows] accumulator, updated as blocks are yielded.

        Yields:
            Row blocks.
        """
        period = extract.period
        net_by_project = np.zeros(len(self.projects), dtype=np.int64)
        for day in range(period.first_day, period.last_day + 1):
            block = self._day_block(day, track=extract.current)
            owner = self.fragments.project_index[block.static]
            np.add.at(net_by_project, owner, block.cost + block.credit)
            yield self._book(block, totals)
        tail = [self._tax_rows(period, extract, net_by_project)]
        if extract.with_adjustment:
            tail.append(self._adjustment_row(period, extract))
        yield self._book(GcpBlock.concat(tail), totals)

    @staticmethod
    def _book(block: GcpBlock, totals: list[int]) -> GcpBlock:
        totals[0] += int(block.cost.sum()) + int(block.credit.sum())
        totals[1] += len(block)
        return block

    def _day_block(self, day: int, track: bool) -> GcpBlock:
        usage = self.usage.day(day)
        cost = round_units(usage.cost, MICRO)
        if track:
            for plan, mask in self.anomaly_targets:
                sel = mask[usage.index]
                self.tracker.observe(plan, day, cost[sel], usage.anomaly[sel])
        idx = usage.index
        covered = cover_greedy(usage.amount, self.cud_eligible[idx], self.cud_hours)
        credit_kind = np.full(len(idx), -1)
        credit = np.zeros(len(idx), dtype=np.int64)
        credit_kind[covered] = CUD_CREDIT
        credit[covered] = -cost[covered]
        sud = self.sud_eligible[idx] & ~covered
        credit_kind[sud] = SUD_CREDIT
        credit[sud] = -round_units(cost[sud] * SUD_PERCENT // 100, MICRO)
        promo = self.promo[idx]
        credit_kind[promo] = PROMO_CREDIT
        credit[promo] = -round_units(cost[promo] * PROMO_PERCENT // 100, MICRO)
        free = self.free[idx]
        credit_kind[free] = FREE_CREDIT
        credit[free] = -np.minimum(cost[free], FREE_TIER_DAILY)
        start = self._epoch(day)
        n = len(idx)
        jitter = (mix64(self.seed, idx, day) % np.uint64(4 * 3600 * 10**6)).astype(np.int64)
        rows = GcpBlock(
            static=idx,
            kind=np.full(n, REGULAR),
            start=np.full(n, start),
            end=np.full(n, start + 86400),
            export=(start + 86400 + 3600) * 10**6 + jitter,
            quantity=usage.amount,
            cost=cost,
            credit_kind=credit_kind,
            credit=credit,
        )
        fee = self._single(self.fragments.cud_fee, CUD_FEE, start, start + 86400, start + 86400 + 5400)
        fee.quantity[:] = self.cud_hours
        fee.cost[:] = round_units(self.cud_hours * parse_decimal(CUD_RATE, 10) // 10**6, MICRO)
        return GcpBlock.concat([rows, fee])

    def _epoch(self, day: int) -> int:
        return int((self.window.timestamp(day) - dt.datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())

    def _single(self, static: int, kind: int, start: int, end: int, export_s: float) -> GcpBlock:
        return GcpBlock(
            static=np.array([static]),
            kind=np.array([kind]),
            start=np.array([start]),
            end=np.array([end]),
            export=np.array([int(export_s * 10**6)]),
            quantity=np.array([0], dtype=np.int64),
            cost=np.array([0], dtype=np.int64),
            credit_kind=np.array([-1]),
            credit=np.array([0], dtype=np.int64),
        )

    def _tax_rows(self, period: Period, extract: Extract, net_by_project: np.ndarray) -> GcpBlock:
        start = self._epoch((period.start - self.window.start_date).days)
        end = self._epoch((period.end - self.window.start_date).days)
        export = extract.exported_at.timestamp() - 1800
        rows = []
        for p_i, net in enumerate(net_by_project):
            row = self._single(self.fragments.tax_rows[p_i], TAX, start, end, export)
            row.cost[:] = round_units(int(net) * TAX_BP // 10000, 10**8)
            rows.append(row)
        return GcpBlock.concat(rows)

    def _adjustment_row(self, period: Period, extract: Extract) -> GcpBlock:
        # The credit refers to an incident before this invoice month: the usage time is earlier.
        start = self._epoch((period.start - self.window.start_date).days - 10)
        row = self._single(
            self.fragments.adjustment, ADJUST, start, start + 86400, extract.exported_at.timestamp() - 3600
        )
        row.cost[:] = ADJUSTMENT
        return row


class StaticFragments:
    """Pre-rendered JSON fragments per line (streams, then pseudo-lines), so rows are built by concatenation."""

    def __init__(self, model: GcpModel) -> None:
        """Render every static fragment once.

        Args:
            model: The GCP model.
        """
        self._lines: list[tuple[str, str, str | None, str | None, str, float, int]] = []
        s = model.streams
        for i in range(len(s)):
            spec = model.table.specs[s.spec[i]]
            project = model.projects[s.owner[i]]
            labels = [{"key": s.tag_key[i], "value": s.tag_value[i]}] if s.tag_key[i] else []
            labels.append({"key": "env", "value": s.env[i]})
            if s.cost_center[i]:
                labels.append({"key": "cost_center", "value": s.cost_center[i].lower()})
            resource = _resource(spec, project, int(s.serial[i]))
            self._add(
                _head(spec.service, spec.usage_type), _middle(project, labels, True, resource),
                (spec.attrs["usage_unit"], spec.unit), _price(spec.rate, spec.unit), float(spec.attrs["factor"]),
                int(s.owner[i]),
            )  # fmt: skip
        projects = {p.project_id: i for i, p in enumerate(model.projects)}
        gke, pipelines = projects[CUD_PROJECT], projects["nw-data-pipelines"]
        self.cud_fee = self._add(
            _head("Compute Engine", "Commitment v1: N2 Cpu in Americas for 1 Year"),
            _middle(model.projects[gke], [], True, None), ("seconds", "hour"), _price(CUD_RATE, "hour"), 3600.0, gke,
        )  # fmt: skip
        self.adjustment = self._add(
            _head("Dataflow", "Dataflow service credit"), _middle(model.projects[pipelines], [], False, None),
            (None, None), "null", 0.0, pipelines,
        )  # fmt: skip
        self.tax_rows = [
            self._add(_head("Invoice", "Tax"), _middle(project, [], False, None), (None, None), "null", 0.0, p_i)
            for p_i, project in enumerate(model.projects)
        ]
        heads, middles, units, prices, factors, owners = zip(*self._lines, strict=True)
        self.head = pa.array(heads)
        self.middle = pa.array(middles)
        self.usage_unit = pa.array([f',"unit":{_js(u)},"amount_in_pricing_units":' for u, _ in units])
        self.pricing_unit = pa.array([f',"pricing_unit":{_js(p)}}},' for _, p in units])
        self.price = pa.array(prices)
        self.factor = np.array(factors)
        self.project_index = np.array(owners, dtype=np.int64)
        self.credit_head = pa.array([f'[{{"name":{_js(n)},"amount":' for _, n, _, _ in CREDIT_KINDS])
        tails = []
        for kind, _, full_name, prefix in CREDIT_KINDS:
            credit_id = f"{prefix}/{stable_token('0123456789ABCDEF', 12, model.seed, prefix)}"
            tails.append(f',"full_name":{_js(full_name)},"id":"{credit_id}","type":"{kind}"}}]')
        self.credit_tail = pa.array(tails)

    def _add(
        self, head: str, middle: str, units: tuple[str | None, str | None], price: str, factor: float, project: int
    ) -> int:
        self._lines.append((head, middle, units, price, factor, project))
        return len(self._lines) - 1


def _js(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _head(service: str, sku: str) -> str:
    sku_id = stable_token("0123456789ABCDEF", 12, service, sku)
    return (
        f'{{"billing_account_id":{_js(COMPANY.gcp_billing_account_id)},'
        f'"service":{_js({"id": SERVICE_IDS[service], "description": service})},'
        f'"sku":{_js({"id": f"{sku_id[:4]}-{sku_id[4:8]}-{sku_id[8:]}", "description": sku})},'
    )


def _middle(project: GcpProject, labels: list[dict[str, str]], located: bool, resource: dict | None) -> str:
    org = COMPANY.gcp_organization_number
    folder = COMPANY.gcp_folders[project.folder]
    bu_name = next(b.name for b in COMPANY.business_units if b.key == project.folder)
    project_json = {
        "id": project.project_id,
        "number": project.number,
        "name": project.name,
        "labels": [{"key": "team", "value": project.team}] if project.team else [],
        "ancestry_numbers": f"/{org}/{folder}/",
        "ancestors": [
            {"resource_name": f"projects/{project.number}", "display_name": project.name},
            {"resource_name": f"folders/{folder}", "display_name": bu_name},
            {"resource_name": f"organizations/{org}", "display_name": COMPANY.domain},
        ],
    }
    location = (
        {"location": REGION[0], "country": REGION[1], "region": REGION[0], "zone": REGION[2]}
        if located
        else {"location": None, "country": None, "region": None, "zone": None}
    )
    return (
        f'"project":{_js(project_json)},"labels":{_js(labels)},"system_labels":[],'
        f'"location":{_js(location)},"resource":{_js(resource or {"name": None, "global_name": None})},"tags":[],'
    )


def _price(rate: str, unit: str) -> str:
    return f'{{"effective_price":{rate},"tier_start_amount":0,"unit":{_js(unit)},"pricing_unit_quantity":1}}'


def _resource(spec: UsageSpec, project: GcpProject, serial: int) -> dict[str, str] | None:
    kind = spec.attrs.get("resource")
    if kind is None:
        return None
    name = f"{project.project_id.removeprefix('nw-')}-{kind}-{serial:05d}"
    paths = {
        "instance": f"//compute.googleapis.com/projects/{project.project_id}/zones/{REGION[2]}/instances/{name}",
        "disk": f"//compute.googleapis.com/projects/{project.project_id}/zones/{REGION[2]}/disks/{name}",
        "dataset": f"//bigquery.googleapis.com/projects/{project.project_id}/datasets/{name.replace('-', '_')}",
        "bucket": f"//storage.googleapis.com/projects/_/buckets/{name}",
        "job": f"//dataflow.googleapis.com/projects/{project.project_id}/locations/{REGION[0]}/jobs/{name}",
        "service": f"//run.googleapis.com/projects/{project.project_id}/locations/{REGION[0]}/services/{name}",
        "training": f"//aiplatform.googleapis.com/projects/{project.number}/locations/{REGION[0]}/customJobs/{serial}",
        "cluster": f"//container.googleapis.com/projects/{project.project_id}/locations/{REGION[0]}/clusters/{name}",
    }
    return {"name": name, "global_name": paths[kind]}


def _timestamps(seconds: np.ndarray) -> pa.Array:
    unique, inverse = np.unique(seconds, return_inverse=True)
    texts = pa.array([dt.datetime.fromtimestamp(int(s), UTC).strftime('"%Y-%m-%d %H:%M:%S UTC"') for s in unique])
    return take_strings(texts, inverse)


def _export_times(micros: np.ndarray) -> pa.Array:
    seconds = micros // 10**6
    base = _timestamps(seconds)
    fraction = pa.array(micros % 10**6 + 10**6).cast(pa.string())
    # "2026-08-02 04:12:33 UTC" -> "2026-08-02 04:12:33.123456 UTC"
    head = pc.utf8_slice_codeunits(base, 0, 20)
    return pc.binary_join_element_wise(head, ".", pc.utf8_slice_codeunits(fraction, 1), ' UTC"', "")


def encode(model: GcpModel, block: GcpBlock, period: Period) -> bytes:
    """Render rows as newline-delimited JSON in BigQuery export field order.

    Args:
        model: The GCP model.
        block: Rows.
        period: Invoice month.

    Returns:
        UTF-8 bytes.
    """
    f = model.fragments
    s = block.static
    cost = decimal_strings(block.cost, 10)
    amount = pa.array(block.quantity / 1e6 * f.factor[s]).cast(pa.string())
    has_credit = block.credit_kind >= 0
    credits = pc.if_else(
        pa.array(has_credit),
        pc.binary_join_element_wise(
            take_strings(f.credit_head, np.maximum(block.credit_kind, 0)),
            decimal_strings(block.credit, 10),
            take_strings(f.credit_tail, np.maximum(block.credit_kind, 0)),
            "",
        ),
        "[]",
    )
    cost_type = take_strings(pa.array([f'"{c}"' for c in COST_TYPES]), block.kind)
    info = {
        "id": f"adj-{period.compact}-dataflow-01",
        "description": "Goodwill credit for Dataflow service disruption",
        "mode": "MANUAL_ADJUSTMENT",
        "type": "GENERAL_ADJUSTMENT",
    }
    adjustment = pc.if_else(pa.array(block.kind == ADJUST), _js(info), "null")
    parts: list[pa.Array | str] = [
        take_strings(f.head, s), '"usage_start_time":', _timestamps(block.start), ',"usage_end_time":',
        _timestamps(block.end), ",", take_strings(f.middle, s), '"export_time":', _export_times(block.export),
        ',"cost":', cost, ',"currency":"USD","currency_conversion_rate":1,"usage":{"amount":', amount,
        take_strings(f.usage_unit, s), decimal_strings(block.quantity, 6), take_strings(f.pricing_unit, s),
        '"credits":', credits, f',"invoice":{{"month":"{period.compact}","publisher_type":"GOOGLE"}},"cost_type":',
        cost_type, ',"adjustment_info":', adjustment, ',"price":', take_strings(f.price, s), ',"cost_at_list":', cost,
        ',"transaction_type":"GOOGLE","seller_name":"Google"}',
    ]  # fmt: skip
    return join_lines(parts, "")


def write_gcp(model: GcpModel, out: Path, window: Window, progress: Progress | None) -> ProviderOutput:
    """Write every extract.

    Args:
        model: The GCP model.
        out: OUT directory.
        window: Run window.
        progress: Optional progress callback.

    Returns:
        Files, row counts and expected totals.
    """
    result = ProviderOutput()
    extracts = model.extracts()
    ticker = Ticker(progress, "gcp", sum(e.period.last_day - e.period.first_day + 2 for e in extracts))
    for extract in extracts:
        _write_extract(model, out / "gcp" / "billing_export", extract, result, ticker)
    return result


def _write_extract(model: GcpModel, root: Path, extract: Extract, result: ProviderOutput, ticker: Ticker) -> None:
    period = extract.period
    folder = root / f"invoice_month={period.compact}"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = extract.exported_at.strftime("%Y%m%dT%H%M%SZ")
    totals = [0, 0]
    shard, rows_in_shard, handle = -1, 0, None
    for block in model.rows(extract, totals):
        if handle is None or (rows_in_shard and rows_in_shard + len(block) > MAX_ROWS_PER_FILE):
            if handle is not None:
                handle.close()
            shard += 1
            path = folder / f"{stamp}-{shard:012d}.json"
            result.files.append(path)
            handle, rows_in_shard = path.open("wb"), 0
        handle.write(encode(model, block, period))
        rows_in_shard += len(block)
        ticker.tick()
    assert handle is not None
    handle.close()
    result.count("current" if extract.current else "superseded", totals[1])
    if extract.current:
        result.totals.append(
            InvoiceTotal("gcp", COMPANY.gcp_billing_account_id, period.label, "USD", totals[0], totals[0], totals[1])
        )
