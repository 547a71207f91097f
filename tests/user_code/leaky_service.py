"""A small WSGI service running memleak's sentinel, for the production tests.

``python -c "import leaky_service, sys; leaky_service.main(sys.argv[1:])" leak|clean [interval]``
serves on 127.0.0.1 (a port the OS picks, printed as one JSON line on stdout) with ``/predict``
and the sentinel's ``/metrics``. In ``leak`` mode every request keeps its features in
``PREDICTIONS`` (the leak to name); in ``clean`` mode it keeps nothing. It stops by itself after
``MAX_SECONDS``, when stdin closes, or on SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import memleak_cli.sentinel

MAX_SECONDS = 240.0
PREDICTIONS: list[dict[str, Any]] = []
MODE = "clean"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


def predict(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    features = {"features": os.urandom(2048), "request": [environ.get("QUERY_STRING", "")]}
    if MODE == "leak":
        PREDICTIONS.append(features)  # the leak: a history nobody trims
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]


def main(argv: list[str]) -> None:
    global MODE
    MODE = argv[0]
    interval = float(argv[1]) if len(argv) > 1 else 0.25
    app = memleak_cli.sentinel.wsgi(
        predict, interval=interval, warmup=2, window=16, walk_every=2, walks=3
    )
    server = make_server("127.0.0.1", 0, app, server_class=_Server, handler_class=_QuietHandler)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(json.dumps({"port": server.server_address[1], "pid": os.getpid()}), flush=True)
    stop.wait(MAX_SECONDS)
    server.shutdown()
    app.sentinel.stop()
