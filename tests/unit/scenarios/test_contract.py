"""The variant-callable contract: a one-argument callable is a factory, and its misuse is explained."""

from __future__ import annotations

import pytest

from memleak_cli.scenarios.contract import (
    FACTORY_CONTRACT,
    FactoryContractError,
    adapt_variant_callable,
)

KEPT: list[object] = []


def predict(request):
    """A service handler, not a factory: it reads its request."""
    return [row * 2 for row in request["rows"]]


def score(request):
    """A handler that returns its result (not callable) for any mapping."""
    return len(request)


def sized(size):
    n = size.get("n", 3)

    def iteration() -> None:
        KEPT.append(list(range(n)))

    return iteration


def test_a_handler_given_as_a_factory_fails_with_the_contract_not_a_bare_key_error() -> None:
    factory = adapt_variant_callable(predict, "leaks.py::predict")
    with pytest.raises(FactoryContractError) as caught:
        factory({})
    assert str(caught.value) == (
        "leaks.py::predict takes one argument (request), so it was called once as a factory with the size profile {} "
        "and raised KeyError: 'rows'; a one-argument callable is a factory called with the size profile; "
        "wrap your handler in a zero-argument function or use declare()"
    )
    assert isinstance(caught.value.__cause__, KeyError)  # the original traceback stays chained


def test_a_factory_that_returns_no_iteration_names_the_contract() -> None:
    factory = adapt_variant_callable(score, "svc.py::score")
    with pytest.raises(FactoryContractError, match=r"returned a int, not the iteration; " + FACTORY_CONTRACT.replace("(", r"\(").replace(")", r"\)")):
        factory({"n": 1})


def test_a_real_factory_still_returns_its_iteration() -> None:
    iterate = adapt_variant_callable(sized, "sized")({"n": 2})
    iterate()
    assert KEPT[-1] == [0, 1]
