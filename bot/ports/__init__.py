"""The ports: every way the core talks to the world, as Protocols, one module per concern.

Adapters implement these; the core depends on nothing else outside the standard library.
"""

from bot.ports.chat import ChatPort
from bot.ports.llm import (
    Clarification,
    ModerationResult,
    Moderator,
    PromptRefiner,
    RefineInput,
)
from bot.ports.media import ApprovalSealer, Clock, MediaStore, PostProcessor, ProcessedClip
from bot.ports.providers import (
    Capabilities,
    Continuity,
    ModelSpec,
    RemoteState,
    RemoteStatus,
    RenderSpec,
    SourceType,
    Tier,
    VideoProvider,
)
from bot.ports.storage import (
    AuditLog,
    BudgetLimit,
    IntakeQueue,
    MessageRefs,
    OutboxEntry,
    OutboxStore,
    Page,
    ReadModels,
    RenderQueue,
    RequestFilter,
    RequestRepo,
    Tx,
    UnitOfWork,
    UsageLedger,
)

__all__ = [
    "ApprovalSealer",
    "AuditLog",
    "BudgetLimit",
    "Capabilities",
    "ChatPort",
    "Clarification",
    "Clock",
    "Continuity",
    "IntakeQueue",
    "MediaStore",
    "MessageRefs",
    "ModelSpec",
    "ModerationResult",
    "Moderator",
    "OutboxEntry",
    "OutboxStore",
    "Page",
    "PostProcessor",
    "ProcessedClip",
    "PromptRefiner",
    "ReadModels",
    "RefineInput",
    "RemoteState",
    "RemoteStatus",
    "RenderQueue",
    "RenderSpec",
    "RequestFilter",
    "RequestRepo",
    "SourceType",
    "Tier",
    "Tx",
    "UnitOfWork",
    "UsageLedger",
    "VideoProvider",
]
