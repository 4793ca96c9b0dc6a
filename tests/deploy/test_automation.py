"""deploy/automation: the n8n workflow imports (every connection names a node) and calls the real API."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from adapters.webhooks_out.events import EVENT_TYPES

AUTOMATION = Path(__file__).resolve().parents[2] / "deploy" / "automation"


def test_n8n_workflow_is_wired_and_uses_the_api() -> None:
    workflow = json.loads((AUTOMATION / "n8n-clipdesk.json").read_text())
    names = {node["name"] for node in workflow["nodes"]}
    assert len(names) == len(workflow["nodes"])
    for source, outputs in workflow["connections"].items():
        assert source in names
        for branch in outputs["main"]:
            assert all(link["node"] in names for link in branch)
    text = json.dumps(workflow)
    assert "/api/v1/requests" in text and "Idempotency-Key" in text and "webhook-signature" in text


def test_the_notes_name_only_events_clipdesk_sends() -> None:
    notes = (AUTOMATION / "README.md").read_text()
    named = set(re.findall(r"\b(?:request|render|brief)\.[a-z_]+\b", notes))
    assert named and named <= set(EVENT_TYPES)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the n8n Code node's JavaScript")
def test_the_n8n_code_node_accepts_a_clipdesk_signature_and_refuses_a_forged_one(tmp_path: Path) -> None:
    workflow = json.loads((AUTOMATION / "n8n-clipdesk.json").read_text())
    (code,) = [n["parameters"]["jsCode"] for n in workflow["nodes"] if n["type"] == "n8n-nodes-base.code"]
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
    body = '{"data":{"request_id":"req_1"},"type":"render.ready"}'
    now = datetime.now(UTC)
    signature = Webhook(secret).sign("msg_1", now, body)

    def run(signatures: str) -> subprocess.CompletedProcess[str]:
        item = {
            "json": {
                "headers": {
                    "webhook-id": "msg_1",
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": signatures,
                }
            },
            "binary": {"data": {"data": base64.b64encode(body.encode()).decode()}},
        }
        script = (
            f"const $input = {{ first: () => ({json.dumps(item)}) }};\n"
            f"const $env = {{ CLIPDESK_WEBHOOK_SECRET: {json.dumps(secret)} }};\n"
            f"const result = (() => {{ {code} }})();\nconsole.log(JSON.stringify(result));"
        )
        path = tmp_path / "node.js"
        path.write_text(script)
        return subprocess.run(["node", str(path)], capture_output=True, text=True, timeout=30, check=False)

    accepted = run(f"v1,bm90LWl0 {signature}")  # a rotation: one of several signatures matches
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)[0]["json"]["type"] == "render.ready"
    forged = run("v1,bm90LWl0")
    assert forged.returncode != 0 and "does not match" in forged.stderr
