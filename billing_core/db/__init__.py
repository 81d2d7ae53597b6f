"""Persistence: SQLAlchemy 2 records, the database handle and Alembic migrations."""
