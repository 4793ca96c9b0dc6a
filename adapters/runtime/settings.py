"""Every setting clipdesk reads, from the environment (and an optional ``.env``).

The README's configuration table is written from this class; keep them in step.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLIPDESK_", env_file=".env", extra="ignore")

    # core
    data_dir: Path = Path(".clipdesk")
    database_url: str | None = None
    # PostgreSQL connections a process keeps (as many more at a peak, at most 10); default: enough
    # for every render the worker drives plus the deliverer, so none is opened per transaction.
    db_pool_size: int | None = None
    provider: str = "animatic"
    provider_order: str = ""  # comma-separated failover order; default: CLIPDESK_PROVIDER first
    auto_render_max_cost: float = 0.0
    policy_file: Path | None = None
    log_level: str = "INFO"
    log_format: str = "console"  # console (human) or json (one object per line; the Docker image)

    # worker
    worker_id: str | None = None
    worker_concurrency: int = 8  # renders one worker drives at once (mostly waiting on providers)
    provider_concurrency: int = 4  # jobs one process runs at once on any one provider (a cut's shots)
    max_cut_seconds: int = 120  # the longest multi-shot cut clipdesk makes
    draft_first: bool = False  # render a cheap draft first (Make final renders it at full quality)
    animatic_workers: int = 2  # storyboard shots drawn at once (one CPU thread each)
    lease_seconds: float = 60.0
    max_attempts: int = 5
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 300.0
    poll_start_seconds: float = 2.0
    poll_cap_seconds: float = 20.0
    tick_seconds: float = 1.0
    render_timeout_seconds: float = 3600.0  # counted from submission to the provider
    provider_call_timeout_seconds: float = 60.0  # any one provider call; a hung call frees the slot
    delivery_lease_seconds: float = 30.0  # an outbox entry being posted (renewed while it runs)
    intake_lease_seconds: float = 60.0  # an ask being refined; another process resumes it after this
    intake_grace_seconds: float = 15.0  # how old an untouched ask must be before the sweep resumes it
    intake_concurrency: int = 8  # asks one process refines at once (the rest have their thread, and wait)
    shutdown_grace_seconds: float = 20.0  # SIGTERM: in-flight work gets this long to reach a saved state
    worker_metrics_port: int | None = None  # `clipdesk worker` serves /metrics here (0: any free port)

    # web (Slack HTTP mode, webhooks, clip links)
    http_host: str = "127.0.0.1"
    http_port: int = 3000
    public_url: str = ""  # where people reach the web app; clip links start here
    link_secret: str | None = None  # signs clip links (same on every replica); default: one in the data dir
    link_ttl_seconds: float = 7 * 24 * 3600  # how long a clip link works

    # REST API, outgoing webhooks, review page (README "REST API, webhooks and review page")
    api_rate_per_minute: float = 120.0  # calls a minute per API token (each replica counts its own)
    api_rate_burst: int = 60  # calls a token may make at once before the rate applies
    webhook_timeout_seconds: float = 15.0  # one delivery attempt, connect to last byte
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"  # seconds between attempts
    webhook_allow_private: bool = False  # allow private, loopback and link-local targets (SSRF guard off)
    webhook_disable_after_hours: float = 120.0  # an endpoint failing this long is disabled (and audited)
    review_link_minutes: float = 10.0  # how long a one-time review page sign-in link works

    # OpenAI-compatible video endpoints, refiner, moderation
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "CLIPDESK_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "CLIPDESK_OPENAI_BASE_URL")
    )
    openai_webhook_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_WEBHOOK_SECRET", "CLIPDESK_OPENAI_WEBHOOK_SECRET")
    )
    # The video endpoint apart from the LLM one: a gateway that serves only /v1/videos (Azure OpenAI
    # video deployments) answers 404 to chat and moderation. Unset: OPENAI_BASE_URL/OPENAI_API_KEY.
    openai_video_base_url: str | None = None
    openai_video_api_key: str | None = None
    openai_video_model: str = "sora-2"
    refiner: str = "auto"  # auto | offline | openai
    refiner_model: str = "gpt-4.1-mini"
    moderation: str = "auto"  # auto | local | openai
    moderation_model: str = "omni-moderation-latest"
    # Explainer narration: auto (OpenAI audio.speech with a key, else eSpeak NG) | espeak | openai | off
    speech: str = "auto"
    speech_model: str = "gpt-4o-mini-tts"
    speech_voice: str = "alloy"
    speech_instructions: str | None = None

    # Google Veo
    gemini_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY", "CLIPDESK_GEMINI_API_KEY"),
    )
    veo_base_url: str | None = None
    veo_model: str = "veo-3.1-generate-001"
    veo_output_gcs_uri: str | None = None  # gs://bucket/prefix: Veo writes there and clips stream down
    veo_vertex_project: str | None = None
    veo_vertex_location: str = "us-central1"

    # Runway
    runwayml_api_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("RUNWAYML_API_SECRET", "CLIPDESK_RUNWAYML_API_SECRET")
    )
    runwayml_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("RUNWAYML_BASE_URL", "CLIPDESK_RUNWAYML_BASE_URL")
    )
    runway_model: str = "gen4.5"

    # every provider: one bound on each HTTP call (connect, each read), so a hung call raises
    provider_timeout_seconds: float = 30.0
    # the public base URL providers call back (``…/webhooks/fal``, ``/replicate``, ``/luma``); empty: poll
    webhook_base_url: str = ""
    openai_idempotent_gateway: bool = False  # the gateway honours Idempotency-Key on POST /videos

    # fal.ai (hosted Kling, Hailuo, Pika, Wan, LTX)
    fal_key: str | None = Field(default=None, validation_alias=AliasChoices("FAL_KEY", "CLIPDESK_FAL_KEY"))
    fal_base_url: str | None = None  # queue API root; default https://queue.fal.run
    fal_model: str = "kling-2.1-standard"
    fal_webhook_jwks_url: str = "https://rest.alpha.fal.ai/.well-known/jwks.json"

    # Replicate
    replicate_api_token: str | None = Field(
        default=None, validation_alias=AliasChoices("REPLICATE_API_TOKEN", "CLIPDESK_REPLICATE_API_TOKEN")
    )
    replicate_base_url: str | None = None
    replicate_model: str = "minimax/hailuo-02"  # owner/name[:version]
    replicate_webhook_secret: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REPLICATE_WEBHOOK_SECRET", "CLIPDESK_REPLICATE_WEBHOOK_SECRET"),
    )

    # Luma Dream Machine
    lumaai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("LUMAAI_API_KEY", "CLIPDESK_LUMAAI_API_KEY")
    )
    luma_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("LUMAAI_BASE_URL", "CLIPDESK_LUMA_BASE_URL")
    )
    luma_model: str = "ray-2"
    luma_webhook_secret: str | None = None  # signs the callback URLs Luma is given (Luma signs nothing)

    # ComfyUI (self-hosted open models)
    comfyui_url: str | None = None
    comfyui_workflow: Path | None = None  # API-format workflow with {{placeholders}} (see deploy/comfyui)
    comfyui_price_per_second: float = 0.0
    comfyui_max_queue: int = 4  # more prompts waiting than this: capacity, another provider takes it

    # price table overrides: "provider:model=usd_per_second,…"
    prices: str = ""

    # Slack
    slack_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "CLIPDESK_SLACK_BOT_TOKEN")
    )
    slack_app_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "CLIPDESK_SLACK_APP_TOKEN")
    )
    slack_signing_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "CLIPDESK_SLACK_SIGNING_SECRET")
    )
    slack_api_url: str = "https://slack.com/api/"
    slack_approvers: str = ""
    slack_approver_groups: str = ""
    slack_max_upload_mb: float | None = None  # larger clips are linked (default 1 GB, Slack's limit)

    # Discord
    discord_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_BOT_TOKEN", "CLIPDESK_DISCORD_BOT_TOKEN")
    )
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_ids: str = ""
    discord_approver_roles: str = ""
    discord_approvers: str = ""
    discord_shards: int | None = None

    # governance
    approvers: str = ""  # user ids allowed to approve on every platform (adds to the per-platform lists)
    self_approval: bool = False
    budget_user_monthly: float | None = None
    budget_channel_monthly: float | None = None
    budget_workspace_monthly: float | None = None
    blocked_terms: str = ""
    allow_real_people: bool = False
    review_expiry_hours: float | None = None
    watermark: bool = True
    watermark_text: str = "AI-generated · clipdesk"
    watermark_logo: Path | None = None
    watermark_position: str = "bottom-right"
    watermark_opacity: float = 0.7
    c2pa_cert_chain: Path | None = None  # PEM chain, signing certificate first
    c2pa_private_key: Path | None = None
    c2pa_algorithm: str = "es256"
    c2pa_tsa_url: str | None = None
    c2pa_dev_keys: bool = True  # no chain configured: sign with a local development chain in the data dir
    retention_days: float | None = None
    qc_regenerate_once: bool = True  # a clip that fails QC hard is made once more before review

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "clipdesk.db"

    @property
    def effective_db_pool_size(self) -> int:
        return self.db_pool_size or max(10, self.worker_concurrency + 8)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.sqlite_path}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def video_base_url(self) -> str | None:
        """Where the OpenAI-compatible video adapter points."""
        return self.openai_video_base_url or self.openai_base_url

    @property
    def video_api_key(self) -> str | None:
        return self.openai_video_api_key or self.openai_api_key


def split_list(raw: str) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``."""
    return [item.strip() for item in raw.split(",") if item.strip()]
