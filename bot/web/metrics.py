"""Prometheus metrics for the HTTP app (one registry per app, so tests can build several)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

import billing_core.adapters.metrics  # noqa: F401  (puts the domain's tallies in the process-wide registry)


class DomainMetrics(Collector):
    """The ``billing_*`` metrics of the process-wide registry (the domain's tallies, see
    ``billing_core.adapters.metrics``: escalation e-mails, failed proofs of e-mail ownership),
    served with the app's own."""

    def collect(self) -> Iterable[Metric]:
        return [family for family in REGISTRY.collect() if family.name.startswith("billing_")]


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    registry.register(DomainMetrics())
    return registry


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        self.http_requests = Counter(
            "billing_http_requests", "HTTP requests by route and status", ["route", "status"], registry=self.registry
        )
        self.http_seconds = Histogram(
            "billing_http_request_seconds", "Time to answer an HTTP request", ["route"], registry=self.registry
        )
        self.slack_requests = Counter(
            "billing_slack_requests", "Slack requests by kind and outcome", ["kind", "outcome"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
