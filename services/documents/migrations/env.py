"""Alembic environment of the documents service."""

from permitkit.migrations import run_env

from permit_documents.models import Base

run_env(Base.metadata)
