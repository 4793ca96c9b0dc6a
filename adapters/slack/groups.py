"""Which configured approver groups a Slack user is in (``usergroups.users.list``, cached briefly)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class ApproverGroups:
    """Resolve a user's membership in the approver user groups.

    Membership is cached for ``ttl`` seconds per group, so a burst of clicks
    costs one API call per group. When Slack cannot be asked, the last known
    members are used; with none known, nobody is a member (fail closed).

    Args:
        client: The bot's Web API client (needs ``usergroups:read``).
        groups: User group ids (``S…``) whose members may approve.
        ttl: Seconds a fetched member list stays fresh.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        groups: Iterable[str],
        *,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.groups = tuple(dict.fromkeys(groups))
        self._ttl = ttl
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks = {group: asyncio.Lock() for group in self.groups}

    async def of(self, user_id: str) -> frozenset[str]:
        """The approver groups ``user_id`` belongs to."""
        if not self.groups:
            return frozenset()
        found = await asyncio.gather(*(self._members_of(g) for g in self.groups))
        return frozenset(g for g, members in zip(self.groups, found, strict=True) if user_id in members)

    async def _members_of(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached and cached[0] > self._clock():
            return cached[1]
        async with self._locks[group]:
            cached = self._members.get(group)
            if cached and cached[0] > self._clock():
                return cached[1]
            try:
                response = await self._client.usergroups_users_list(usergroup=group)
            except (TimeoutError, SlackApiError, SlackClientError, OSError) as exc:
                log.warning("could not read the members of user group %s: %s", group, exc)
                # Keep the last known list, but ask again on the next click.
                return cached[1] if cached else frozenset()
            members = frozenset(str(u) for u in (response.get("users") or []))
            self._members[group] = (self._clock() + self._ttl, members)
            return members
