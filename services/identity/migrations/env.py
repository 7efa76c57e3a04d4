"""Alembic environment of the identity service."""

from permitkit.migrations import run_env

from permit_identity.models import Base

run_env(Base.metadata)
