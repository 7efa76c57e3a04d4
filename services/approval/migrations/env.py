"""Alembic environment of the approval service."""

from permitkit.migrations import run_env

from permit_approval.models import Base

run_env(Base.metadata)
