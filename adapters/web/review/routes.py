"""Plug the review page into the one web app."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from fastapi import FastAPI

from adapters.web.review.pages import ReviewPages, router
from adapters.web.review.signing import Signer
from storage.links import load_or_create_secret

if TYPE_CHECKING:
    from adapters.runtime.container import App
    from adapters.runtime.settings import Settings


def review_signer(settings: Settings) -> Signer:
    """Derived from the clip-link secret (the same on every replica), never equal to it."""
    base = settings.link_secret.encode() if settings.link_secret else load_or_create_secret(settings.data_dir)
    return Signer(hashlib.sha256(b"clipdesk review page\0" + base).digest())


def add_review(app: App, web_app: FastAPI) -> None:
    web_app.state.review = ReviewPages(
        app, review_signer(app.settings), secure_cookie=app.settings.public_url.startswith("https://")
    )
    web_app.include_router(router)
