"""Alembic environment of the notifications service."""

from permit_notifications.models import metadata
from permitkit.migrations import run_env

run_env(metadata)
