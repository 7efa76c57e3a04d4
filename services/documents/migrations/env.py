"""Alembic environment of the documents service."""

from permit_documents.models import Base
from permitkit.migrations import run_env

run_env(Base.metadata)
