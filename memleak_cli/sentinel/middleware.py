"""The sentinel in a web app: WSGI and ASGI wrappers that run it with the app and serve ``/metrics``.

``wsgi(app)`` starts the sentinel when the wrapper is made (a WSGI server has no start-up
hook); ``asgi(app)`` starts it on the lifespan's ``startup`` (or the first request, for a server
without lifespan) and stops it on ``shutdown``. Both answer ``metrics_path`` (default
``/metrics``; ``None`` to leave every path to the app) from the sentinel's status, and pass
everything else to the app untouched. In a server with several worker processes, wrap the app
in each worker (after the fork): a sentinel watches the process it runs in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from memleak_cli.sentinel.core import Sentinel

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _sentinel(sentinel: Sentinel | None, options: dict[str, Any]) -> Sentinel:
    if sentinel is not None and options:
        raise TypeError("give either a sentinel or its options, not both")
    return sentinel if sentinel is not None else Sentinel(**options)


class SentinelWSGI:
    """WSGI middleware: the app, with a running sentinel and ``/metrics``."""

    def __init__(self, app: WSGIApp, sentinel: Sentinel, metrics_path: str | None) -> None:
        self.app = app
        self.sentinel = sentinel
        self.metrics_path = metrics_path
        self._metrics: WSGIApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.metrics_path is not None and environ.get("PATH_INFO") == self.metrics_path:
            if self._metrics is None:
                from prometheus_client import make_wsgi_app

                self._metrics = make_wsgi_app(self.sentinel.registry)
            return self._metrics(environ, start_response)
        return self.app(environ, start_response)


def wsgi(
    app: WSGIApp,
    *,
    sentinel: Sentinel | None = None,
    metrics_path: str | None = "/metrics",
    **options: Any,
) -> SentinelWSGI:
    """*app* wrapped with a started sentinel (*sentinel*, or one made from *options*, e.g.
    ``interval="60s"``); the wrapper's ``.sentinel`` is it."""
    wrapper = SentinelWSGI(app, _sentinel(sentinel, options), metrics_path)
    wrapper.sentinel.start()
    return wrapper


class SentinelASGI:
    """ASGI middleware: starts the sentinel with the app's lifespan and serves ``/metrics``."""

    def __init__(self, app: ASGIApp, sentinel: Sentinel, metrics_path: str | None) -> None:
        self.app = app
        self.sentinel = sentinel
        self.metrics_path = metrics_path
        self._metrics: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "lifespan":

            async def lifespan_receive() -> MutableMapping[str, Any]:
                message = await receive()
                if message.get("type") == "lifespan.startup":
                    self.sentinel.start()
                elif message.get("type") == "lifespan.shutdown":
                    self.sentinel.stop()
                return message

            await self.app(scope, lifespan_receive, send)
            return
        if kind == "http" and not self.sentinel.running:
            self.sentinel.start()  # a server without lifespan events
        if kind == "http" and self.metrics_path is not None and scope.get("path") == self.metrics_path:
            if self._metrics is None:
                from prometheus_client import make_asgi_app

                self._metrics = make_asgi_app(self.sentinel.registry)
            await self._metrics(scope, receive, send)
            return
        await self.app(scope, receive, send)


def asgi(
    app: ASGIApp,
    *,
    sentinel: Sentinel | None = None,
    metrics_path: str | None = "/metrics",
    **options: Any,
) -> SentinelASGI:
    """*app* wrapped with a sentinel started by the lifespan (or the first request) and stopped
    at shutdown; the wrapper's ``.sentinel`` is it."""
    return SentinelASGI(app, _sentinel(sentinel, options), metrics_path)
