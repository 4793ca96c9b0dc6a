"""Mint one-time sign-in links to the review page for a chat user."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

from adapters.runtime.settings import Settings
from adapters.web.review.routes import review_signer
from adapters.web.review.signing import Reviewer


def login_link(
    settings: Settings,
    reviewer: Reviewer,
    now: datetime,
    request_id: str | None = None,
    minutes: float | None = None,
) -> str:
    """``{public url}/review/login?t=…``: signed for ``reviewer``, expiring in minutes, usable once."""
    ttl = timedelta(minutes=settings.review_link_minutes if minutes is None else minutes)
    token = review_signer(settings).login_token(reviewer, now, ttl, request_id)
    return f"{settings.public_url.rstrip('/')}/review/login?t={quote(token)}"
