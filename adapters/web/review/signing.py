"""One-time login links and session cookies for the review page, signed with HMAC-SHA256.

A login link names one chat user (platform, workspace, user id and name), when
it expires (minutes), and a nonce; the nonce is recorded when the link is used,
so a link works once. The session it starts is a signed cookie holding the same
identity, its own expiry and a CSRF token that every POST must echo.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


class BadSignature(ValueError):
    """Tampered, malformed, or signed with another secret."""


class Expired(ValueError):
    """Signed by us, but too old."""


@dataclass(frozen=True)
class Reviewer:
    """A chat user signed in to the review page."""

    platform: str
    workspace: str
    user_id: str
    name: str


@dataclass(frozen=True)
class Session:
    reviewer: Reviewer
    csrf: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks the review page's tokens; ``purpose`` keeps a link from passing as a cookie."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _mac(self, purpose: str, body: str) -> str:
        return _b64(hmac.new(self.secret, f"{purpose}.{body}".encode(), hashlib.sha256).digest())

    def sign(self, purpose: str, claims: dict[str, Any]) -> str:
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def check(self, purpose: str, token: str, now: datetime) -> dict[str, Any]:
        body, sep, mac = token.partition(".")
        if not sep or not hmac.compare_digest(mac, self._mac(purpose, body)):
            raise BadSignature(purpose)
        try:
            claims: dict[str, Any] = json.loads(_unb64(body))
        except ValueError:
            raise BadSignature(purpose) from None
        if int(claims.get("exp", 0)) < int(now.timestamp()):
            raise Expired(purpose)
        return claims

    # ------------------------------------------------------------------ login links

    def login_token(
        self, reviewer: Reviewer, now: datetime, ttl: timedelta, request_id: str | None = None
    ) -> str:
        claims = {
            "p": reviewer.platform,
            "w": reviewer.workspace,
            "u": reviewer.user_id,
            "n": reviewer.name,
            "r": request_id or "",
            "exp": int((now + ttl).timestamp()),
            "nonce": secrets.token_urlsafe(12),
        }
        return self.sign("login", claims)

    def read_login(self, token: str, now: datetime) -> tuple[Reviewer, str, str]:
        """The reviewer, the request the link opens (may be empty) and the link's nonce."""
        c = self.check("login", token, now)
        return Reviewer(c["p"], c["w"], c["u"], c["n"]), str(c.get("r", "")), str(c["nonce"])

    # ------------------------------------------------------------------ sessions

    def session_cookie(self, reviewer: Reviewer, now: datetime, ttl: timedelta) -> str:
        claims = {
            "p": reviewer.platform,
            "w": reviewer.workspace,
            "u": reviewer.user_id,
            "n": reviewer.name,
            "csrf": secrets.token_urlsafe(24),
            "exp": int((now + ttl).timestamp()),
        }
        return self.sign("session", claims)

    def read_session(self, cookie: str, now: datetime) -> Session:
        c = self.check("session", cookie, now)
        return Session(Reviewer(c["p"], c["w"], c["u"], c["n"]), str(c["csrf"]), int(c["exp"]))
