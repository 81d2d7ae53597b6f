"""In-process stand-ins served on loopback: a Slack Web API that records every call, and signed
requests as Slack sends them."""
