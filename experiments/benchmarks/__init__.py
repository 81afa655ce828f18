"""Throughput and memory benchmarks (never run by the tests)."""
