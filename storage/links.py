"""Signed, expiring links to finished clips.

A link is ``{public_url}/media/clips/{name}?expires={unix}&sig={signature}``,
where the signature is HMAC-SHA256 over the path and the expiry with a server
secret (URL-safe base64, no padding). Changing the path, the expiry or the
signature breaks it; after ``expires`` it is answered 410 Gone. Nothing is
stored per link: whoever holds the secret can check any link.

The secret is ``CLIPDESK_LINK_SECRET`` when set (the same on every replica),
otherwise one generated on first start into ``<data dir>/link_secret``
(mode 0600), so links survive restarts of a single-host install.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import stat
import tempfile
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 7 * 24 * 3600
MIN_SECRET_CHARS = 32
SECRET_FILE = "link_secret"


class LinkCheck(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


class LinkSigner:
    """Signs paths with an expiry and checks signed links.

    Args:
        secret: The server secret (at least 32 bytes of entropy in production).
        ttl_seconds: How long a new link stays valid.
        clock: Seconds since the epoch (tests pass their own).
    """

    def __init__(
        self,
        secret: bytes,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("a link secret cannot be empty")
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def signature(self, path: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def query(self, path: str) -> str:
        """The query string that makes ``path`` a valid link until now + the TTL."""
        expires = int(self.clock() + self.ttl_seconds)
        return f"expires={expires}&sig={self.signature(path, expires)}"

    def check(self, path: str, expires: str | None, sig: str | None) -> LinkCheck:
        """Whether a link to ``path`` with these query values may be served.

        The signature is checked before the expiry, so a forged link is
        ``INVALID`` even when its (made-up) expiry is past.
        """
        if not expires or not sig or not expires.isdigit() or len(expires) > 12:
            return LinkCheck.INVALID
        if not hmac.compare_digest(sig.encode(), self.signature(path, int(expires)).encode()):
            return LinkCheck.INVALID
        if int(expires) < self.clock():
            return LinkCheck.EXPIRED
        return LinkCheck.VALID

    def seconds_left(self, expires: str) -> int:
        return max(0, int(expires) - int(self.clock()))


def load_or_create_secret(data_dir: Path) -> bytes:
    """The secret in ``data_dir/link_secret``, created (mode 0600) on first use.

    A server and a worker starting together on one data dir must end up with
    one secret: the new secret is written whole to a private temporary file
    and linked into place, which fails if another process got there first.
    """
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".link_secret.")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            os.link(tmp, path)
            log.info("generated a new link secret in %s", path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(tmp)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o); tightening it to 0600", path, mode)
        path.chmod(0o600)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"{path} holds no usable link secret; delete it to make a new one")
    return secret.encode()


def link_signer(secret: str | None, data_dir: Path, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> LinkSigner:
    """The signer for a process: ``secret`` (CLIPDESK_LINK_SECRET) if set, else the data dir's.

    Raises:
        ValueError: The configured secret is too short to be safe.
    """
    if secret is not None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(
                f"CLIPDESK_LINK_SECRET must be at least {MIN_SECRET_CHARS} characters "
                "(for example the output of `openssl rand -hex 32`)"
            )
        return LinkSigner(secret.encode(), ttl_seconds)
    return LinkSigner(load_or_create_secret(data_dir), ttl_seconds)
