"""Alembic environment of the application service."""

from permitkit.migrations import run_env

from permit_application.models import Base

run_env(Base.metadata)
