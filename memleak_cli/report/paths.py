"""Where memleak may write a file it produces (JSON, HTML and JUnit reports, the baseline).

A report path comes from the command line or the config, and a wrong one must never cost the
user a file: memleak writes through a temporary file and ``os.replace``, which *replaces*
whatever the name pointed to. So before any work, and again just before the replace:

* a name that is (or is a symbolic link to) a device, a FIFO or a socket is refused; as root,
  ``--json /dev/null`` would otherwise replace ``/dev/null`` with a regular file;
* an existing Python source file (``--json basic.py``) is refused: it is not a report;
* a name ending in ``/`` means a folder: the file goes inside it, under the default name
  (:func:`output_path`).

Each refusal is one :class:`~memleak_cli.errors.ReportFileError` line (exit status 2).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from memleak_cli.errors import ReportFileError

# Existing files with these suffixes are code or notebooks, never a report memleak wrote.
SOURCE_SUFFIXES = frozenset({".py", ".pyi", ".pyw", ".pyx", ".pxd", ".ipynb"})

_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def output_path(text: str | os.PathLike[str] | None, default: Path) -> Path:
    """The file a ``--json``/``--html``/``--junit``/``--baseline`` value names.

    ``None`` gives *default*; a value ending in ``/`` (``new/``) is a folder, and the file is
    *default*'s name inside it (the folder is created when the report is written). Anything
    else is the file itself. Take the option as ``str``: ``pathlib.Path`` drops the slash.

    Raises:
        ReportFileError: the value holds a NUL byte.
    """
    if text is None:
        return default
    raw = os.fspath(text)
    if "\0" in raw:
        raise ReportFileError(f"report path {raw!r} holds a NUL byte: give a plain file name")
    if raw.endswith(("/", os.sep)) and raw.strip("/" + os.sep):
        return Path(raw) / default.name
    return Path(raw)


def refuse_unsafe_target(path: Path, what: str = "report") -> None:
    """Refuse to write over anything but a regular file memleak may replace.

    Raises:
        ReportFileError: *path* is (a link to) a device, FIFO, socket or folder, or an existing
            Python source file.
    """
    try:
        info = os.stat(path)  # follows a symbolic link: what the name leads to is what matters
    except (OSError, ValueError):
        return  # nothing there, a dangling link, or a path the write itself will report on
    kind = stat.S_IFMT(info.st_mode)
    if kind == stat.S_IFDIR:
        raise ReportFileError(f"{what} path {path} is a folder: give a file name such as {path / 'run.json'}, or end it with / to write the default name inside")
    if kind != stat.S_IFREG:
        link = " (through a symbolic link)" if os.path.islink(path) else ""
        raise ReportFileError(f"{what} path {path} is {_KINDS.get(kind, 'not a regular file')}{link}: memleak writes only regular files; give a file name")
    if path.suffix.lower() in SOURCE_SUFFIXES:
        raise ReportFileError(f"{what} path {path} is an existing {path.suffix} source file: memleak will not overwrite it; give a .json name")
