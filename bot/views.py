"""What each step of a request looks like in a thread, as platform-neutral messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import texts
from bot.domain import Brief, Plan, Render, RenderStatus, VideoRequest
from bot.explainers import script_form_text
from bot.messages import Action, Button, Field, Form, FormField, Message, Style
from bot.texts import money
from bot.views_cuts import (
    cut_clip_message,
    edit_shot_form,
    picked_message,
    retry_narration_button,
    take_message,
    variants_message,
)
from bot.views_governance import (
    appeal_allowed,
    appeal_denied,
    appeal_denied_notice,
    appeal_message,
    appeal_sent,
    blocked_message,
    cancelled_message,
    expired_message,
    open_requests_message,
    review_link_message,
    usage_message,
)

__all__ = [
    "appeal_allowed",
    "appeal_denied",
    "appeal_denied_notice",
    "appeal_message",
    "appeal_sent",
    "blocked_message",
    "cancelled_message",
    "cut_clip_message",
    "edit_shot_form",
    "expired_message",
    "open_requests_message",
    "picked_message",
    "review_link_message",
    "take_message",
    "usage_message",
    "variants_message",
]

HELP_TEXT = (
    "*clipdesk* turns a sentence into a reviewed video clip, right here in the thread.\n"
    "• `/video <what you want>`: e.g. `/video a 12s product demo of our steel water bottle, vertical`\n"
    "• options: `--seconds 8`, `--aspect 16:9|9:16|1:1` (or say vertical / square), "
    "`--provider NAME`, `--model NAME`, `--variants 1-4`, `--quality standard|high`\n"
    '• explainers: `/video explain laminar vs turbulent flow --audience "age 14" --seconds 30` '
    "writes a narration script (shown first, **Edit script** to change it), reads it aloud and "
    "captions it; `--captions burn|off|es` burns captions in, leaves them out, or translates them\n"
    "• `/video status`: your open requests · `/video usage`: your spend this month · "
    "`/video cancel`: cancel your latest open request\n"
    "A team lead approves each clip with **Approve**; **Regenerate**, **Edit prompt** and **Reject** "
    "are next to it."
)


def parent_message(request: VideoRequest) -> Message:
    ask = request.raw_text if len(request.raw_text) <= 300 else request.raw_text[:297] + "…"
    who = request.requester_name or request.requester
    return Message(
        text=f"🎬 video request from {who}: {ask}",
        context="clipdesk · details in the thread",
        mentions=(request.requester,),
    )


def brief_message(brief: Brief, plan: Plan, request: VideoRequest, *, awaiting: bool) -> Message:
    shots = "\n".join(
        f"{s.index}. ({s.seconds:g}s · {s.camera}"
        + (f" · {money(plan.price_per_second * s.seconds)}" if plan.is_cut else "")
        + (" · continues" if s.continues else "")
        + f") {s.description}"
        for s in brief.shots
    )
    fields = (
        Field("Duration", f"{brief.seconds}s"),
        Field("Aspect", f"{brief.aspect} ({plan.size})"),
        Field("Provider", f"{plan.provider} · {plan.model}"),
        Field(
            "Estimated cost",
            (
                texts.draft_and_final(
                    money(plan.cost_estimate), money(plan.final_cost) if plan.final_cost is not None else None
                )
                if plan.draft
                else money(plan.cost_estimate)
            )
            + (f" ({plan.variants} variants)" if plan.variants > 1 else ""),
        ),
        Field("Style", brief.style),
        Field("Lighting", brief.lighting),
    )
    buttons: tuple[Button, ...] = ()
    if awaiting:
        buttons = (
            Button("Render", Action.RENDER, request.id, Style.PRIMARY),
            Button("Edit prompt", Action.EDIT, request.id),
            *((Button("Edit script", Action.EDIT_SCRIPT, request.id),) if brief.explainer else ()),
            Button("Cancel", Action.CANCEL, request.id, Style.DANGER),
        )
    note = f"\n_Change: {brief.note}_" if brief.note else ""
    return Message(
        text=f"📝 Brief v{brief.version}",
        body=f"*Your ask:* {request.raw_text}\n*Prompt:* {brief.prompt}\n*Shot list:*\n{shots}{note}"
        + script_section(brief, request),
        fields=fields,
        buttons=buttons,
        context=(
            "Press Render to start." if awaiting else "Rendering starts now (within the auto-render limit)."
        )
        + f" Refined by {brief.refiner}.",
    )


def script_section(brief: Brief, request: VideoRequest) -> str:
    """An explainer's words, shown before anything is rendered so a teacher can correct them."""
    explainer = brief.explainer
    if explainer is None:
        return ""
    lines = "\n".join(
        f"{i}. ({s.seconds:g}s) {line or '—'}"
        for i, (s, line) in enumerate(zip(brief.shots, explainer.script, strict=False), start=1)
    )
    parts = [f"\n*Narration script* ({explainer.language}):\n{lines}"]
    if explainer.key_terms:
        parts.append(f"*Key terms:* {', '.join(explainer.key_terms)}")
    if explainer.goal:
        parts.append(f"*Learning goal:* {explainer.goal}")
    if explainer.audience:
        parts.append(f"*For:* {explainer.audience}")
    captions = request.options.captions or "on"
    if captions == "off":
        parts.append("*Captions:* off")
    elif captions == "burn":
        parts.append("*Captions:* burned in, and as .vtt/.srt files")
    elif captions != "on":
        if explainer.translation is not None:
            parts.append(f"*Captions:* {explainer.language}, and {captions} " + "(machine-translated)")
        else:
            parts.append(texts.no_translation(captions))
    if explainer.shortened:
        parts.append(texts.script_shortened(explainer.shortened))
    if explainer.outline_only:
        parts.append(texts.OUTLINE_ONLY)
    return "\n".join(parts)


