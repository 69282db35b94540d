"""Alembic migrations of the yunshang schema."""
