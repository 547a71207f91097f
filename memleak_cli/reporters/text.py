"""Text from the measured program, made safe to show: the one place every reporter cleans it.

Exception messages, tracebacks, type names, reference-chain hops, reprs, scenario names and
descriptions, file names and output tails are data written by the code memleak measures. Shown
as they are they can break or take over the output:

* rich markup (``[/tmp/cache]`` in a docstring is a closing tag: rich raises ``MarkupError``);
* terminal control sequences (``\\x1b]0;pwned\\x07`` retitles the terminal, ``\\x1b[2J`` clears
  it, ``\\r`` overwrites a line, bidi controls reorder what is read);
* lone surrogates (``\\udcff``, from ``os.fsdecode`` of non-UTF-8 bytes): UTF-8 cannot encode
  them, so printing or writing them raises ``UnicodeEncodeError``;
* characters XML 1.0 does not allow (``\\x01``): the JUnit file would not be well-formed.

Each function returns a new ``str`` and never raises. Replaced characters are shown as Python
escapes (``\\x1b``, ``\\udcff``), so that what the program wrote can still be read. Cost: one
regular-expression scan per string, ~1 µs for a short one; strings with nothing to replace are
returned as they are.
"""

from __future__ import annotations

import re

from rich.markup import escape as _escape_markup
from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional formatting characters
# (U+200E/F marks, U+202A–E embeddings and overrides, U+2066–9 isolates: "Trojan Source").
_CONTROL_BLOCK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What XML 1.0 does not allow: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if char == "\r":
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def surrogate_safe(text: object) -> str:
    """*text* (made a ``str``) with every lone surrogate written as its escape: ``\\udcff``.

    The result always encodes as UTF-8.
    """
    text = _as_str(text)
    return _SURROGATE.sub(_escaped, text) if _SURROGATE.search(text) else text


def for_terminal(text: object) -> str:
    """One line for the terminal: surrogates and every control character (newline and tab too,
    ESC, BEL, C1, bidi controls) written as escapes. Not markup-escaped: show it in a
    :class:`rich.text.Text` (:func:`terminal_text`) or pass it through :func:`for_markup`."""
    text = surrogate_safe(text)
    return _CONTROL_LINE.sub(_escaped, text) if _CONTROL_LINE.search(text) else text


def for_terminal_block(text: object) -> str:
    """A multi-line block (a traceback, an output tail, source code) for the terminal: as
    :func:`for_terminal`, but newlines and tabs are kept."""
    text = surrogate_safe(text)
    return _CONTROL_BLOCK.sub(_escaped, text) if _CONTROL_BLOCK.search(text) else text


def for_markup(text: object) -> str:
    """:func:`for_terminal`, then rich markup escaped: for a string rich will parse as markup
    (a table title, a progress bar's description)."""
    return _escape_markup(for_terminal(text))


def terminal_text(text: object, style: str = "", *, block: bool = False) -> Text:
    """A rich :class:`~rich.text.Text` of *text* cleaned for the terminal (never parsed as markup)."""
    return Text(for_terminal_block(text) if block else for_terminal(text), style=style)


def for_xml(text: object) -> str:
    """*text* made well-formed in XML 1.0 (JUnit): surrogates and the characters XML does not
    allow (C0 controls but tab, newline and carriage return; U+FFFE, U+FFFF) written as escapes.
    ``<``, ``&`` and quotes are left to the XML writer."""
    text = _as_str(text)
    return _NOT_XML.sub(_escaped, text) if _NOT_XML.search(text) else text


def for_html(text: object) -> str:
    """A string for the HTML page before autoescape: surrogates and control characters (but
    newline and tab) written as escapes."""
    return for_terminal_block(text)


def _as_str(text: object) -> str:
    if isinstance(text, str):
        return text
    try:
        return str(text)
    except Exception:  # noqa: BLE001 - a value whose __str__ fails is shown by its type
        return f"<{type(text).__name__}>"
