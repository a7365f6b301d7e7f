"""Benchmark scripts (a package so that tests can import their metric functions)."""
