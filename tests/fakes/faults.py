"""Failure modes every fake provider shares, so tests can be written once across providers.

A fake keeps one :class:`CreateFaults` and asks it, once a create has made its job,
how to answer: normally, late (a slow create a test can kill a worker in the middle
of), with a gateway error although the job exists (the 504-after-create of issue 10),
or with a 200 HTML page a misbehaving proxy sends. ``html_next`` also covers other
routes: a fake calls :meth:`CreateFaults.html_instead` before answering them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>The upstream server is not answering.</p></body></html>"
)


def html_page() -> web.Response:
    """What a proxy in front of the API sends instead of JSON: a 200 with an HTML page."""
    return web.Response(status=200, text=HTML_PAGE, content_type="text/html")


@dataclass
class CreateFaults:
    """Switches a test flips on a fake's create (and, for HTML, any route).

    Attributes:
        status_after_create: the next N creates make their job, then answer this status.
        times_after_create: how many creates ``status_after_create`` applies to.
        create_delay: seconds a create waits, after making its job, before answering.
        html_routes: route name -> how many answers are an HTML page instead of JSON.
        idempotency: honour ``Idempotency-Key`` (a repeated key answers with the first job).
    """

    status_after_create: int = 504
    times_after_create: int = 0
    create_delay: float = 0.0
    html_routes: dict[str, int] = field(default_factory=dict)
    idempotency: bool = False
    keys: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> job id
    hang_routes: dict[str, int] = field(default_factory=dict)
    _released: asyncio.Event | None = None

    def hang_next(self, route: str, times: int = 1) -> None:
        """The next ``times`` answers on ``route`` never come (until :meth:`release_hangs`)."""
        self.hang_routes[route] = self.hang_routes.get(route, 0) + times

    async def hang_if_due(self, route: str) -> None:
        if self.hang_routes.get(route, 0) > 0:
            self.hang_routes[route] -= 1
            self._released = self._released or asyncio.Event()
            await self._released.wait()

    def release_hangs(self) -> None:
        """Let hung answers go (a fake calls this when it stops, so its server shuts down at once)."""
        if self._released is not None:
            self._released.set()

    def fail_after_create(self, status: int = 504, times: int = 1) -> None:
        self.status_after_create, self.times_after_create = status, times

    def html_next(self, route: str, times: int = 1) -> None:
        self.html_routes[route] = self.html_routes.get(route, 0) + times

    def html_instead(self, route: str) -> web.Response | None:
        """An HTML page if one is due on ``route`` (then counted), else ``None``."""
        if self.html_routes.get(route, 0) > 0:
            self.html_routes[route] -= 1
            return html_page()
        return None

    def replay(self, key: str | None) -> str | None:
        """The job an earlier create with this key made, when the fake honours keys."""
        return self.keys.get(key) if (self.idempotency and key) else None

    def remember(self, key: str | None, job_id: str) -> None:
        if key:
            self.keys.setdefault(key, job_id)

    async def after_create(self, body: str = '{"error": "upstream timed out"}') -> web.Response | None:
        """Call once the job exists: waits out ``create_delay``, then maybe answers an error."""
        if self.create_delay:
            await asyncio.sleep(self.create_delay)
        if self.times_after_create > 0:
            self.times_after_create -= 1
            return web.Response(status=self.status_after_create, text=body, content_type="application/json")
        return self.html_instead("create")
