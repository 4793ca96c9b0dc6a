"""The dashboard and alert rules in deploy/monitoring/ only use metrics clipdesk exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from adapters.metrics import REGISTRY

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def _exported() -> set[str]:
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES)
    return names


def _used(expr: str) -> set[str]:
    return set(re.findall(r"\bclipdesk_[a-z_]+", expr))


def test_alert_rules_name_exported_metrics_or_their_own_recordings() -> None:
    groups = yaml.safe_load((MONITORING / "alerts.yaml").read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    recorded = {rule["record"] for rule in rules if "record" in rule}
    alerts = {rule["alert"] for rule in rules if "alert" in rule}
    assert {"ClipdeskQueueStuck", "ClipdeskRenderErrorRate", "ClipdeskBudgetBurn"} <= alerts
    for rule in rules:
        assert _used(rule["expr"]) <= _exported() | recorded, rule.get("alert") or rule.get("record")


def test_every_dashboard_panel_queries_exported_metrics() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    used: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            assert _used(target["expr"]) <= _exported(), panel["title"]
            used |= _used(target["expr"])
    assert {name for name in _exported() if name.startswith("clipdesk_") and name in used}
