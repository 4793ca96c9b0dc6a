"""Find the chat adapter for a reply target."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain import ReplyTarget
from bot.ports import ChatPort


class ChatRouter:
    """The chat ports this process can speak through, by platform name."""

    def __init__(self, ports: Iterable[ChatPort] = ()) -> None:
        self._ports: dict[str, ChatPort] = {}
        for port in ports:
            self.add(port)

    def add(self, port: ChatPort) -> None:
        self._ports[port.platform] = port

    def for_target(self, target: ReplyTarget) -> ChatPort:
        try:
            return self._ports[target.platform]
        except KeyError:
            raise LookupError(f"no chat adapter for platform {target.platform!r} in this process") from None

    @property
    def platforms(self) -> list[str]:
        return list(self._ports)

    def has(self, platform: str) -> bool:
        return platform in self._ports
