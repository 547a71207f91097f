"""Benchmarks of memleak itself: accuracy on a labelled corpus, overhead, and cost against heap size.

Run from the repository root (``python -m benchmarks.accuracy`` …); each prints a rich table and
writes its figures as JSON under ``reports/benchmarks/``.
"""
