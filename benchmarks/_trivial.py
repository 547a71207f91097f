"""The trivial workload of ``benchmarks.overhead``'s time-to-answer goal: a microsecond function."""


def f() -> None:
    """20 iterations of this, one variant, should answer in seconds."""
    sum(range(1000))
