"""Benchmarks. ``python -m bench`` runs them all; nothing here asserts a time."""
