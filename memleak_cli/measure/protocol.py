"""The typed boundary between the parent and the measuring process: the worker spec and its events.

The parent writes a :class:`WorkerSpec` as JSON and starts ``python -m memleak_cli.measure.worker
SPEC.json``; the worker streams one JSON line per :data:`Event` to the events file the spec names.
This module is the only place that knows the wire form: every event is a dataclass with a
``KIND`` tag, :func:`encode` turns one into a line and :func:`decode` turns a line back into the
dataclass (the parent's reader skips a torn last line of a killed worker). Both ends import the
same module of the same installation, and the spec and every line carry :data:`VERSION`, so a
mismatch is an error, not a silent misreading.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from memleak_cli.report.model import Attribution, GrowingPath, NativeSite, Sample, TypeGrowth
from memleak_cli.settings import RunSettings

VERSION = 1


class ProtocolError(Exception):
    """A spec or an event line that does not match this version of the protocol."""


@dataclass(frozen=True)
class WorkerSpec:
    """What one measuring process runs and how.

    Attributes:
        scenario: the scenario spec, resolved again in the worker (a name, ``file.py::name`` or
            ``module:name``).
        variant: the variant's name.
        settings: the run's :class:`~memleak_cli.settings.RunSettings`, whole: a new setting
            reaches the worker without a change here.
        events: path of the events file (JSON lines) the worker appends to.
        memray_capture: where the memray probe writes its capture file.
        lifeline: the read end of the parent's lifeline pipe (:mod:`memleak_cli.measure.containment`),
            or ``None``.
    """

    scenario: str
    variant: str
    settings: RunSettings
    events: str
    memray_capture: str
    lifeline: int | None = None
    version: int = VERSION

    def write(self, path: Path) -> None:
        """Write the spec as JSON to *path*."""
        path.write_text(json.dumps(dataclasses.asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> WorkerSpec:
        """Read a spec written by :meth:`write`.

        Raises:
            ProtocolError: another protocol version, or fields that do not match.
        """
        from memleak_cli.report.jsonio import Malformed, decode

        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ProtocolError(f"worker spec version {data.get('version') if isinstance(data, dict) else None!r}, this memleak speaks {VERSION}")
        try:
            spec: WorkerSpec = decode(cls, data)
        except Malformed as exc:
            raise ProtocolError(f"bad worker spec: {exc}") from None
        return dataclasses.replace(spec, settings=dataclasses.replace(spec.settings, probes=tuple(spec.settings.probes)))


@dataclass(frozen=True)
class SampleTaken:
    """One cheap sample (baseline, warm-up, measured iteration or the window's)."""

    KIND: ClassVar[str] = "sample"
    sample: Sample


@dataclass(frozen=True)
class TypesCounted:
    """objgraph type growth between the end of warm-up and the last measured iteration."""

    KIND: ClassVar[str] = "types"
    growth: list[TypeGrowth]


@dataclass(frozen=True)
class WindowMeasured:
    """What the attribution window found (allocation sites, retained objects, type sizes)."""

    KIND: ClassVar[str] = "attribution"
    attribution: Attribution


@dataclass(frozen=True)
class HoldersFound:
    """Reference paths whose object count grew at every heap walk (:mod:`memleak_cli.probes.growth`):
    after warm-up, after the measured iterations and after the attribution window."""

    KIND: ClassVar[str] = "holders"
    paths: list[GrowingPath]
    walks: int
    seconds: float


@dataclass(frozen=True)
class NativeMeasured:
    """memray's view of its window (``error`` set when memray could not run)."""

    KIND: ClassVar[str] = "native"
    iterations: int = 0
    seconds: float = 0.0
    overhead_seconds: float | None = None
    native_growth_bytes: int = 0
    native_python_bytes: int = 0
    sites: list[NativeSite] = field(default_factory=list)
    capture: str = ""
    error: str | None = None


@dataclass(frozen=True)
class ScenarioFailed:
    """The scenario raised (or the worker failed); ``traceback`` is the formatted traceback."""

    KIND: ClassVar[str] = "error"
    message: str
    traceback: str = ""


@dataclass(frozen=True)
class Finished:
    """Every measurement was streamed; the worker exits next. ``extended_by`` iterations ran
    beyond the requested ones to decide ``why`` (:mod:`memleak_cli.analysis.evidence`)."""

    KIND: ClassVar[str] = "done"
    extended_by: int = 0
    why: str = ""


Event = SampleTaken | TypesCounted | WindowMeasured | HoldersFound | NativeMeasured | ScenarioFailed | Finished
EVENT_TYPES: dict[str, type[Any]] = {
    cls.KIND: cls for cls in (SampleTaken, TypesCounted, WindowMeasured, HoldersFound, NativeMeasured, ScenarioFailed, Finished)
}


def encode(event: Event) -> str:
    """One JSON line (with its newline) for *event*. Text that cannot be encoded (lone
    surrogates from the measured program) is kept as backslash escapes."""
    payload = {"event": event.KIND, "version": VERSION, **dataclasses.asdict(event)}
    return json.dumps(payload, default=str) + "\n"


def decode(line: str | bytes) -> Event:
    """The event of one line written by :func:`encode`.

    Raises:
        ProtocolError: not JSON, another version, an unknown kind or fields that do not match.
    """
    from memleak_cli.report.jsonio import Malformed
    from memleak_cli.report.jsonio import decode as decode_fields

    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"not an event line: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ProtocolError("an event line of another protocol version")
    cls = EVENT_TYPES.get(data.pop("event", None))
    if cls is None:
        raise ProtocolError("an event of unknown kind")
    data.pop("version")
    try:
        return decode_fields(cls, data, cls.KIND)  # type: ignore[no-any-return]
    except Malformed as exc:
        raise ProtocolError(f"bad {cls.KIND} event: {exc}") from None
