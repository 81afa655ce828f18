"""Entry points (train, evaluate, sweep, benchmarks) and named configs."""
