"""Tests of the routing service."""
