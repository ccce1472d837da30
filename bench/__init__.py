"""Benchmarks.

Each ``bench_*.py`` module has ``main(argv) -> int`` and a ``--size small|full`` switch; ``python -m bench``
runs them all, and each prints a table with the ratio to a baseline measured in the same run.
"""
