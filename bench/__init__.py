"""Benchmarks with their own synthetic data (`make bench`)."""
