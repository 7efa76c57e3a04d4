"""Unit tests of routing: domain and use cases, no database."""
