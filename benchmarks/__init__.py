"""Benchmarks of the Rex matching engine (not part of the installed package).

Run ``python benchmarks/bench_exchange.py --help``.
"""
