"""Errors of the REST API as ``application/problem+json`` (RFC 9457), with the chat's own words.

A :class:`bot.errors.UserError` keeps its ``user_message`` as the ``detail``: the
API says what the thread would say. Validation errors list what was wrong
(``errors``), and nothing that fails here has written anything.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.errors import (
    AlreadyDecided,
    EmptyRequest,
    InvalidOptions,
    NotAllowed,
    OverBudget,
    PromptBlocked,
    UnknownRequest,
    UserError,
)

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://clipdesk.dev/problems/"
API_PATHS = "/api/v1/"

# (status, type slug, title) per kind of user error; the detail is the chat's message.
_USER_ERRORS: list[tuple[type[UserError], int, str, str]] = [
    (UnknownRequest, 404, "not-found", "Not found"),
    (NotAllowed, 403, "not-allowed", "Not allowed"),
    (AlreadyDecided, 409, "conflict", "Already moved on"),
    (OverBudget, 403, "over-budget", "Over budget"),
    (PromptBlocked, 422, "blocked", "Blocked by policy"),
    (InvalidOptions, 422, "invalid-options", "Invalid options"),
    (EmptyRequest, 422, "empty-request", "Nothing to make"),
]
_STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Server error",
}


class Problem(Exception):
    """Raise from an API route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _STATUS_TITLES.get(status, "error").lower().replace(" ", "-")
        self.title = title or _STATUS_TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    body.update(problem.extra)
    return JSONResponse(body, status_code=problem.status, headers=problem.headers, media_type=MEDIA_TYPE)


def from_user_error(error: UserError) -> Problem:
    for kind, status, slug, title in _USER_ERRORS:
        if isinstance(error, kind):
            extra: dict[str, Any] = {}
            if isinstance(error, OverBudget):
                extra = {"scope": error.scope, "limit": error.limit, "spent": error.spent}
            return Problem(status, error.user_message, slug=slug, title=title, **extra)
    return Problem(422, error.user_message, slug="invalid", title="Invalid input")


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return Problem(400, "The body is not valid JSON.", slug="malformed-json", title="Malformed JSON")
    listed = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": str(e.get("msg", ""))}
        for e in errors
    ]
    fields = ", ".join(item["field"] or "body" for item in listed)
    return Problem(422, f"Some fields are not right: {fields}.", slug="invalid-input", errors=listed)


def install(web_app: FastAPI) -> None:
    """Answer errors on API paths with problem documents; other routes keep FastAPI's defaults."""
    from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc, request.url.path)

    async def on_user_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UserError)
        return problem_response(from_user_error(exc), request.url.path)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith(API_PATHS):
            return await request_validation_exception_handler(request, exc)
        return problem_response(_validation_problem(exc), request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith(API_PATHS):
            return await http_exception_handler(request, exc)
        detail = exc.detail if isinstance(exc.detail, str) else _STATUS_TITLES.get(exc.status_code, "Error")
        return problem_response(
            Problem(exc.status_code, detail, headers=dict(exc.headers or {})), request.url.path
        )

    web_app.add_exception_handler(Problem, on_problem)
    web_app.add_exception_handler(UserError, on_user_error)
    web_app.add_exception_handler(RequestValidationError, on_validation)
    web_app.add_exception_handler(StarletteHTTPException, on_http)
