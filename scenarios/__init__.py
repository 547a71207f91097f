"""Built-in scenarios: each finding of the leak report, reproduced on the real libraries.

Each module defines ``SCENARIO`` (a :class:`memleak_cli.scenarios.contract.Scenario`) and keeps the
backend's class, attribute and singleton names, so reference chains read like the backend's.
Heavy libraries are imported inside the variant factories, never at module import.
"""
