"""The Web API client every part of the adapter shares, with the SDK's retry handlers attached."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

DEFAULT_API_URL = "https://slack.com/api/"


def web_client(
    token: str,
    base_url: str = DEFAULT_API_URL,
    *,
    rate_limit_retries: int = 5,
    timeout: int = 30,
) -> AsyncWebClient:
    """An :class:`AsyncWebClient` that waits out HTTP 429 (``Retry-After``) and retries a dropped connection.

    Args:
        token: The bot token (``xoxb-…``).
        base_url: The Web API root; ``CLIPDESK_SLACK_API_URL`` points it at a proxy or a fake.
        rate_limit_retries: How many 429 answers in a row one call waits out before it fails.
        timeout: Seconds per HTTP request.
    """
    if not base_url.endswith("/"):
        base_url += "/"
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            # A 429 means Slack did nothing, so a retry is always safe. A 5xx may have posted the
            # message already, so it is not retried here: the outbox retries deliveries instead.
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ],
    )


def for_uploads(client: AsyncWebClient, timeout: int = 900) -> AsyncWebClient:
    """The same client with a timeout long enough to send a large clip to the upload URL."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=timeout,
        retry_handlers=list(client.retry_handlers),
    )
