"""A small project for the pytest plugin's whole-suite mode: exactly two of these tests leak.

Run by tests/integration/test_pytest_plugin.py with ``--memleak``; each test's expected verdict
is in its name's comment.
"""

import ctypes
import ctypes.util

import pytest

HISTORY = []  # test_keeps_history appends here
CACHE = {}  # test_bounded_cache fills three slots, then replaces them
NATIVE_BYTES = 256 * 1024

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.memset.restype = ctypes.c_void_p
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]


class Server:
    def __init__(self):
        self.history = HISTORY


SERVER = Server()


@pytest.fixture(scope="module")
def server():
    return SERVER


@pytest.fixture
def numbers():
    return list(range(100))


def test_clean(numbers):  # CLEAN
    made = [bytes(10_000) for _ in numbers[:10]]
    del made


def test_keeps_history(server):  # LEAK: a dict per call in SERVER.history
    server.history.append({"features": bytes(4000), "predictions": bytes(1000)})


def test_native_malloc_without_free():  # LEAK: 256 KiB of C heap per call, no Python object
    block = libc.malloc(NATIVE_BYTES)
    libc.memset(block, 1, NATIVE_BYTES)


def test_native_malloc_freed():  # CLEAN
    block = libc.malloc(NATIVE_BYTES)
    libc.memset(block, 1, NATIVE_BYTES)
    libc.free(block)


def test_bounded_cache():  # CLEAN: three slots filled in the warm-up, then replaced in place
    key = len(CACHE) if len(CACHE) < 3 else 0
    CACHE[key] = "x" * 100


@pytest.mark.memleak(enabled=False)
def test_opted_out():  # not judged: leaks, but the marker opts it out
    HISTORY.append(bytes(50_000))
