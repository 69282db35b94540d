"""Persistence: the schema (models.py, Alembic in migrations/), the database handle, typed rows, and the
only dialect-specific statements (postgres.py, sqlite.py behind dialect.py).
"""
