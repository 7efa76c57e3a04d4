"""Demo data: the PC system's export used by `seed-demo` (identity and application)."""
