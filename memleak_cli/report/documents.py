"""Reading the files memleak is given back: one reader, one ladder of errors.

Reports, watch reports and baselines are JSON; ``pyproject.toml`` is TOML. They may be
truncated, hand-edited, written by another tool or by someone hostile, and every problem must be
one :class:`~memleak_cli.errors.ReportFileError` line naming the file (exit status 2), never a
traceback and never a silent pass. The ladder, in order:

1. the path: a NUL byte, missing, unreadable;
2. not a regular file (a FIFO would block the read for ever, a device never ends): refused
   before it is opened, and checked again on the open descriptor (``O_NONBLOCK``);
3. larger than :data:`MAX_BYTES`;
4. not UTF-8 (strict: the byte offset is named);
5. not JSON; ``NaN``, ``Infinity`` and numbers that do not fit (an integer over 20 digits, a
   float that overflows to infinity) are refused, because each turns into a wrong verdict later
   (an ``Infinity`` baseline passes every gate check) or a page whose embedded JSON does not
   parse; nesting deeper than :data:`MAX_DEPTH` (deep recursion later, in ``asdict`` or
   ``tojson``) is refused too.

Cost: the walk that checks numbers and depth adds ~25 % to ``json.loads``; a report of
240 000 samples (105 MB as written, indented) reads and checks in ~2.5 s on this project's
machine (it took 79 s before the model checks were compiled once per type, see
:func:`memleak_cli.report.jsonio._converter`).
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from memleak_cli.errors import ReportFileError

MAX_BYTES = 2 * 1024**3  # 2 GiB: ~10^7 samples; anything larger is not a report memleak wrote
MAX_DEPTH = 64  # a report nests ~8 deep (scenarios → variants → attribution → retained → chain)
MAX_INT_DIGITS = 20  # 2**64 has 20 digits: every count and byte size memleak writes fits
_INT_LIMIT = 10**MAX_INT_DIGITS


class _Refused(ValueError):
    """A JSON value the reader does not take (NaN, Infinity, a huge number)."""


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number memleak writes")


def read_document_text(path: Path, what: str) -> str:
    """The UTF-8 text of the regular file *path* (steps 1–4 of the module docstring).

    *what* names the document in errors (``report``, ``baseline``, ``config``).

    Raises:
        FileNotFoundError: *path* does not exist (callers decide whether that is an error).
        ReportFileError: any other problem, in one line naming the file.
    """
    path = Path(path)
    if "\0" in str(path):
        raise ReportFileError(f"cannot read {what} {str(path)!r:.200}: the path holds a NUL byte")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ReportFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    _check_regular(path, info, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ReportFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)  # the name may have been swapped for a FIFO between stat and open
        _check_regular(path, info, what)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ReportFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise ReportFileError(f"{path}: {what} is larger than {MAX_BYTES // 1024**3} GiB: not a file memleak wrote")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportFileError(f"{path}: not a JSON {what} (not UTF-8 text at byte {exc.start})" if what != "config" else f"{path}: not UTF-8 text at byte {exc.start}") from exc


def _check_regular(path: Path, info: os.stat_result, what: str) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a regular file"
    raise ReportFileError(f"cannot read {what} {path}: it is {kind}, not a regular file")


def parse_json_document(text: str, source: str, what: str) -> Any:
    """*text* parsed as JSON with the numbers and depth checks of step 5.

    Raises:
        ReportFileError: not JSON, a refused value, or nested too deeply; one line naming *source*.
    """
    try:
        data = json.loads(text, parse_constant=_constant)
    except _Refused as exc:
        raise ReportFileError(f"{source}: not a memleak {what}: {exc}") from None
    except json.JSONDecodeError as exc:
        subject = "" if what == "report" else f"{what} is "
        raise ReportFileError(f"{source}: {subject}not valid JSON (line {exc.lineno}: {exc.msg}); is it truncated?") from None
    except RecursionError:
        raise ReportFileError(f"{source}: not a memleak {what} (nested too deeply to read)") from None
    except ValueError:  # an integer past sys.get_int_max_str_digits() (4300 digits)
        raise ReportFileError(f"{source}: not a memleak {what}: a number too long to read") from None
    try:
        _check_values(data)
    except _Refused as exc:
        raise ReportFileError(f"{source}: not a memleak {what}: {exc}") from None
    return data


def read_json_document(path: Path, what: str) -> Any:
    """Read and parse the JSON document at *path* (the whole ladder of the module docstring).

    Raises:
        ReportFileError: missing, or any step of the ladder fails; one line naming the file.
    """
    try:
        text = read_document_text(path, what)
    except FileNotFoundError as exc:
        raise ReportFileError(f"cannot read {path}: {exc.strerror or 'No such file or directory'}") from exc
    return parse_json_document(text, str(path), what)


def _check_values(data: Any) -> None:
    """Walk *data* without recursion and refuse what step 5 refuses: containers nested deeper
    than :data:`MAX_DEPTH`, integers of more than :data:`MAX_INT_DIGITS` digits, and floats
    that are not finite (``1e400`` parses as infinity).

    Checked after parsing rather than by ``parse_int``/``parse_float`` hooks: a Python call per
    number doubled the time to read a large report.

    Raises:
        _Refused: naming what was refused.
    """
    if not isinstance(data, (dict, list)):
        _check_scalar(data)
        return
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        for value in node.values() if type(node) is dict else node:
            kind = type(value)
            if kind is dict or kind is list:
                if depth >= MAX_DEPTH:
                    raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
                stack.append((value, depth + 1))
            elif kind is int:
                if not -_INT_LIMIT < value < _INT_LIMIT:
                    raise _Refused(f"an integer of {len(str(abs(value)))} digits is too large")
            elif kind is float and value - value != 0.0:  # inf - inf and nan - nan are nan
                raise _Refused(f"number {value} is not finite")


def _check_scalar(value: Any) -> None:
    if type(value) is int and not -_INT_LIMIT < value < _INT_LIMIT:
        raise _Refused("integer too large")
    if type(value) is float and not math.isfinite(value):
        raise _Refused(f"number {value} is not finite")
