"""The routing service: reference data, route recognition, validation and history."""
