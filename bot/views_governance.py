"""Thread messages about who may do what: blocks and appeals, cancellations, expiry, usage, links.

Split from :mod:`bot.views` (which re-exports these) to keep each module readable.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain import VideoRequest
from bot.messages import Action, Button, Field, Message, Style
from bot.texts import money
from bot.usecases.queries import OpenRequest, UsageLine


def blocked_message(reason: str, request_id: str | None = None) -> Message:
    buttons: tuple[Button, ...] = ()
    if request_id:
        buttons = (Button("Ask an approver", Action.APPEAL, request_id),)
    return Message(
        text=f"🚫 I can't make this video: {reason}.",
        buttons=buttons,
        context="Nothing was rendered and nothing was charged.",
    )


def open_requests_message(rows: Sequence[OpenRequest]) -> Message:
    if not rows:
        return Message(text="You have no open video requests.")
    lines = []
    for row in rows:
        request, position = row.request, row.queue_position
        where = f" · queue position {position}" if position else ""
        ask = request.raw_text if len(request.raw_text) <= 60 else request.raw_text[:57] + "…"
        lines.append(f"• `{request.id}` {request.status.value.replace('_', ' ')}{where}: {ask}")
    return Message(text="Your open video requests", body="\n".join(lines))


_SCOPE_LABELS = {"user": "You", "channel": "This channel", "workspace": "This workspace"}


def usage_message(lines: Sequence[UsageLine]) -> Message:
    fields = tuple(
        Field(
            _SCOPE_LABELS.get(line.scope, line.scope),
            f"{money(line.spent)} spent"
            + (
                f" of {money(line.limit)} · {money(max(line.limit - line.spent, 0))} left"
                if line.limit is not None
                else " (no limit)"
            ),
        )
        for line in lines
    )
    return Message(text="Video spend this month", fields=fields)


def cancelled_message(by: str, by_id: str) -> Message:
    return Message(text=f"🚫 Cancelled by {by}. Nothing more will be rendered.", mentions=(by_id,))


def expired_message(hours: float, request: VideoRequest) -> Message:
    requester = request.requester_name or request.requester
    return Message(
        text=f"⌛ No approver decided within {hours:g} hours, so this review has expired.",
        body=f"{requester}: press Regenerate or Edit prompt on the clip to start a new review.",
        mentions=(request.requester,),
    )


def appeal_message(
    request: VideoRequest, by: str, approvers: str, reason: str, *, mentions: tuple[str, ...] = ()
) -> Message:
    return Message(
        text=f"🙋 {by} asks an approver ({approvers}) to allow a blocked request",
        body=f"*Ask:* {request.raw_text}\n*Blocked because:* {reason}",
        buttons=(
            Button("Allow", Action.APPEAL_ALLOW, request.id, Style.PRIMARY),
            Button("Keep blocked", Action.APPEAL_DENY, request.id, Style.DANGER),
        ),
        context="Only an approver can decide; the decision is recorded.",
        mentions=mentions,  # the requester and the approvers asked
    )


def appeal_sent() -> Message:
    return Message(text="📨 Sent to the approvers. You will see their decision here.")


def appeal_allowed(request: VideoRequest, by: str, by_id: str) -> Message:
    return Message(
        text=f"✅ Allowed by {by}; the request continues in its own thread.",
        body=f"*Ask:* {request.raw_text}",
        mentions=(by_id,),
    )


def appeal_denied(request: VideoRequest, by: str, by_id: str) -> Message:
    return Message(text=f"⛔ Kept blocked by {by}", body=f"*Ask:* {request.raw_text}", mentions=(by_id,))


def appeal_denied_notice(by: str, by_id: str) -> Message:
    return Message(text=f"{by} kept your request blocked.", mentions=(by_id,))


# ----------------------------------------------------------------------------- cuts


def review_link_message(url: str, minutes: float) -> Message:
    """The private answer to "Open review page": a sign-in link for the presser alone."""
    return Message(
        text="🔗 Your sign-in link to the review page",
        body=f"{url}\nIt works once, for {minutes:g} minutes, and signs in only you.",
        mentions=None,
    )


# ----------------------------------------------------------------------------- variants
