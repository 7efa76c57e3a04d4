"""Alembic environment of the approval service."""

from permit_approval.models import Base
from permitkit.migrations import run_env

run_env(Base.metadata)
