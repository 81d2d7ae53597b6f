"""One running bot per test module; each test starts from the sample accounts and fresh cards."""

from tests.support.bot_fixtures import (  # noqa: F401
    bot_overrides,
    localstripe_server,
    module_database_url,
    server,
    slack,
    stripe_proxy,
    world,
)
