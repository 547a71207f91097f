"""Writing and reading the versioned JSON report.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so a report file
is either whole or absent. Reading checks the schema version and the shape, and turns any
problem into one :class:`~memleak_cli.errors.ReportFileError` line naming the file.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

from memleak_cli.errors import ReportFileError
from memleak_cli.report.documents import read_json_document
from memleak_cli.report.model import (
    SCHEMA_VERSION,
    RunReport,
)
from memleak_cli.report.paths import refuse_unsafe_target


def report_to_dict(report: RunReport) -> dict[str, Any]:
    """The report as plain JSON-ready data (``dataclasses.asdict``); a sample's
    ``child_processes`` appears only when the process had children."""
    data = dataclasses.asdict(report)
    for scenario in data["scenarios"]:
        for variant in scenario["variants"]:
            for sample in variant["samples"]:
                if sample.get("child_processes") is None:
                    sample.pop("child_processes", None)
    return data


def write_atomic(path: Path, data: bytes) -> None:
    """Write *data* to *path* via a temporary file in the same folder, flushed to disk, then
    ``os.replace``: *path* is either its old self or whole, never partial.

    Raises:
        ReportFileError: the folder cannot be created or written (disk full, permissions, a NUL
            byte in the path), or *path* is not a file memleak may replace
            (:func:`~memleak_cli.report.paths.refuse_unsafe_target`: a device, a FIFO, a source
            file); no temporary file is left.
    """
    path = Path(path)
    refuse_unsafe_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o644)  # mkstemp makes 0600: reports are meant to be shared
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            refuse_unsafe_target(path)  # again: the name may have changed during the run
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise ReportFileError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from exc


def write_json_atomic(path: Path, data: Any) -> None:
    """Write *data* as indented JSON to *path* atomically (:func:`write_atomic`).

    Raises:
        ReportFileError: the data cannot be written as JSON (NaN, a cycle), or the file cannot
            be written; nothing is written then.
    """
    try:  # serialised first: a value JSON cannot hold fails before any file is touched
        text = json.dumps(data, indent=1, allow_nan=False, default=str) + "\n"
    except (ValueError, TypeError, RecursionError) as exc:
        raise ReportFileError(f"cannot write {path}: the report holds a value JSON cannot store ({exc})") from exc
    write_atomic(path, text.encode("utf-8"))


def write_text_atomic(path: Path, text: str) -> None:
    """Write *text* (UTF-8) to *path* atomically (:func:`write_atomic`). Raises ReportFileError.

    A lone surrogate (from the measured program's text) is written as its escape, ``\\udcff``,
    instead of failing the write."""
    write_atomic(path, text.encode("utf-8", "backslashreplace"))


def write_report(report: RunReport, path: Path) -> None:
    """Write *report* to *path* atomically. Raises ReportFileError when it cannot."""
    write_json_atomic(path, report_to_dict(report))


def check_writable(path: Path) -> None:
    """Fail early, before any work, when a report could not be written to *path*.

    Raises:
        ReportFileError: *path* is a folder, a device, a FIFO, a socket (or a link to one) or an
            existing Python source file, or its folder cannot be created or written.
    """
    path = Path(path)
    if "\0" in str(path):
        raise ReportFileError(f"report path {str(path)!r} holds a NUL byte: give a plain file name")
    try:
        is_dir = path.is_dir()
    except OSError as exc:  # a name too long to even look up
        raise ReportFileError(f"cannot use report path {path}: {exc.strerror or exc}") from exc
    if is_dir:
        raise ReportFileError(f"report path {path} is a folder: give a file name such as {path / 'run.json'}")
    refuse_unsafe_target(path)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportFileError(f"cannot create folder {parent} for the report: {exc.strerror or exc}") from exc
    try:  # the only honest test of writability is to write (root passes os.access everywhere)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ReportFileError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc


class Malformed(ValueError):
    """A field of a report that does not have the type the model declares.

    ``path`` holds the keys and indexes from the document's root to the field; each level adds
    its own on the way out (:meth:`at`), so the path is only built when something is wrong.
    """

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def at(self, segment: str | int) -> Malformed:
        self.path = (segment, *self.path)
        return self

    def __str__(self) -> str:
        where = ""
        for segment in self.path:
            where += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if where else segment)
        return f"{where}: {self.message}" if where else self.message


def _kind(value: Any) -> str:
    return "null" if value is None else {dict: "object", list: "list", str: "string", bool: "boolean"}.get(type(value), type(value).__name__)


Converter = typing.Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _to_float(value: Any) -> float:
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Malformed(f"expected a number, got {_kind(value)}")
    try:
        return float(value)
    except OverflowError:  # an integer of 309+ digits (read_json_document refuses them first)
        raise Malformed("number too large") from None


def _to_int(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 4096.0 is a whole number of bytes, whatever wrote it
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(f"expected an integer, got {_kind(value)}")
    return value


def _exact(kind: type) -> Converter:
    label = _kind(kind())

    def convert(value: Any) -> Any:
        if type(value) is not kind:
            raise Malformed(f"expected a {label}, got {_kind(value)}")
        return value

    return convert


@functools.cache
def _converter(hint: Any) -> Converter:
    """A function that checks a JSON value against the type *hint* of a model field (building
    dataclasses recursively) and raises :class:`Malformed` when it does not fit. Made once per
    hint: a report of 240 000 samples checks 3.6 million values."""
    if hint is Any:
        return _identity
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        nullable = type(None) in options
        choices = [_converter(o) for o in options if o is not type(None)]

        def union(value: Any) -> Any:
            if value is None and nullable:
                return None
            errors = []
            for choice in choices:
                try:
                    return choice(value)
                except Malformed as exc:
                    errors.append(exc)
            if len(errors) == 1:
                raise errors[0]
            raise Malformed(f"{_kind(value)} is not allowed here")

        return union
    if dataclasses.is_dataclass(hint):
        return _dataclass_converter(hint)  # type: ignore[arg-type]
    if origin is list:
        (item_hint,) = typing.get_args(hint) or (Any,)
        item = _converter(item_hint)

        def listed(value: Any) -> list[Any]:
            if not isinstance(value, list):
                raise Malformed(f"expected a list, got {_kind(value)}")
            if item is _identity:
                return list(value)
            out = []
            for index, x in enumerate(value):
                try:
                    out.append(item(x))
                except Malformed as exc:
                    raise exc.at(index) from None
            return out

        return listed
    if origin is dict:

        def mapping(value: Any) -> Any:
            if not isinstance(value, dict):
                raise Malformed(f"expected an object, got {_kind(value)}")
            return value

        return mapping
    if hint is float:
        return _to_float
    if hint is int:
        return _to_int
    if hint in (str, bool):
        return _exact(hint)
    return _identity  # a type the model does not use yet: taken as it is


def _dataclass_converter(cls: type) -> Converter:
    hints = typing.get_type_hints(cls)
    fields = [
        (f.name, _converter(hints[f.name]), f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(cls)
    ]

    def build(data: Any) -> Any:
        if not isinstance(data, dict):
            raise Malformed(f"expected an object, got {_kind(data)}")
        values = {}
        for name, convert, required in fields:
            if name in data:
                try:
                    values[name] = convert(data[name])
                except Malformed as exc:
                    raise exc.at(name) from None
            elif required:
                raise Malformed("missing", (name,))
        return cls(**values)

    return build


def decode(cls: type, data: Any, where: str = "") -> Any:
    """Build the dataclass *cls* from a JSON object, every field checked against its type hint
    and nested dataclasses built recursively (converters compiled once per type, see
    :func:`_converter`); unknown keys are ignored, missing fields with a default take it. The one
    JSON → model decoder (reports, baselines, watch reports, worker events).

    Raises:
        Malformed: a field of the wrong type, or a required field missing; the message names it.
    """
    try:
        return _converter(cls)(data)
    except Malformed as exc:
        if where:
            exc.path = (where, *exc.path)
        raise


def report_from_dict(data: Any, *, source: str = "report") -> RunReport:
    """Rebuild a :class:`RunReport` from :func:`report_to_dict` output, checking every field's
    type against the model (unknown keys are ignored).

    Raises:
        ReportFileError: not a memleak report, another schema version, or a malformed field
            (the message names it, e.g. ``scenarios[0].variants[1].samples: expected a list``).
    """
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ReportFileError(f"{source}: not a memleak report (no schema_version)")
    if data["schema_version"] != SCHEMA_VERSION:
        raise ReportFileError(
            f"{source}: report schema version {data['schema_version']!r} is not supported "
            f"(this memleak reads version {SCHEMA_VERSION})"
        )
    try:
        report: RunReport = decode(RunReport, data, "")
        return report
    except Malformed as exc:
        raise ReportFileError(f"{source}: malformed report: {exc}") from None


def read_report(path: Path) -> RunReport:
    """Read a JSON report written by :func:`write_report`.

    Raises:
        ReportFileError: missing, unreadable, not a regular file, not UTF-8, truncated, not
            JSON, holding NaN, Infinity or numbers too large, nested too deeply, of another
            schema version, or with a field of the wrong type or missing (one line naming the
            file; see :mod:`memleak_cli.report.documents`).
    """
    return report_from_dict(read_json_document(Path(path), "report"), source=str(path))
