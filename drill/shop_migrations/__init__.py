"""Alembic migrations of the drill's `shop` database (one revision per shop/api release)."""

from pathlib import Path

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
