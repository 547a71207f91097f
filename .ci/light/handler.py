"""A user's own code, for the light-install check: one leaking handler, one clean one."""

KEPT: list[object] = []


def leaky() -> None:
    KEPT.append([[i] for i in range(200)])


def clean() -> None:
    made = [[i] for i in range(200)]
    del made
