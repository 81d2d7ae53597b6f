"""Demo data and local stand-ins for ``billing-bot console --demo``."""
