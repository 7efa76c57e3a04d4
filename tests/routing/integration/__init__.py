"""Integration tests of routing on PostgreSQL over real gRPC."""
