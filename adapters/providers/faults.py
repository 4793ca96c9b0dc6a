"""One mapping from HTTP outcomes to the core's provider errors, shared by every adapter.

Why it matters which error: the worker retries a :class:`TransientProviderError`,
fails over on a :class:`CapacityError`, stops on a :class:`PermanentProviderError`,
and must never simply resend a create that raised :class:`SubmissionUncertain`.

What a create can tell us:

* refused before it reached the service (connection refused, DNS): no job → capacity;
* answered 429, 4xx or 503 (the service says it shed the request): no job;
* answered 500/502/504, timed out reading the answer, lost the connection after the
  request went out, or answered 200 with a body we cannot read: a job may exist →
  :class:`SubmissionUncertain`, and the worker reconciles with ``find`` first.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from collections.abc import Mapping

from bot.errors import (
    CapacityError,
    ContentRefused,
    PermanentProviderError,
    ProviderError,
    SubmissionUncertain,
    TransientProviderError,
)

CREATE = "create"
AMBIGUOUS_CREATE_STATUSES = frozenset({500, 502, 504})


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """The server's wait hint: ``retry-after-ms``, then ``retry-after`` as seconds or an HTTP date."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    with contextlib.suppress(TypeError, ValueError):
        if lowered.get("retry-after-ms") is not None:
            return max(float(lowered["retry-after-ms"]) / 1000, 0.0)
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(float(email.utils.mktime_tz(parsed)) - time.time(), 0.0)


def status_error(
    provider: str,
    action: str,
    status: int,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    refused: bool = False,
    label: str = "",
) -> ProviderError:
    """The core's error for an HTTP error answer to ``action`` (``"create"``, ``"status"``, …).

    Args:
        provider: the adapter's name, carried on the error.
        action: what was being done; ``"create"`` makes 500/502/504 uncertain.
        status: the HTTP status code.
        message: the provider's own words.
        headers: the answer's headers, for ``Retry-After``.
        refused: the provider refused the content (shown to the user, never retried).
        label: how to name the provider in messages (default: ``provider``).
    """
    who = label or provider
    hint = retry_after(headers)
    if refused:
        return ContentRefused(message, provider=provider)
    if status == 429:
        return TransientProviderError(f"{who} rate limit: {message}", provider=provider, retry_after=hint)
    if status == 503:
        return CapacityError(f"{who} is unavailable (503): {message}", provider=provider, retry_after=hint)
    if action == CREATE and (status in AMBIGUOUS_CREATE_STATUSES or status == 408):
        return uncertain(provider, f"{who} answered {status} to a create: {message}", hint)
    if status >= 500 or status == 408:
        return TransientProviderError(f"{who} error {status}: {message}", provider=provider, retry_after=hint)
    if status == 404 and action != CREATE:
        return PermanentProviderError(f"{who} no longer has this job: {message}", provider=provider)
    return PermanentProviderError(f"{who} {action} failed ({status}): {message}", provider=provider)


def uncertain(provider: str, message: str, hint: float | None = None) -> SubmissionUncertain:
    """A create whose outcome is unknown: a job (and a charge) may exist."""
    return SubmissionUncertain(
        f"{message}; a job may have been created, so it is looked up before any new submit",
        provider=provider,
        retry_after=hint,
    )


def unreachable(provider: str, detail: object, *, label: str = "") -> CapacityError:
    """Nothing reached the service: down, so another provider may take the render."""
    return CapacityError(f"{label or provider} is unreachable ({detail})", provider=provider)


def in_transit(provider: str, action: str, detail: object, *, label: str = "") -> ProviderError:
    """The request went out and the answer never came (timeout, connection lost)."""
    who = label or provider
    if action == CREATE:
        return uncertain(provider, f"{who} create got no answer ({detail})")
    return TransientProviderError(f"{who} {action} got no answer ({detail})", provider=provider)


def unexpected_response(provider: str, action: str, detail: object, *, label: str = "") -> ProviderError:
    """A 200 whose body is not what the API sends (an HTML error page from a proxy, say)."""
    message = f"{label or provider} sent an unexpected response to {action}: {_short(detail)}"
    if action == CREATE:
        return uncertain(provider, message)
    return TransientProviderError(message, provider=provider)


def _short(detail: object) -> str:
    text = " ".join(str(detail).split())
    return text if len(text) <= 160 else text[:159] + "…"
