"""Benchmark scripts: run with ``python -m benchmarks.<name>``; they print medians, not pass/fail."""