def status_message(render: Render, *, position: int | None = None, note: str = "") -> Message:
    labels = {
        RenderStatus.QUEUED: "⏳ Queued",
        RenderStatus.SUBMITTED: "📤 Submitted",
        RenderStatus.RUNNING: "🎞️ Rendering",
        RenderStatus.DOWNLOADING: "⬇️ Downloading",
        RenderStatus.POSTPROCESSING: "🧪 Post-processing (watermark, provenance, checks)",
        RenderStatus.READY: "✅ Ready",
        RenderStatus.FAILED: "❌ Failed",
        RenderStatus.CANCELLED: "🚫 Cancelled",
    }
    text = labels[render.status]
    if render.status == RenderStatus.QUEUED and position:
        text += f" (position {position} in the queue)"
    if render.status == RenderStatus.RUNNING:
        text += f" {render.progress}%"
    context = (
        f"v{render.brief_version} · {render.provider} · {render.model} · {render.seconds}s · {render.size}"
    )
    if note:
        context = f"{note} · {context}"
    return Message(
        text=text,
        context=context,
        progress=render.progress if render.status == RenderStatus.RUNNING else None,
    )


def clip_message(
    render: Render,
    brief: Brief,
    request: VideoRequest,
    disclosure: str = "",
    notes: Sequence[str] = (),
    *,
    review_page: bool = False,
) -> Message:
    fields = [
        Field("Provider", f"{render.provider} · {render.model}"),
        Field("Length", f"{render.seconds}s"),
        Field("Size", render.size),
        Field("Cost", money(render.cost_actual if render.cost_actual is not None else render.cost_estimate)),
        Field(
            "Version", f"v{brief.version}" + (f" · variant {render.variant}" if render.variant > 1 else "")
        ),
    ]
    body = "\n".join([*(f"⚠ {finding}" for finding in render.qc_findings), *notes])
    script_button = (
        (Button("Edit script", Action.EDIT_SCRIPT, request.id, render_id=render.id),)
        if brief.explainer
        else ()
    )
    return Message(
        text=f"🎬 Your clip is ready for review (v{brief.version})",
        body=body,
        fields=tuple(fields),
        buttons=(
            Button("Approve", Action.APPROVE, request.id, Style.PRIMARY, render.id),
            Button("Regenerate", Action.REGENERATE, request.id, render_id=render.id),
            Button("Edit prompt", Action.EDIT, request.id, render_id=render.id),
            *script_button,
            *retry_narration_button(request, render, notes),
            Button("Reject", Action.REJECT, request.id, Style.DANGER, render.id),
            *(
                (Button("Open review page", Action.OPEN_REVIEW, request.id, render_id=render.id),)
                if review_page
                else ()
            ),
        ),
        # The workspace's disclosure goes with every clip, so a forwarded screenshot still says it.
        context=(f"{disclosure} · " if disclosure else "")
        + "An approver decides here. "
        + (brief.prompt[:180] + "…" if len(brief.prompt) > 180 else brief.prompt),
    )


def decided_message(
    render: Render,
    brief: Brief,
    verb: str,
    who: str,
    at: datetime,
    reason: str = "",
    *,
    reviewer: str = "",
    cut_version: int | None = None,
) -> Message:
    icon = {"approved": "✅", "rejected": "⛔", "changes requested": "↩️"}.get(verb, "•")
    version = f"v{brief.version}" + (f" · cut v{cut_version}" if cut_version else "")
    text = f"{icon} {verb} by {who} at {at:%Y-%m-%d %H:%M} UTC ({version})"
    return Message(
        text=text,
        body=f"Reason: {reason}" if reason else "",
        fields=(
            Field("Provider", f"{render.provider} · {render.model}"),
            Field("Length", f"{render.seconds}s"),
            Field("Size", render.size),
        ),
        mentions=(reviewer,) if reviewer else (),
    )


def failed_message(request: VideoRequest, reason: str) -> Message:
    return Message(
        text="❌ The render failed — retry?",
        body=reason,
        buttons=(
            Button("Retry", Action.RETRY, request.id, Style.PRIMARY),
            Button("Edit prompt", Action.EDIT, request.id),
            Button("Cancel", Action.CANCEL, request.id, Style.DANGER),
        ),
    )


def clarifying_message(question: str) -> Message:
    return Message(text=f"❓ {question}", context="Reply in this thread and I will write the brief.")


def notice(text: str) -> Message:
    return Message(text=text)


def edit_form(request: VideoRequest, brief: Brief | None, render_id: str | None = None) -> Form:
    current = brief.prompt if brief else request.raw_text
    return Form(
        title="Edit prompt",
        action=Action.EDIT,
        request_id=request.id,
        render_id=render_id,
        fields=(FormField("prompt", "Prompt", current[:3000], multiline=True),),
        submit_label="Save",
    )


def edit_script_form(brief: Brief, render_id: str | None = None) -> Form:
    """Edit script: the narration as one numbered line per shot."""
    assert brief.explainer is not None
    return Form(
        title="Edit script",
        action=Action.EDIT_SCRIPT,
        request_id=brief.request_id,
        render_id=render_id,
        fields=(
            FormField(
                "script",
                f"Narration, one line per shot ({len(brief.shots)} shots)",
                script_form_text(brief.explainer.script)[:3000],
                multiline=True,
            ),
        ),
        submit_label="Save",
    )


def reject_form(request: VideoRequest, render_id: str | None) -> Form:
    return Form(
        title="Reject clip",
        action=Action.REJECT,
        request_id=request.id,
        render_id=render_id,
        fields=(FormField("reason", "Why is it rejected?", "", multiline=True, max_length=1000),),
        submit_label="Reject",
    )
