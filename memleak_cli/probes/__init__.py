"""Probes: what is measured inside the process that runs a scenario.

``cheap`` runs after every iteration (microseconds to milliseconds); ``allocations``
(tracemalloc), ``types`` (objgraph) and ``retained`` (gc + objgraph + pympler) run at a few
chosen points only, because they cost far more.
"""
