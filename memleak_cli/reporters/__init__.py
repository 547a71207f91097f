"""Reporters: how a :class:`~memleak_cli.report.model.RunReport` is shown. Each takes the same model."""
