"""The Prometheus side of the domain's numbers.

``DomainTallies`` serves every ``billing_core.tallies`` count and level under its name; importing
this module registers it once in ``prometheus_client``'s process-wide registry, where the HTTP app
reads the ``billing_*`` families (``bot.web.metrics.DomainMetrics``). ``EscalationCollector`` and
``OutboundCollector`` read the outboxes' queues from the database when scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client import metrics as _prometheus_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from billing_core.escalations.outbox import EMAILS, EscalationOutbox
from billing_core.outbound.delivery import OutboundDelivery
from billing_core.tallies import Level, Tally, all_tallies


class DomainTallies(Collector):
    """Each ``Tally`` as a counter (``<name>_total``, ``<name>_created``), each ``Level`` as a gauge."""

    def describe(self) -> list[Metric]:
        return []  # unchecked: the tallies are read when scraped

    def collect(self) -> Iterator[Metric]:
        created = bool(getattr(_prometheus_metrics, "_use_created", True))
        for tally in all_tallies():
            if isinstance(tally, Level):
                yield GaugeMetricFamily(tally.name, tally.documentation, value=tally.get())
                continue
            family = CounterMetricFamily(tally.name, tally.documentation, labels=list(tally.labelnames))
            for labels, value, since_ns in tally.samples():
                family.add_metric(list(labels), value, created=since_ns / 1_000_000_000 if created else None)
            yield family


def _register_once() -> DomainTallies:
    for collector in list(getattr(REGISTRY, "_collector_to_names", {})):
        if isinstance(collector, DomainTallies):
            return collector
    collector = DomainTallies()
    REGISTRY.register(collector)
    return collector


DOMAIN_TALLIES = _register_once()


def _outbox_gauges(
    health: Callable[[], dict[str, Any]], failed: tuple[str, str], queued: tuple[str, str]
) -> Iterator[Metric]:
    """An outbox's permanent failures and queue depth (its ``health()``) as two gauges, each given as
    ``(name, documentation)``; none while the database cannot be read."""
    try:
        numbers = health()
    except Exception:
        return
    yield GaugeMetricFamily(*failed, value=numbers["failed"])
    yield GaugeMetricFamily(*queued, value=numbers["queued"])


class EscalationCollector:
    """Puts the outbox's numbers into another Prometheus registry (the HTTP app keeps its own):
    ``registry.register(EscalationCollector(outbox))``."""

    def __init__(self, outbox: EscalationOutbox) -> None:
        self._outbox = outbox

    def describe(self) -> list[Any]:
        return []  # unchecked: the numbers are read when scraped

    def collect(self) -> Any:
        emails = CounterMetricFamily(
            "billing_escalation_emails", "Escalation e-mail delivery attempts by outcome.", labels=["outcome"]
        )
        for outcome in ("sent", "retry", "failed"):
            emails.add_metric([outcome], EMAILS.labels(outcome).get())
        yield emails
        yield from _outbox_gauges(
            self._outbox.health,
            ("billing_escalation_emails_failed", "Escalations whose e-mail permanently failed."),
            ("billing_escalation_emails_queued", "Escalations waiting for their e-mail."),
        )


class OutboundCollector:
    """The outbox's queue and failures as gauges, read from the database when scraped:
    ``registry.register(OutboundCollector(delivery))``."""

    def __init__(self, delivery: OutboundDelivery) -> None:
        self._delivery = delivery

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        yield from _outbox_gauges(
            self._delivery.health,
            ("billing_outbound_events_failed", "Outbound events that failed for good."),
            ("billing_outbound_events_queued", "Outbound events waiting to be delivered."),
        )


__all__ = ["DOMAIN_TALLIES", "DomainTallies", "EscalationCollector", "OutboundCollector", "Tally"]
