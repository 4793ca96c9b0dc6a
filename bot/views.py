"""What each step of a request looks like in a thread, as platform-neutral messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import texts
from bot.cuts import Cut
from bot.domain import Brief, Plan, Render, RenderStatus, VideoRequest
from bot.explainers import script_form_text
from bot.messages import Action, Button, Field, Form, FormField, Message, Option, Picker, Style
from bot.texts import money
from bot.usecases.queries import OpenRequest, UsageLine

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


def retry_narration_button(request: VideoRequest, render: Render, notes: Sequence[str]) -> tuple[Button, ...]:
    """Offered only when the clip went out without its voice (captions only)."""
    if texts.NARRATION_FAILED not in notes:
        return ()
    return (Button("Retry narration", Action.RETRY_NARRATION, request.id, render_id=render.id),)


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


def blocked_message(reason: str, request_id: str | None = None) -> Message:
    buttons: tuple[Button, ...] = ()
    if request_id:
        buttons = (Button("Ask an approver", Action.APPEAL, request_id),)
    return Message(
        text=f"🚫 I can't make this video: {reason}.",
        buttons=buttons,
        context="Nothing was rendered and nothing was charged.",
    )


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
    return notice("📨 Sent to the approvers. You will see their decision here.")


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


def cut_clip_message(
    render: Render,
    brief: Brief,
    request: VideoRequest,
    cut: Cut,
    shots: Sequence[Render],
    disclosure: str = "",
    notes: Sequence[str] = (),
) -> Message:
    """A cut ready for review: its shots with maker, seed and cost, and a picker to redo one."""
    by_id = {s.id: s for s in shots}
    lines, total = [], 0.0
    words = {s.index: s.description for s in brief.shots}
    for shot in cut.shots:
        made = by_id.get(shot.render_id)
        cost = (made.cost_actual if made.cost_actual is not None else made.cost_estimate) if made else 0.0
        total += cost
        maker = f"{made.provider}/{made.model}" if made else "?"
        lines.append(
            f"{shot.index}. {shot.seconds}s · {maker} · seed {shot.seed} · {money(cost)}"
            + (" · reused" if shot.reused else "")
            + (" · continues" if shot.continues else "")
        )
    findings = "\n".join([*(f"⚠ {finding}" for finding in render.qc_findings), *notes])
    body = "*Shots:*\n" + "\n".join(lines) + (f"\n{findings}" if findings else "")
    options = tuple(
        Option(f"Shot {s.index} · {s.seconds}s · {words.get(s.index, '')}"[:75], s.render_id)
        for s in cut.shots
    )
    decide = (
        (Button("Make final", Action.MAKE_FINAL, request.id, Style.PRIMARY, render.id),)
        if cut.draft
        else (Button("Approve", Action.APPROVE, request.id, Style.PRIMARY, render.id),)
    )
    kind = "Draft" if cut.draft else "Cut"
    return Message(
        text=f"🎬 {kind} v{cut.version} is ready for review ({len(cut.shots)} shots, brief v{brief.version})",
        body=body,
        fields=(
            Field("Provider", f"{render.provider} · {render.model}"),
            Field("Length", f"{cut.seconds}s"),
            Field("Size", render.size),
            Field("Cost", money(total)),
            Field("Version", f"v{brief.version} · cut v{cut.version}" + (" · draft" if cut.draft else "")),
        ),
        buttons=(
            *decide,
            Button("Regenerate", Action.REGENERATE, request.id, render_id=render.id),
            Button("Edit prompt", Action.EDIT, request.id, render_id=render.id),
            *(
                (Button("Edit script", Action.EDIT_SCRIPT, request.id, render_id=render.id),)
                if brief.explainer
                else ()
            ),
            *retry_narration_button(request, render, notes),
            Button("Reject", Action.REJECT, request.id, Style.DANGER, render.id),
        ),
        pickers=(
            Picker("Regenerate one shot…", Action.REGENERATE_SHOT, request.id, options),
            Picker("Edit one shot…", Action.EDIT_SHOT, request.id, options),
        ),
        context=(f"{disclosure} · " if disclosure else "")
        + "An approver decides here; pick a shot to render only that one again.",
    )


def edit_shot_form(request: VideoRequest, index: int, words: str, render_id: str | None) -> Form:
    return Form(
        title=f"Edit shot {index}",
        action=Action.EDIT_SHOT,
        request_id=request.id,
        render_id=render_id,
        fields=(FormField("shot", f"What shot {index} shows", words[:3000], multiline=True),),
        submit_label="Render this shot",
    )


def review_link_message(url: str, minutes: float) -> Message:
    """The private answer to "Open review page": a sign-in link for the presser alone."""
    return Message(
        text="🔗 Your sign-in link to the review page",
        body=f"{url}\nIt works once, for {minutes:g} minutes, and signs in only you.",
        mentions=None,
    )


# ----------------------------------------------------------------------------- variants


def take_message(render: Render, brief: Brief, count: int) -> Message:
    """One take of several: shown for comparison; the decision waits for a pick."""
    return Message(
        text=f"🎞️ Take #{render.variant} of {count} (v{brief.version})",
        fields=(
            Field("Provider", f"{render.provider} · {render.model}"),
            Field("Length", f"{render.seconds}s"),
            Field(
                "Cost", money(render.cost_actual if render.cost_actual is not None else render.cost_estimate)
            ),
        ),
        context="Compare the takes on the contact sheet below, then pick one.",
    )


def variants_message(request: VideoRequest, takes: Sequence[Render]) -> Message:
    """The contact sheet's message: a Pick button per take."""
    return Message(
        text=texts.takes_side_by_side(len(takes)),
        body="One row per take, frames at 10 %, 30 %, 50 %, 70 % and 90 % of each clip.",
        buttons=tuple(
            Button(f"Pick #{take.variant}", Action.PICK, request.id, render_id=take.id) for take in takes
        ),
    )


def picked_message(request: VideoRequest, takes: Sequence[Render], picked: Render, who: str) -> Message:
    return Message(
        text=f"✅ Take #{picked.variant} picked by <@{who}>; the other takes are archived.",
        mentions=(who,),
        body=" · ".join(
            f"#{t.variant}" + (" (picked)" if t.id == picked.id else " (archived)") for t in takes
        ),
    )
