"""uvicorn on the process's own event loop, next to the chat adapters and the worker.

``uvicorn.run`` would own the loop and the signals; clipdesk already has both
(``clipdesk serve`` stops on SIGTERM by cancelling its main task). So the
socket is bound here first (a port in use fails start-up with a clear
error instead of uvicorn's ``sys.exit``), ``Server.serve`` runs as a task, and
stopping asks uvicorn to finish the requests in flight (bounded) and close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)

START_SECONDS = 10.0
GRACEFUL_SECONDS = 5.0


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The process's own handlers stop clipdesk (and this server with it); uvicorn's would
        # replace them and re-raise the signal after shutdown.
        yield


class WebServer:
    """One ASGI app served by uvicorn as a task on the running loop.

    Args:
        app: The ASGI application (``adapters.web.app.create_web_app``).
        host: Address to listen on.
        port: Port to listen on; ``0`` picks a free one (see :attr:`port`).
        graceful_seconds: How long stopping waits for requests in flight.
    """

    def __init__(
        self, app: ASGIApp, host: str, port: int, *, graceful_seconds: float = GRACEFUL_SECONDS
    ) -> None:
        self.host = host
        self.port = port
        self._config = uvicorn.Config(
            app,
            log_config=None,  # clipdesk configures logging; uvicorn's loggers propagate to it
            access_log=False,  # refusals are logged once by the app, without bodies
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=int(graceful_seconds),
        )
        self._server = _EmbeddedServer(self._config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind, start serving, and return once uvicorn accepts connections.

        Raises:
            OSError: The address cannot be bound (for example, the port is in use).
        """
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = int(sock.getsockname()[1])
        # uvicorn listens on this very socket and closes it when it shuts down.
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="clipdesk-web")
        try:
            await self._until_started()
        except BaseException:
            await self.stop()
            raise

    async def _until_started(self) -> None:
        assert self._task is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_SECONDS
        while not self._server.started:  # uvicorn has no event for it; a bounded wait
            if self._task.done():
                self._task.result()  # raises why uvicorn stopped
                raise RuntimeError("the web server stopped during start-up")
            if loop.time() > deadline:
                raise TimeoutError(f"the web server did not start within {START_SECONDS:.0f} s")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (bounded), and close."""
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            # uvicorn waits up to its graceful timeout for requests in flight, then cancels them.
            await asyncio.wait_for(self._task, (self._config.timeout_graceful_shutdown or 0) + 5)
        except TimeoutError:
            log.warning("the web server did not stop in time; closing it")
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        except Exception as exc:  # it already failed (start-up reports why); nothing left to stop
            log.debug("the web server had ended: %s", exc)
        self._task = None
