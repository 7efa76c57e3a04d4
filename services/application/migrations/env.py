"""Alembic environment of the application service."""

from permit_application.models import Base
from permitkit.migrations import run_env

run_env(Base.metadata)
