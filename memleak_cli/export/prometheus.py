"""``/metrics`` for Prometheus: the latest :class:`~memleak_cli.export.status.MemoryStatus` as
gauges, through ``prometheus_client`` (imported here only, when serving is asked for).

One table (:data:`LEVELS`) names every level gauge, so the README, the alert rules and the
dashboard spell the same names. A custom collector reads the status the watcher swapped in last:
a scrape costs a few dataclass reads, never a sample. Metrics (all gauges unless said):

* levels: ``memleak_tree_rss_bytes``, ``memleak_tree_uss_bytes``, ``memleak_rss_bytes``,
  ``memleak_c_heap_bytes``, ``memleak_gc_objects``, ``memleak_python_blocks``,
  ``memleak_open_fds``, ``memleak_threads``, ``memleak_processes``;
* ``memleak_growth_per_hour{metric="…"}``: slope of each judged level per hour (its unit: bytes,
  objects, blocks…);
* ``memleak_verdict``: -1 unknown, 0 clean, 1 suspect, 2 leak (a growing reference path);
* ``memleak_growing_path_info{path, fingerprint, leaf}`` and
  ``memleak_growing_path_bytes_per_hour``/``_objects_per_hour``/``_held_bytes{fingerprint}``
  while a path grows;
* the watcher's own cost: ``memleak_samples_total``, ``memleak_heap_walks_total``,
  ``memleak_last_walk_seconds``, ``memleak_cpu_seconds_total``.

Every metric has the label ``source`` (``sentinel`` or ``watch``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from memleak_cli.errors import UsageError
from memleak_cli.export.status import MemoryStatus

# metric key in MemoryStatus.levels → (Prometheus name, help)
LEVELS: dict[str, tuple[str, str]] = {
    "tree_rss_bytes": ("memleak_tree_rss_bytes", "Resident set size of the process and its children, bytes."),
    "tree_uss_bytes": ("memleak_tree_uss_bytes", "Unique set size of the process and its children, bytes."),
    "rss_bytes": ("memleak_rss_bytes", "Resident set size of the process alone, bytes."),
    "heap_bytes": ("memleak_c_heap_bytes", "C heap in use (glibc mallinfo2: heap + mmap), bytes."),
    "gc_objects": ("memleak_gc_objects", "Objects tracked by Python's garbage collector."),
    "py_blocks": ("memleak_python_blocks", "Python heap blocks (sys.getallocatedblocks())."),
    "fds": ("memleak_open_fds", "Open file descriptors of the process."),
    "threads": ("memleak_threads", "Threads of the process."),
    "processes": ("memleak_processes", "Processes in the tree (the process and its children)."),
}

StatusSource = Callable[[], MemoryStatus]


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``127.0.0.1:9464``, ``[::1]:9464``, ``:9464`` for loopback) → ``(host, port)``.

    Raises:
        UsageError: not HOST:PORT, or a port outside 0–65535.
    """
    host, sep, port_text = str(text).rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise UsageError(
            f"cannot read address {text!r}: use HOST:PORT, e.g. 127.0.0.1:9464"
        )
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port_text)


class StatusCollector:
    """A ``prometheus_client`` collector of the status *read* returns at each scrape."""

    def __init__(self, read: StatusSource) -> None:
        self._read = read

    def describe(self) -> list[Any]:
        """Nothing to pre-declare (the families depend on what was measured)."""
        return []

    def collect(self) -> Iterator[Any]:
        """The metric families of the current status."""
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            InfoMetricFamily,
        )

        status = self._read()
        labels = ["source"]
        values = [status.source]
        for key, (name, help_text) in LEVELS.items():
            if key in status.levels:
                family = GaugeMetricFamily(name, help_text, labels=labels)
                family.add_metric(values, float(status.levels[key]))
                yield family
        growth = GaugeMetricFamily(
            "memleak_growth_per_hour",
            "Theil-Sen slope per hour of a level over the recent readings, in its unit.",
            labels=[*labels, "metric"],
        )
        for metric, slope in sorted(status.growth_per_hour.items()):
            growth.add_metric([*values, metric], float(slope))
        yield growth
        verdict = GaugeMetricFamily(
            "memleak_verdict",
            "memleak's verdict: -1 unknown, 0 clean, 1 suspect (a level grows), 2 leak (a reference path grows).",
            labels=labels,
        )
        verdict.add_metric(values, float(status.verdict_code))
        yield verdict
        path = status.growing
        if path is not None:
            info = InfoMetricFamily(
                "memleak_growing_path",
                "The reference path that grew at every heap walk (largest growth in bytes).",
                labels=labels,
            )
            info.add_metric(
                values,
                {"path": path.path, "fingerprint": path.fingerprint, "leaf": path.leaf[:200]},
            )
            yield info
            for suffix, value, help_text in (
                ("bytes_per_hour", path.bytes_per_hour, "Growth of the growing path, bytes per hour."),
                ("objects_per_hour", path.objects_per_hour, "Growth of the growing path, objects per hour."),
                ("held_bytes", float(path.held_bytes), "Bytes under the growing path at the last walk."),
            ):
                family = GaugeMetricFamily(
                    f"memleak_growing_path_{suffix}", help_text, labels=[*labels, "fingerprint"]
                )
                family.add_metric([*values, path.fingerprint], value)
                yield family
        for name, value, help_text in (
            ("memleak_samples", status.samples, "Readings taken by memleak."),
            ("memleak_heap_walks", status.walks, "Heap walks (growth detector) made by memleak."),
            ("memleak_cpu_seconds", status.cpu_seconds, "CPU time memleak's watcher spent itself."),
        ):
            counter = CounterMetricFamily(name, help_text, labels=labels)
            counter.add_metric(values, float(value))
            yield counter
        if status.walk_seconds is not None:
            walk = GaugeMetricFamily(
                "memleak_last_walk_seconds", "Duration of the last heap walk, seconds.", labels=labels
            )
            walk.add_metric(values, status.walk_seconds)
            yield walk


def registry_for(read: StatusSource) -> Any:
    """A new ``CollectorRegistry`` holding one :class:`StatusCollector` of *read*."""
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusCollector(read))
    return registry


def exposition(read: StatusSource) -> str:
    """The ``/metrics`` text of the status *read* returns (for tests and logs)."""
    from prometheus_client import generate_latest

    return generate_latest(registry_for(read)).decode("utf-8")


class MetricsServer:
    """``/metrics`` over HTTP in a daemon thread (``prometheus_client.start_http_server``).

    Attributes:
        host, port: where it listens (the port chosen by the OS when 0 was asked).
    """

    def __init__(self, read: StatusSource, address: str) -> None:
        from prometheus_client import start_http_server

        host, port = parse_address(address)
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=registry_for(read))
        except OSError as exc:
            raise UsageError(
                f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}"
            ) from None
        self.host = host
        self.port = int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT/metrics``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and close the socket (waits for the serving thread, a second at most)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=1.0)
