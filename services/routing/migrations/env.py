"""Alembic environment of the routing service."""

from permitkit.migrations import run_env
from permit_routing.models import metadata

run_env(metadata)
