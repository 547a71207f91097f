"""memleak: find and explain memory leaks in Python ML services.

Importing this package imports nothing heavy (no optuna, memray, objgraph…), so importing
memleak does not disturb what it measures.
"""

__version__ = "0.1.0"
