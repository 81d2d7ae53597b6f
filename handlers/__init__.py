"""Slack listeners and pure Block Kit builders, grouped by subdomain like ``billing_core``.

- ``handlers.runtime``: the Slack plumbing (ack deadline, follow-ups, response_url, Web API client).
- ``handlers.kit``: what every listener shares (typed payloads, the caller guard, surfaces, ids).
- ``handlers.accounts``, ``payments``, ``reminders``, ``escalations``, ``identity``: listeners
  and their Block Kit builders.
- ``handlers.commands`` (the ``/billing`` router), ``navigation`` and ``screens``: across domains.
- ``handlers.registry.register_listeners``: every listener on a Bolt app.
"""
