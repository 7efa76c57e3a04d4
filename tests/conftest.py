"""Shared test setup: the permitkit plugin (PostgreSQL, S3 server, gRPC fixtures)."""

pytest_plugins = ["permitkit.testing"]
