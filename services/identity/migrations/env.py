"""Alembic environment of the identity service."""

from permit_identity.models import Base
from permitkit.migrations import run_env

run_env(Base.metadata)
