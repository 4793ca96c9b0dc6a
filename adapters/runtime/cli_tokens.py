"""``clipdesk tokens create|list|revoke``: REST API tokens per workspace (the token is shown once)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console

from adapters.runtime.settings import Settings
from adapters.web.api.tokens import ALL_SCOPES, create_token, parse_scopes
from bot.clock import SystemClock
from storage.api_store import SqlApiStore, TokenRecord
from storage.database import make_engine, upgrade

tokens_app = typer.Typer(help="REST API tokens: per workspace, with scopes; stored hashed.")
console = Console(highlight=False)


def _settings() -> Settings:
    from adapters.runtime.cli import _settings as settings_of

    return settings_of(validate=False)


async def _store(settings: Settings) -> SqlApiStore:
    url = settings.effective_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, url)
    return SqlApiStore(make_engine(url))


def _row(token: TokenRecord) -> dict[str, object]:
    return {
        "id": token.id,
        "platform": token.platform,
        "workspace": token.workspace,
        "actor": token.actor_id,
        "name": token.name,
        "scopes": sorted(token.scopes),
        "created_at": token.created_at.isoformat(),
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


@tokens_app.command("create")
def tokens_create(
    workspace: Annotated[str, typer.Option(help="The chat workspace (Slack team id, Discord guild id).")],
    actor: Annotated[str, typer.Option(help="Who the audit says acted (a chat user id or a name).")],
    platform: Annotated[str, typer.Option(help="slack, discord or console.")] = "slack",
    scopes: Annotated[
        str, typer.Option(help="Comma-separated: " + ", ".join(sorted(ALL_SCOPES)))
    ] = "requests:read,requests:write",
    name: Annotated[str, typer.Option(help="A label, e.g. the automation that uses it.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the token and its record as JSON.")] = False,
) -> None:
    """Make a token; it is printed once and only its hash is kept."""
    try:
        wanted = parse_scopes(scopes.split(","))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scopes") from None
    if not wanted:
        raise typer.BadParameter("name at least one scope", param_hint="--scopes")

    async def run() -> tuple[str, TokenRecord]:
        store = await _store(_settings())
        try:
            return await create_token(
                store,
                platform=platform,
                workspace=workspace,
                actor_id=actor,
                name=name,
                scopes=wanted,
                now=SystemClock().now(),
            )
        finally:
            await store.engine.dispose()

    secret, record = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps({"token": secret, **_row(record)}))
        return
    console.print(
        f"token {record.id} for {platform}/{workspace} acting as {actor}: {', '.join(sorted(record.scopes))}"
    )
    console.print("Keep it now; it is not shown again:")
    typer.echo(secret)


@tokens_app.command("list")
def tokens_list(as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False) -> None:
    """Every token (never the secret): id, workspace, actor, scopes, whether revoked."""

    async def run() -> list[TokenRecord]:
        store = await _store(_settings())
        try:
            return await store.tokens()
        finally:
            await store.engine.dispose()

    for token in asyncio.run(run()):
        if as_json:
            typer.echo(json.dumps(_row(token)))
            continue
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        console.print(
            f"{token.id}  {token.platform}/{token.workspace}  {token.actor_id}  "
            f"{','.join(sorted(token.scopes))}  {state}  {token.name}"
        )


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (tok_…), from `tokens list`.")],
) -> None:
    """Revoke a token at once: calls with it are refused from now on."""

    async def run() -> bool:
        store = await _store(_settings())
        try:
            return await store.revoke_token(token_id, SystemClock().now())
        finally:
            await store.engine.dispose()

    if not asyncio.run(run()):
        console.print(f"no active token {token_id}")
        raise typer.Exit(1)
    console.print(f"revoked {token_id}")


review_app = typer.Typer(help="The review page.")


@review_app.command("link")
def review_link(
    workspace: Annotated[str, typer.Option(help="The chat workspace (Slack team id, Discord guild id).")],
    user: Annotated[str, typer.Option(help="The chat user id the link signs in.")],
    platform: Annotated[str, typer.Option(help="slack, discord or console.")] = "slack",
    name: Annotated[str, typer.Option(help="The user's display name.")] = "",
    request: Annotated[str | None, typer.Option(help="Open this request's page (req_…).")] = None,
    minutes: Annotated[
        float | None, typer.Option(help="How long the link works (default: the setting).")
    ] = None,
) -> None:
    """Print a one-time sign-in link to the review page for a chat user (what the thread's button sends)."""
    from adapters.web.review.links import login_link
    from adapters.web.review.signing import Reviewer

    settings = _settings()
    # Chat platforms write a mention as <@id>; the thread then names the reviewer as a click would.
    reviewer = Reviewer(platform, workspace, user, name or (f"<@{user}>" if platform != "console" else user))
    typer.echo(login_link(settings, reviewer, SystemClock().now(), request, minutes))
