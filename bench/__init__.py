"""Benchmarks for issue 7 ("Speed and trust"): ``python -m bench.run`` (see docs/BENCHMARKS.md)."""
