"""The HTTP face: the Starlette app, the body cap, Stripe's and the push API's routes, metrics, correlation ids."""
