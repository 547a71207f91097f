"""Watching a running process tree's memory over a long run (``memleak watch``); no CLI code.

Modules: :mod:`.settings` (what to do), :mod:`.target` (the process), :mod:`.sampler` (the
loop), :mod:`.analysis` (the verdict).

A :class:`Target` is a process attached by PID or a command memleak starts. :func:`watch` reads
the RSS and USS of the target and all its children (psutil, ``children(recursive=True)``) every
``interval`` seconds until ``duration`` has passed, the target exits, or Ctrl-C; then
:func:`analyze` judges the series with the trend test of ``memleak run``
(:func:`memleak_cli.analysis.trend.fit_trend`: Theil–Sen slope above the threshold with its 95 %
interval above zero, sustained over the second half, and a consistency vote).

Long series are reduced to at most ``max_points`` bucket medians before the fit, so that (a) a
step is long enough for real growth to show in the vote instead of page-sized jitter between
1-second readings, and (b) Theil–Sen's all-pairs slopes stay cheap on a day of readings. The
threshold, given per minute, is converted to bytes per reduced step.
"""

