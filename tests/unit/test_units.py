"""Size parsing and formatting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memleak_cli.errors import UsageError
from memleak_cli.units import format_bytes, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4096", 4096), ("4KiB", 4096), ("4 KiB", 4096), ("4kib", 4096), ("1.5 MB", 1_500_000),
     ("1MiB", 1048576), ("2GiB", 2 * 1024**3), ("0", 0), ("10B", 10), ("64k", 64000)],
)
def test_parse_size_reads_decimal_and_binary_units(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "-3", "4XB", "KiB", "1.2.3MB", "nan", "4 Ki B"])
def test_parse_size_rejects_bad_input_with_a_usage_error(text):
    with pytest.raises(UsageError):
        parse_size(text)


@given(st.text(max_size=20))
def test_parse_size_never_raises_anything_but_usage_error(text):
    try:
        assert parse_size(text) >= 0
    except UsageError:
        pass


def test_format_bytes_uses_binary_units_and_signs():
    assert format_bytes(212 * 1024, signed=True) == "+212.0 KiB"
    assert format_bytes(-1536) == "-1.5 KiB"
    assert format_bytes(100) == "100 B"
    assert format_bytes(None) == "n/a"
