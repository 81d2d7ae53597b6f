"""Development tools, installed with the ``console`` extra: the terminal console, the demo and the
loopback stand-ins (Slack's Web API, signed requests, PostgreSQL scratch databases) that tests and the
bench share. The bot itself never needs them."""
