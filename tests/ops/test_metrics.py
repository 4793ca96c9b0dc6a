"""`/metrics` of `clipdesk serve` and of `clipdesk worker`, scraped after real renders.

Serve: signed `/video` commands from the fake Slack, rendered by the animatic in
the same process. Worker: renders queued straight into its database (one a
provider refuses as invalid), driven by a `clipdesk worker` process serving
metrics on its own port.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from bot.domain import RenderStatus
from storage.database import make_engine, upgrade
from storage.repository import SqlStore
from storage.tx import renders_t
from tests.e2e.test_intake_durability import CHANNEL, Serve, all_in_review, serve_env
from tests.fakes.loopback import unused_port
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack
from tests.support.cli_run import clean_environment
from tests.support.seed import seed_queued
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def labelled(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (found, labels) in samples if found == name]


async def scrape(url: str) -> Samples:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return parse(await response.text())


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


async def test_serve_exports_every_metric_after_slack_commands_are_rendered(
    tmp_path: Path, slack: FakeSlack
) -> None:
    port = unused_port()
    env = serve_env(
        tmp_path,
        port,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        CLIPDESK_SLACK_API_URL=slack.api_url,
        CLIPDESK_SLACK_APPROVERS="ULEAD",
    )
    serve = Serve(tmp_path, env, port)
    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'data' / 'clipdesk.db'}"))
    try:
        await serve.start()
        async with aiohttp.ClientSession() as http:
            for i in range(3):
                request = slack.build_command(f"a 4s clip of kite number {i}", user=f"U{i}", channel=CHANNEL)
                async with http.post(
                    f"http://127.0.0.1:{port}/slack/events",
                    data=request.body.encode(),
                    headers=request.headers,
                ) as response:
                    assert response.status == 200
        await wait_for(lambda: all_in_review(store, 3), seconds=180)

        async def scraped_after_refresh() -> Samples | None:
            samples = await scrape(f"http://127.0.0.1:{port}/metrics")
            # The gauges are read from the database every 5 s: wait for a read after the renders.
            queued = samples.get(("clipdesk_queue_depth", frozenset({("status", "queued")})))
            outbox = samples.get(("clipdesk_outbox_lag_seconds", frozenset({("sink", "thread")})))
            ready = samples.get(
                ("clipdesk_requests_total", frozenset({("platform", "slack"), ("status", "in_review")}))
            )
            return samples if queued == 0 and outbox is not None and ready == 3 else None

        samples = await wait_for(scraped_after_refresh, seconds=60)
        assert value(samples, "clipdesk_requests_total", platform="slack", status="received") == 3
        assert value(samples, "clipdesk_requests_total", platform="slack", status="queued") == 3
        assert value(samples, "clipdesk_ack_seconds_count", platform="slack") == 3
        assert value(samples, "clipdesk_ack_seconds_sum", platform="slack") > 0
        assert value(samples, "clipdesk_claim_latency_seconds_count") >= 3
        [render_labels] = labelled(samples, "clipdesk_render_seconds_count")
        assert render_labels["provider"] == "animatic" and render_labels["outcome"] == "ready"
        assert value(samples, "clipdesk_render_seconds_count", **render_labels) == 3
        assert value(samples, "clipdesk_cost_usd_total", workspace=TEAM, provider="animatic") == 0.0
        assert {labels["status"] for labels in labelled(samples, "clipdesk_queue_depth")} >= {
            s.value for s in (RenderStatus.QUEUED, RenderStatus.SUBMITTED, RenderStatus.POSTPROCESSING)
        }
        assert value(samples, "clipdesk_queue_oldest_seconds") == 0
        assert value(samples, "clipdesk_outbox_lag_seconds", sink="thread") >= 0
        for outcome in ("delivered", "failed", "abandoned"):
            assert value(samples, "clipdesk_webhook_deliveries_total", outcome=outcome) == 0
        assert labelled(samples, "clipdesk_provider_errors_total") == []  # nothing failed here
    finally:
        await serve.close()
        await store.close()


async def test_a_worker_serves_its_metrics_on_its_own_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'clipdesk.db'}"
    await asyncio.to_thread(upgrade, url)
    store = SqlStore(make_engine(url))
    # Seeded renders name the model `animatic-1`, which the animatic refuses (a permanent error);
    # the good one gets its real model. Both are queued before the worker starts.
    good, bad = await seed_queued(store, 2, provider="animatic", seconds=4)
    async with store.engine.begin() as conn:
        await conn.execute(update(renders_t).where(renders_t.c.id == good).values(model="animatic-v1"))
    env = clean_environment(tmp_path)
    env.update(
        CLIPDESK_PROVIDER="animatic",
        CLIPDESK_WATERMARK="false",
        CLIPDESK_TICK_SECONDS="0.5",
        CLIPDESK_MAX_ATTEMPTS="1",
        CLIPDESK_WORKER_METRICS_PORT="0",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.runtime.cli",
        "worker",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        metrics_url = ""
        while not metrics_url:
            line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
            assert line, "the worker exited before serving metrics"
            found = re.search(r"worker metrics on (http://\S+/metrics)", line)
            metrics_url = found.group(1) if found else ""

        async def both_finished() -> bool:
            renders = [await store.renders.get_render(r) for r in (good, bad)]
            return all(
                r is not None and r.status in (RenderStatus.READY, RenderStatus.FAILED) for r in renders
            )

        await wait_for(both_finished, seconds=120)
        ready = await store.renders.get_render(good)
        failed = await store.renders.get_render(bad)
        assert ready is not None
        assert ready.status == RenderStatus.READY, ready.failure_reason
        assert failed is not None and failed.status == RenderStatus.FAILED

        async def scraped() -> Samples | None:
            samples = await scrape(metrics_url)
            queued = samples.get(("clipdesk_queue_depth", frozenset({("status", "queued")})))
            return samples if queued == 0 else None

        samples = await wait_for(scraped, seconds=30)
        assert value(samples, "clipdesk_claim_latency_seconds_count") >= 2
        outcomes = {labels["outcome"] for labels in labelled(samples, "clipdesk_render_seconds_count")}
        assert outcomes == {"ready", "failed"}
        [error] = labelled(samples, "clipdesk_provider_errors_total")
        assert error == {"provider": "animatic", "kind": "permanent"}
        assert value(samples, "clipdesk_provider_errors_total", **error) == 1
        assert value(samples, "clipdesk_cost_usd_total", workspace="W1", provider="animatic") == 0.0
        assert value(samples, "clipdesk_requests_total", platform="test", status="in_review") == 1
        assert value(samples, "clipdesk_requests_total", platform="test", status="failed") == 1
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 60)
        await store.close()
