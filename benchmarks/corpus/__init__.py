"""A labelled corpus of leaks and look-alikes for measuring memleak's accuracy.

Every case is a :class:`~memleak_cli.scenarios.contract.Scenario` with one variant, ``case``, whose
``expect`` is the truth, defined at module level in one of the modules below and addressed as
``benchmarks.corpus.<module>:<NAME>`` (run from the repository root, so the measuring child
can import it):

* ``python_heap`` — Python-heap leaks of 256 B to 1 MiB per iteration in seven shapes (LEAK);
* ``native`` — C-heap leaks: ctypes ``malloc`` never freed, LightGBM boosters kept (LEAK);
* ``resources`` — file descriptors, threads, memory growing only in a worker process (LEAK);
* ``retention`` — the latest result(s) kept: bounded (RETAINS);
* ``lookalikes`` — caches that fill then plateau, warm-up, pools, spikes, cycles,
  fragmentation (CLEAN).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from memleak_cli.scenarios.contract import Scenario

# module → kind, in the order the benchmark reports them
KINDS = {"python_heap": "python", "native": "native", "resources": "resource", "retention": "retains", "lookalikes": "lookalike"}


@dataclass(frozen=True)
class Case:
    """One labelled case.

    Attributes:
        spec: ``benchmarks.corpus.<module>:<NAME>``, what the measuring child loads.
        kind: ``python``, ``native``, ``resource`` (leaks), ``retains`` or ``lookalike``.
        truth: the expected verdict (``LEAK``, ``RETAINS``, ``CLEAN``).
        leak_bytes: payload added per iteration in bytes, 0 for cases that do not leak.
        shape: how the memory is held, in words.
        scenario: the scenario itself.
    """

    spec: str
    kind: str
    truth: str
    leak_bytes: int
    shape: str
    scenario: Scenario

    @property
    def name(self) -> str:
        return self.scenario.name


def all_cases() -> list[Case]:
    """Every case of the corpus: by kind, then in definition order.

    Raises:
        ImportError: a corpus module fails to import.
    """
    cases = []
    for module_name, kind in KINDS.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        for attribute, value in vars(module).items():
            if isinstance(value, Scenario):
                variant = value.variant("case")
                cases.append(
                    Case(
                        spec=f"{module.__name__}:{attribute}",
                        kind=kind,
                        truth=variant.expect,
                        leak_bytes=int(value.sizes["small"]["leak_bytes"]),
                        shape=value.description,
                        scenario=value,
                    )
                )
    return cases
