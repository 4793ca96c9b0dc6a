"""Audit export (CSV, JSON Lines) and the monthly summary for a bias and misuse review."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain_events import AuditEvent
from bot.event_kinds import EventKind as K

COLUMNS = ("id", "at", "kind", "actor", "platform", "workspace", "channel", "request_id", "render_id", "data")


def _row(event: AuditEvent) -> dict[str, str]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "kind": event.kind,
        "actor": event.actor,
        "platform": event.platform,
        "workspace": event.workspace,
        "channel": event.channel,
        "request_id": event.request_id or "",
        "render_id": event.render_id or "",
        "data": json.dumps(event.data, sort_keys=True, ensure_ascii=False),
    }


def export(events: Iterable[AuditEvent], fmt: str) -> str:
    """The events as CSV (one column of JSON for ``data``) or JSON Lines."""
    if fmt == "jsonl":
        lines = []
        for event in events:
            row: dict[str, object] = dict(_row(event))
            row["data"] = event.data
            lines.append(json.dumps(row, ensure_ascii=False))
        return "".join(line + "\n" for line in lines)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for event in events:
            writer.writerow(_row(event))
        return buffer.getvalue()
    raise ValueError(f"unknown format {fmt!r}; use csv or jsonl")


@dataclass
class WorkspaceMonth:
    workspace: str
    requests: int = 0
    approvals: int = 0
    rejections: list[str] = field(default_factory=list)
    spend: float = 0.0
    blocked: Counter[str] = field(default_factory=Counter)
    budget_refusals: int = 0
    qc_flagged: int = 0


def monthly_summary(events: Iterable[AuditEvent], month: datetime) -> list[WorkspaceMonth]:
    """Per workspace in the month of ``month``: requests, decisions, spend, blocks by category."""
    rows: dict[str, WorkspaceMonth] = defaultdict(lambda: WorkspaceMonth(""))
    for event in events:
        if (event.at.year, event.at.month) != (month.year, month.month):
            continue
        key = f"{event.platform}:{event.workspace}" if event.platform else "(unknown)"
        row = rows[key]
        row.workspace = key
        kind = event.kind
        if kind == K.REQUEST_RECEIVED:
            row.requests += 1
        elif kind == K.REVIEW_APPROVED:
            row.approvals += 1
        elif kind == K.REVIEW_REJECTED:
            row.rejections.append(str(event.data.get("reason", "")))
        elif kind in (K.RENDER_READY, K.RENDER_FAILED):
            row.spend += float(event.data.get("cost_actual") or 0.0)
            if event.data.get("qc_findings"):
                row.qc_flagged += 1
        elif kind == K.REQUEST_BLOCKED:
            row.blocked[str(event.data.get("category", "policy"))] += 1
        elif kind == K.BUDGET_REFUSED:
            row.budget_refusals += 1
    return sorted(rows.values(), key=lambda r: r.workspace)


def summary_text(rows: list[WorkspaceMonth], month: datetime) -> str:
    lines = [f"clipdesk audit summary for {month:%Y-%m}"]
    if not rows:
        lines.append("  no activity")
    for row in rows:
        blocked = ", ".join(f"{k} {v}" for k, v in row.blocked.most_common()) or "none"
        lines.append(f"{row.workspace}")
        lines.append(
            f"  requests {row.requests} · approved {row.approvals} · rejected {len(row.rejections)}"
            f" · spend ${row.spend:,.2f} · budget refusals {row.budget_refusals}"
            f" · clips with QC findings {row.qc_flagged}"
        )
        lines.append(f"  blocked by category: {blocked}")
        for reason in row.rejections:
            lines.append(f"  rejected: {reason or '(no reason)'}")
    return "\n".join(lines) + "\n"
