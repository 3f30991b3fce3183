# SPDX-License-Identifier: AGPL-3.0-or-later
"""Prometheus metrics of creneau (`creneau_*`), in a registry of their own (`REGISTRY`).

The pipeline counts through three hooks, each one line at the place the fact becomes true:

- `check_recorded` (monitor runner, after `complete_check`): `creneau_checks_total{system,outcome}`, the
  check's duration in `creneau_check_duration_seconds{system}`, and `creneau_openings_total` for every
  opening the detector handed to the store;
- `delivery_accepted` (sender, when a transport accepted a message): `creneau_detect_to_delivery_seconds
  {channel}`, from the detection (the delivery row is written in the detection's transaction) to the
  provider's acceptance; retries, rate-limit deferrals and quiet hours are part of it;
- `delivery_done` (sender, once an attempt is marked): `creneau_deliveries_total{channel,outcome}` with
  outcome `sent`, `failed` (retried later) or `dead`.

Counters are per process, as usual with Prometheus: scrape every process that checks or sends. The outbox
gauges (`creneau_outbox_backlog{status}`, `creneau_outbox_oldest_pending_seconds`) are read from the store
at scrape time (`set_outbox`), so any process gives the same answer. `exposition()` is the text format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from creneau.detector import Transition, TransitionKind
from creneau.types import Observation

CONTENT_TYPE = CONTENT_TYPE_LATEST
REGISTRY = CollectorRegistry(auto_describe=True)

CHECKS = Counter(
    "creneau_checks", "Checks recorded, by booking system and outcome.", ["system", "outcome"], registry=REGISTRY
)
CHECK_SECONDS = Histogram(
    "creneau_check_duration_seconds",
    "How long one check of a booking page took (all its requests), by booking system.",
    ["system"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 40, 60, 120, 240),
    registry=REGISTRY,
)
OPENINGS = Counter("creneau_openings", "Openings detected (a booking page started showing slots).", registry=REGISTRY)
DELIVERIES = Counter(
    "creneau_deliveries",
    "Delivery attempts, by channel kind and outcome (sent, failed = retried later, dead = given up).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
DETECT_TO_DELIVERY = Histogram(
    "creneau_detect_to_delivery_seconds",
    "From the detection of an alert to a provider accepting its message, by channel kind.",
    ["channel"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 14400),
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "creneau_outbox_backlog",
    "Deliveries not sent yet, by status (pending, leased, retrying) and given up (dead); read at scrape time.",
    ["status"],
    registry=REGISTRY,
)
OUTBOX_OLDEST = Gauge(
    "creneau_outbox_oldest_pending_seconds",
    "Age of the oldest delivery waiting to be sent (0 when none); read at scrape time.",
    registry=REGISTRY,
)
BACKLOG_STATUSES = ("pending", "leased", "retrying", "dead")


def check_recorded(system: str, observation: Observation, handed: Iterable[Transition]) -> None:
    """One check recorded; `handed` are the transitions the store accepted (none when the lease was lost)."""
    CHECKS.labels(system, observation.outcome.value).inc()
    CHECK_SECONDS.labels(system).observe(max(0.0, observation.duration_s))
    opened = sum(1 for t in handed if t.kind is TransitionKind.OPENED)
    if opened:
        OPENINGS.inc(opened)


def delivery_accepted(channel: str, detected_at: datetime, now: datetime) -> None:
    DETECT_TO_DELIVERY.labels(channel).observe(max(0.0, (now - detected_at).total_seconds()))


def delivery_done(channel: str, outcome: str) -> None:
    DELIVERIES.labels(channel, outcome).inc()


def set_outbox(counts: Mapping[str, int], oldest_pending_s: float | None) -> None:
    """The outbox gauges, from the store (see `creneau.web.prometheus`)."""
    for status in BACKLOG_STATUSES:
        OUTBOX_BACKLOG.labels(status).set(counts.get(status, 0))
    OUTBOX_OLDEST.set(oldest_pending_s or 0.0)


def exposition() -> bytes:
    """Every metric, in the Prometheus text format."""
    return generate_latest(REGISTRY)
