"""The approval journeys reuse the started system of tests/e2e (same fixtures)."""

from tests.e2e.conftest import anonymous, api_as, stack  # noqa: F401
