"""Usage streams: one resource x usage type that yields one row per day, with the shared spend model.

A provider module describes its price list as `UsageSpec`s and its accounts as `Owner`s; this module
turns them into `Streams` (numpy arrays, one entry per stream) and computes each day's quantities and
on-demand costs with seasonality, growth, noise and planted anomalies. Quantities are integer units of
1e-6 and costs integer units of 1e-10, and every cost is exactly quantity x unit price.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from finops_warehouse.demo.encode import parse_decimal
from finops_warehouse.demo.timeline import Window

# Weekday multipliers (Mon..Sun) per usage profile: why the weekly pattern differs by workload.
PROFILES: dict[str, tuple[float, ...]] = {
    "flat": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),  # storage, always-on databases
    "business": (1.06, 1.08, 1.08, 1.06, 1.0, 0.72, 0.68),  # autoscaled web and services
    "batch": (1.12, 1.12, 1.12, 1.1, 1.04, 0.42, 0.38),  # CI, ETL, training: mostly weekdays
    "traffic": (1.0, 1.0, 1.0, 1.02, 1.08, 0.9, 0.86),  # customer traffic, requests, egress
}
PROFILE_NAMES = tuple(PROFILES)
_PROFILE_MATRIX = np.array([PROFILES[name] for name in PROFILE_NAMES])
_NOISE_SIGMA = np.array([0.01, 0.05, 0.08, 0.06])
GROWTH_PER_DAY = 0.0016  # about +15% over 90 days
_LATE_START_SHARE = 0.14  # streams created during the window: growth through new resources
_EARLY_END_SHARE = 0.03  # streams deleted during the window


@dataclass(frozen=True)
class UsageSpec:
    """One priced usage type a stream can bill.

    Attributes:
        key: Unique key within the provider.
        service: Provider service identifier (AWS product code, Azure consumedService, GCP service).
        usage_type: Provider usage type / meter / SKU description.
        unit: Provider unit text.
        rate: On-demand unit price as decimal text (pricing currency).
        quantum: Smallest quantity step as decimal text; rate x quantum must be a multiple of 1e-10.
        base: Median daily quantity of one stream.
        profile: Key of PROFILES.
        cap: Maximum daily quantity of one resource (24 for instance hours), or None.
        attrs: Provider-specific attributes (product names, families, meter ids...).
    """

    key: str
    service: str
    usage_type: str
    unit: str
    rate: str
    quantum: str
    base: float
    profile: str
    cap: float | None = None
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Owner:
    """An account, subscription or project that owns streams.

    Attributes:
        owner_id: Provider id (account id, subscription GUID, project id).
        team: Owning team, or None when shared.
        env: Environment tag value.
        purpose: Workload mix key.
        weight: Relative number of streams.
        consumers: Teams whose workloads run in a shared owner (tag values there).
    """

    owner_id: str
    team: str | None
    env: str
    purpose: str
    weight: float
    consumers: tuple[str, ...] = ()


@dataclass(frozen=True)
class TagStyle:
    """How a provider's team tags drift.

    Attributes:
        keys: Tag key spellings.
        key_weights: Probability of each spelling.
        value_drift: Functions turning the canonical team value into a drifted one, first is identity.
        drift_weights: Probability of each drift.
        untagged_owned: Share of streams without a team tag in team-owned accounts.
        untagged_shared: Same, in shared accounts.
    """

    keys: tuple[str, ...]
    key_weights: tuple[float, ...]
    value_drift: tuple[Callable[[str], str], ...]
    drift_weights: tuple[float, ...]
    untagged_owned: float = 0.05
    untagged_shared: float = 0.2


CASE_DRIFT = TagStyle(
    keys=("team", "Team", "TEAM", "owner_team"),
    key_weights=(0.72, 0.12, 0.06, 0.10),
    value_drift=(str, str.title, str.upper, lambda v: " " + v, lambda v: v + " "),
    drift_weights=(0.8, 0.07, 0.04, 0.045, 0.045),
)


@dataclass
class Streams:
    """Stream attributes as parallel arrays (index = stream id within the provider).

    Attributes:
        spec: Index into the provider's spec list.
        owner: Index into the provider's owner list.
        base: Median daily quantity.
        start: First active window day.
        end: Window day after the last active one.
        serial: Per-stream number used to derive resource names.
        team: Team the workload belongs to (ground truth, even when untagged).
        tag_key: Team tag key as written, or None when untagged.
        tag_value: Team tag value as written (drifted), or None.
        env: Env tag value as written.
        cost_center: Cost-center tag value, or None.
    """

    spec: np.ndarray
    owner: np.ndarray
    base: np.ndarray
    start: np.ndarray
    end: np.ndarray
    serial: np.ndarray
    team: list[str | None]
    tag_key: list[str | None]
    tag_value: list[str | None]
    env: list[str]
    cost_center: list[str | None]

    def __len__(self) -> int:
        return len(self.spec)

    def pin(self, index: np.ndarray, days: int) -> None:
        """Make streams active for the whole window (commitment-covered resources run all along).

        Args:
            index: Stream indices.
            days: Window length.
        """
        self.start[index] = 0
        self.end[index] = days


class SpecTable:
    """Numeric view of a spec list for vectorised cost maths."""

    def __init__(self, specs: Sequence[UsageSpec]) -> None:
        """Convert decimal texts to integers and check that costs stay exact.

        Args:
            specs: The provider's specs.

        Raises:
            ValueError: If rate x quantum is not a whole number of 1e-10 units.
        """
        self.specs = list(specs)
        self.index = {s.key: i for i, s in enumerate(specs)}
        self.quantum = np.array([parse_decimal(s.quantum, 6) for s in specs], dtype=np.int64)
        self.rate = np.array([parse_decimal(s.rate, 10) for s in specs], dtype=np.int64)
        for spec, q, r in zip(specs, self.quantum, self.rate, strict=True):
            if (int(q) * int(r)) % 10**6:
                raise ValueError(f"spec {spec.key}: rate x quantum is not a multiple of 1e-10")
        self.rate_per_quantum = self.quantum * self.rate // 10**6
        self.quantum_float = self.quantum / 1e6
        self.cap = np.array([s.cap if s.cap is not None else np.inf for s in specs])
        self.grows = np.array([s.cap is None for s in specs])
        self.profile = np.array([PROFILE_NAMES.index(s.profile) for s in specs], dtype=np.int64)
        self.service = [s.service for s in specs]


def build_streams(
    rng: np.random.Generator,
    table: SpecTable,
    owners: Sequence[Owner],
    mixes: dict[str, Sequence[tuple[str, float]]],
    n_streams: int,
    window: Window,
    tags: TagStyle,
    cost_centers: dict[str, str],
) -> Streams:
    """Create the provider's streams.

    Every (owner, spec) pair of an owner's mix gets at least one stream, so anomaly targets exist at
    any scale; the rest are drawn by weight.

    Args:
        rng: Generator dedicated to the catalog.
        table: Spec table.
        owners: Accounts / subscriptions / projects.
        mixes: Purpose key -> [(spec key, weight)].
        n_streams: Target number of streams.
        window: The run window.
        tags: Tag drift style.
        cost_centers: Team key -> cost-center code.

    Returns:
        The streams.
    """
    total_weight = sum(o.weight for o in owners)
    spec_idx: list[np.ndarray] = []
    owner_idx: list[np.ndarray] = []
    for o_i, owner in enumerate(owners):
        mix = mixes[owner.purpose]
        keys = np.array([table.index[k] for k, _ in mix])
        weights = np.array([w for _, w in mix], dtype=float)
        count = max(len(mix), round(n_streams * owner.weight / total_weight))
        extra = rng.choice(keys, size=count - len(mix), p=weights / weights.sum())
        chosen = np.concatenate([keys, extra])
        spec_idx.append(chosen)
        owner_idx.append(np.full(len(chosen), o_i))
    spec = np.concatenate(spec_idx)
    owner = np.concatenate(owner_idx)
    n = len(spec)
    base = np.array([table.specs[s].base for s in spec]) * rng.lognormal(0.0, 0.5, n)
    capped = np.isfinite(table.cap[spec])
    # Capped (per-resource hour) streams mostly run close to the cap.
    base = np.where(capped, table.cap[spec] * rng.uniform(0.8, 1.05, n), base)
    start, end = _lifetimes(rng, n, window.days)
    team, tag_key, tag_value, env, cost_center = _tags(rng, owners, owner, tags, cost_centers)
    return Streams(spec, owner, base, start, end, np.arange(n), team, tag_key, tag_value, env, cost_center)


def _lifetimes(rng: np.random.Generator, n: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    start = np.zeros(n, dtype=np.int64)
    end = np.full(n, days, dtype=np.int64)
    late = rng.random(n) < _LATE_START_SHARE
    start[late] = rng.integers(1, max(2, days), late.sum())
    early = (rng.random(n) < _EARLY_END_SHARE) & ~late
    end[early] = rng.integers(days // 2, days, early.sum())
    return start, end


def _tags(
    rng: np.random.Generator,
    owners: Sequence[Owner],
    owner: np.ndarray,
    style: TagStyle,
    cost_centers: dict[str, str],
) -> tuple[list[str | None], list[str | None], list[str | None], list[str], list[str | None]]:
    n = len(owner)
    pick = rng.random(n)
    key_choice = rng.choice(len(style.keys), size=n, p=np.array(style.key_weights) / sum(style.key_weights))
    drift = rng.choice(len(style.value_drift), size=n, p=np.array(style.drift_weights) / sum(style.drift_weights))
    env_drift = rng.random(n) < 0.08
    cc_tagged = rng.random(n) < 0.6
    consumer_pick = rng.integers(0, 1 << 30, n)
    teams: list[str | None] = []
    keys: list[str | None] = []
    values: list[str | None] = []
    envs: list[str] = []
    ccs: list[str | None] = []
    for i in range(n):
        o = owners[owner[i]]
        team = o.team or (o.consumers[consumer_pick[i] % len(o.consumers)] if o.consumers else None)
        untagged = pick[i] < (style.untagged_owned if o.team else style.untagged_shared)
        teams.append(team)
        if team is None or untagged:
            keys.append(None)
            values.append(None)
            ccs.append(None)
        else:
            keys.append(style.keys[key_choice[i]])
            values.append(style.value_drift[drift[i]](team))
            ccs.append(cost_centers[team] if cc_tagged[i] else None)
        envs.append("production" if o.env == "prod" and env_drift[i] else o.env)
    return teams, keys, values, envs, ccs


@dataclass(frozen=True)
class DayUsage:
    """One day's quantities for the active streams.

    Attributes:
        index: Active stream indices (ascending).
        quanta: Quantity in spec quanta.
        amount: Quantity in 1e-6 units.
        cost: On-demand cost in 1e-10 units.
        anomaly: Planted-anomaly multiplier applied to each stream (1.0 when none).
    """

    index: np.ndarray
    quanta: np.ndarray
    amount: np.ndarray
    cost: np.ndarray
    anomaly: np.ndarray

    def subset(self, mask: np.ndarray) -> DayUsage:
        """Rows where mask is True.

        Args:
            mask: Boolean mask over this day's rows.

        Returns:
            The filtered usage.
        """
        return dataclasses.replace(
            self,
            index=self.index[mask],
            quanta=self.quanta[mask],
            amount=self.amount[mask],
            cost=self.cost[mask],
            anomaly=self.anomaly[mask],
        )


class UsageModel:
    """Computes each day's usage deterministically from (seed, provider, date), whatever the chunking."""

    def __init__(
        self,
        streams: Streams,
        table: SpecTable,
        window: Window,
        seed: int,
        provider_code: int,
        anomaly: Callable[[int], np.ndarray],
        fixed: np.ndarray | None = None,
        fixed_quantity: np.ndarray | None = None,
    ) -> None:
        """Bind the model.

        Args:
            streams: The provider's streams.
            table: Its spec table.
            window: The run window.
            seed: Run seed.
            provider_code: Distinct small integer per provider (separates random streams).
            anomaly: Day index -> per-stream multiplier array.
            fixed: Boolean mask of streams that always bill exactly their cap (reserved capacity).
            fixed_quantity: Daily quantity of streams that always bill exactly that (planted cases), NaN for
                the others.
        """
        self.streams = streams
        self.table = table
        self.window = window
        self.seed = seed
        self.provider_code = provider_code
        self.anomaly = anomaly
        self.fixed = fixed if fixed is not None else np.zeros(len(streams), dtype=bool)
        self.fixed_quantity = fixed_quantity if fixed_quantity is not None else np.full(len(streams), np.nan)
        spec = streams.spec
        self._season = _PROFILE_MATRIX[table.profile[spec]]  # (n, 7)
        self._sigma = _NOISE_SIGMA[table.profile[spec]]
        self._grows = table.grows[spec]
        self._cap = table.cap[spec]
        self._quantum = table.quantum[spec]
        self._quantum_float = table.quantum_float[spec]
        self._rate_q = table.rate_per_quantum[spec]

    def day(self, day: int, partial: int = 0) -> DayUsage:
        """Usage of one window day.

        Args:
            day: Window day index.
            partial: 0 for final data; 1 or 2 when an earlier delivery saw the day incomplete (2 = the
                delivery's last day, much lower; 1 = the day before, slightly lower).

        Returns:
            The day's usage for active streams.
        """
        s = self.streams
        ordinal = int(self.window.ordinal[day])
        rng = np.random.default_rng([self.seed, self.provider_code, ordinal])
        noise = np.exp(rng.standard_normal(len(s)) * self._sigma)
        weekday = self.window.weekday[day]
        growth = np.where(self._grows, (1.0 + GROWTH_PER_DAY) ** day, 1.0)
        mult = self.anomaly(day)
        qty = s.base * self._season[:, weekday] * growth * noise * mult
        qty = np.minimum(qty, self._cap)
        qty = np.where(self.fixed, self._cap, qty)
        qty = np.where(np.isnan(self.fixed_quantity), qty, self.fixed_quantity)
        if partial:
            late = np.random.default_rng([self.seed, self.provider_code, ordinal, 7])
            low, high = (0.55, 0.9) if partial == 2 else (0.96, 1.0)
            qty = qty * late.uniform(low, high, len(s))
        active = (s.start <= day) & (day < s.end)
        quanta = np.maximum(1, np.rint(qty / self._quantum_float)).astype(np.int64)
        index = np.flatnonzero(active)
        quanta = quanta[index]
        return DayUsage(
            index=index,
            quanta=quanta,
            amount=quanta * self._quantum[index],
            cost=quanta * self._rate_q[index],
            anomaly=mult[index],
        )


def cover_greedy(cost: np.ndarray, eligible: np.ndarray, capacity: int) -> np.ndarray:
    """Apply a spend commitment to eligible usage in order until it is used up.

    A row is covered only if it fits entirely, which keeps each row either fully committed or fully
    on-demand while guaranteeing the used commitment never exceeds the capacity.

    Args:
        cost: Committed-rate cost per row.
        eligible: Rows the commitment may cover.
        capacity: Commitment available for the day.

    Returns:
        Boolean mask of covered rows.
    """
    running = np.cumsum(np.where(eligible, cost, 0))
    return eligible & (running <= capacity)
