"""Prometheus metrics for the HTTP app (one registry per app, so tests can build several)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.process_collector import ProcessCollector


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
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
