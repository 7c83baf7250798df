"""Benchmarks that drive the real bot: offer rounds, claims and the cost per update."""
