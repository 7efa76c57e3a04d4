"""Alembic environment of the routing service."""

from permit_routing.models import metadata
from permitkit.migrations import run_env

run_env(metadata)
