"""Which URLs a webhook may be sent to: no private, loopback or link-local targets unless an operator allows.

A subscriber names a URL; clipdesk would otherwise POST from inside the
operator's network to wherever it points (SSRF). The host is resolved and every
address it resolves to is checked, when the endpoint is made and again before
each delivery (a name may be pointed elsewhere later).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from bot import texts


class TargetRefused(ValueError):
    """The URL may not receive webhooks; ``user_message`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.user_message = texts.webhook_target_refused(reason)


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _forbidden(address.ipv4_mapped)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def check_target(url: str, *, allow_private: bool) -> None:
    """Raise :class:`TargetRefused` unless ``url`` is http(s) and its host resolves to public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("it must start with https:// (or http://)")
    if not parts.hostname:
        raise TargetRefused("it has no host name")
    if parts.username or parts.password:
        raise TargetRefused("it must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("its port is not a number from 1 to 65535") from None
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError:
        raise TargetRefused(f"the host {parts.hostname} cannot be resolved") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _forbidden(address):
            raise TargetRefused(f"{parts.hostname} resolves to a private or local address ({address})")
