"""fal-client's queue, with clipdesk owning retries, timeouts and the base URL.

Why a transport of our own: fal-client's ``AsyncClient`` retries 408/409/429, a
gateway's 502-504 and *every* transport error up to ten times, the queue submit
(``POST``) included, and has no switch to turn that off. A create whose answer was
lost and that is sent again starts a second paid job. So the ``httpx`` client it
uses gets :class:`QueueTransport`, which turns every failure into
:class:`QueueFault` (not an ``httpx`` error, so fal-client's retry loop lets it
through at once) and bounds each call with clipdesk's timeout (fal-client sets
120 s on status calls itself). The worker's back-off, which honours ``Retry-After``
and knows an uncertain create from a safe one, is the only retry loop.

fal-client builds its URLs from ``https://queue.fal.run`` at import time; with a
``base_url`` (tests, a proxy) the transport sends requests for fal's hosts there
instead. Nothing else about the client changes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import fal_client
import httpx
from asyncstdlib import cached_property as async_cached_property
from fal_client.auth import FAL_QUEUE_RUN_HOST, FAL_RUN_HOST

FAL_HOSTS = frozenset({FAL_QUEUE_RUN_HOST, FAL_RUN_HOST, "rest.fal.ai"})


class QueueFault(Exception):
    """A fal call that did not answer 2xx: an error status, or no answer at all.

    Attributes:
        status: the HTTP status, or ``None`` when no answer came.
        connected: for no answer, whether the request may have reached fal.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        connected: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.connected = connected


class QueueTransport(httpx.AsyncBaseTransport):
    """Send to ``base_url`` for fal's hosts, bound every call, and raise :class:`QueueFault`."""

    def __init__(self, *, base_url: str | None, timeout: float) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._base = httpx.URL(base_url) if base_url else None
        self._timeout = httpx.Timeout(timeout).as_dict()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._base is not None and request.url.host in FAL_HOSTS:
            request.url = request.url.copy_with(
                scheme=self._base.scheme, host=self._base.host, port=self._base.port
            )
            request.headers["Host"] = request.url.netloc.decode()
        request.extensions["timeout"] = self._timeout
        try:
            response = await self._inner.handle_async_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise QueueFault(f"fal is unreachable ({exc!r})", connected=False) from exc
        except httpx.TransportError as exc:
            raise QueueFault(f"no answer from fal ({exc!r})") from exc
        if response.status_code >= 400:
            try:
                body = (await response.aread()).decode(errors="replace")
            except httpx.TransportError as exc:
                raise QueueFault(f"fal's answer broke off ({exc!r})") from exc
            finally:
                await response.aclose()
            raise QueueFault(body, status=response.status_code, headers=dict(response.headers))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(unsafe_hash=True)
class FalQueueClient(fal_client.AsyncClient):
    """fal-client's ``AsyncClient`` on :class:`QueueTransport`; everything else is the SDK's own."""

    base_url: str | None = None
    timeout: float = 30.0
    _made: list[httpx.AsyncClient] = field(default_factory=list, hash=False, compare=False, repr=False)

    @async_cached_property(asyncio.Lock)
    async def _client(self) -> httpx.AsyncClient:
        auth = await self._auth
        client = httpx.AsyncClient(
            transport=QueueTransport(base_url=self.base_url, timeout=self.timeout),
            headers={"Authorization": auth.header_value, "User-Agent": fal_client.client.USER_AGENT},
            timeout=self.timeout,
        )
        self._made.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._made:
            await client.aclose()
        self._made.clear()
