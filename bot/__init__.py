"""The running bot: settings, composition root, Slack app, HTTP and Socket Mode, scheduler, CLI."""
