"""Judging leaks: trends of the per-iteration samples and the verdict. Pure functions on data."""
