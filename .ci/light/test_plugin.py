"""The pytest plugin in the light install: a leaking test fails, a clean one passes."""

import pytest
from handler import clean, leaky


@pytest.mark.memleak(iterations=12)
def test_clean_handler() -> None:
    clean()


@pytest.mark.memleak(iterations=12)
def test_leaky_handler() -> None:
    leaky()
