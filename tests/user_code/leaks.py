"""Tiny synthetic user scenarios for memleak's own tests: fast, with known growth.

``grows`` keeps 200 new gc-tracked objects per iteration (a LEAK by gc object count);
``flat`` makes the same objects and drops them (CLEAN); ``PAIR`` declares both as leaky/fixed.
"""

from memleak_cli.scenarios.contract import Scenario, Variant, declare

KEPT: list[object] = []


def grows() -> None:
    """Keeps 200 small lists per call in a module-level list."""
    KEPT.append([[i] for i in range(200)])


def flat() -> None:
    """Makes 200 small lists per call and drops them."""
    made = [[i] for i in range(200)]
    del made


def sized(size):
    """A factory: the iteration keeps size['n'] lists per call."""
    n = size["n"]

    def iteration() -> None:
        KEPT.append([[i] for i in range(n)])

    return iteration


def needs_two(a, b):
    return a + b


PAIR = declare(leaky=grows, fixed=flat, description="keeps lists vs drops them")
NAMED = declare(leaky=grows, name="custom-name")
SIZED = declare(leaky=sized, sizes={"small": {"n": 10}, "medium": {"n": 100}})
AS_DICT = {"leaky": grows, "fixed": flat}
OBJECT = Scenario(
    name="object",
    description="a Scenario object used as is",
    finding="",
    variants={"only": Variant("only", lambda size: flat, expect="CLEAN")},
)
NOT_CALLABLE = 42
EMPTY_DICT: dict = {}


class Holder:
    scenario = staticmethod(flat)
LEAKY_ONLY = declare(leaky=grows)
