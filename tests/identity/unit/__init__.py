"""Tests of the identity service."""
