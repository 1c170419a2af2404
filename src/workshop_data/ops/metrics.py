"""Prometheus metrics. With PROMETHEUS_MULTIPROC_DIR set (several workers), every process
writes its samples there and /metrics adds them up."""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from workshop_data.events.schemas import Event, StepSaved

REQUESTS = Counter(
    "workshop_data_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "workshop_data_request_duration_seconds",
    "Time from request to the end of the response",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SAVES = Counter(
    "workshop_data_saves_total",
    "New step versions committed (saves, patches, restores)",
    ["workshop_type"],
)
CONFLICTS = Counter(
    "workshop_data_version_conflicts_total", "Saves refused with 409 version_conflict"
)
LOCKED = Counter(
    "workshop_data_locked_rejections_total", "Saves refused with 423 because a workshop is locked"
)


def count_event(event: Event) -> None:
    """A subscriber of the event bus (app.py): the saves counted from their events, once
    committed. (Refusals publish nothing: step_data/service.py counts them where it explains
    them.)"""
    if isinstance(event, StepSaved):
        SAVES.labels(event.workshop_type).inc()


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
