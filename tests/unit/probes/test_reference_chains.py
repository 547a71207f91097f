"""Reference chains resolved to readable paths."""

from __future__ import annotations

import sys
import types

from memleak_cli.probes.refchain import describe, path_of, reference_chain


class Service:
    def __init__(self) -> None:
        self.optimizer = types.SimpleNamespace(study=None)


def test_chain_from_a_module_global_reads_like_code():
    module = types.ModuleType("fake_backend")
    sys.modules["fake_backend"] = module
    try:
        target = {"trials": [1, 2, 3]}
        module.service = Service()
        module.service.optimizer.study = target
        chain = reference_chain(target)
        assert path_of(chain) == "fake_backend.service.optimizer.study"
    finally:
        del sys.modules["fake_backend"]


def test_keys_and_indexes_are_named():
    module = types.ModuleType("fake_registry")
    sys.modules["fake_registry"] = module
    try:
        target = ["resource"]
        module.tasks = {"task-7": [None, target]}
        assert path_of(reference_chain(target)) == "fake_registry.tasks['task-7'][1]"
    finally:
        del sys.modules["fake_registry"]


def test_unreachable_object_gives_a_one_element_chain():
    assert len(reference_chain(["only a local"])) == 1


def test_describe_survives_a_broken_repr():
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert "Broken" in describe(Broken())
