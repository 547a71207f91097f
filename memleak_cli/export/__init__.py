"""What memleak measures in production, as plain data (:mod:`.status`) and as Prometheus
metrics (:mod:`.prometheus`), for the sentinel (:mod:`memleak_cli.sentinel`) and
``memleak watch --serve``. Importing this package imports nothing heavy."""
