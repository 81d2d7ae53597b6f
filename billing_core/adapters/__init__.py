"""The edge of the domain: the payment provider, SMTP, webhook HTTP, the Prometheus collectors and
the threads background work runs on.

Each adapter implements a port the domain owns (``billing_core.payments.ports``,
``billing_core.mail``, ``billing_core.outbound.delivery.Channel``,
``billing_core.tallies``, ``billing_core.background``). No other module of ``billing_core`` imports this package (an
import-linter contract): only ``bot`` builds the adapters and hands them to the services.
"""
