"""Building corpus cases: one :class:`~memleak_cli.scenarios.contract.Scenario` with one variant, ``case``.

The variant's ``expect`` is the truth. The intended growth per iteration in bytes is the
``leak_bytes`` knob of every size profile (0 for cases that do not leak), so the factory reads
the same number the benchmark reports.
"""

from __future__ import annotations

from memleak_cli.scenarios.contract import SIZES, Factory, Scenario, Variant, Verdict

KiB = 1024
MiB = 1024 * KiB


def case(name: str, factory: Factory, truth: Verdict, *, leak_bytes: int, module: str, shape: str, **knobs: int) -> Scenario:
    """A corpus case named *name* whose only variant, ``case``, is expected to get *truth*.

    *leak_bytes* is the payload the case adds per iteration (bytes; 0 when it does not leak),
    passed to *factory* as ``size["leak_bytes"]`` together with any other *knobs* (such as
    ``kept_bytes``, the size a retention case keeps); *shape* says in words how it is held.
    """
    return Scenario(
        name=name,
        description=shape,
        finding="",
        variants={"case": Variant("case", factory, expect=truth, summary=shape)},
        sizes={s: {"leak_bytes": leak_bytes, **knobs} for s in SIZES},
        module=module,
    )
