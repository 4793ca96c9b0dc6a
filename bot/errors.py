"""Typed errors of the core.

:class:`UserError` and its subclasses are things a user caused and can fix;
adapters show ``user_message`` in the thread or to that user alone.
:class:`ProviderError` subclasses tell the worker whether to retry.
"""

from __future__ import annotations


class ClipdeskError(Exception):
    """Base of every error the core raises on purpose."""


class UserError(ClipdeskError):
    """Something the user can fix; ``user_message`` is safe and friendly to show."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class InvalidOptions(UserError):
    """An option has a value clipdesk or the provider cannot honour."""


class EmptyRequest(UserError):
    """There is nothing to make a video of."""


class PromptBlocked(UserError):
    """Policy or moderation refuses the prompt."""

    def __init__(
        self,
        user_message: str,
        category: str = "policy",
        *,
        reason: str = "",
        request_id: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.category = category
        self.reason = reason or user_message
        self.request_id = request_id


class OverBudget(UserError):
    """The render would spend more than a budget allows."""

    def __init__(self, user_message: str, *, scope: str, limit: float, spent: float, adding: float) -> None:
        super().__init__(user_message)
        self.scope = scope
        self.limit = limit
        self.spent = spent
        self.adding = adding


class NotAllowed(UserError):
    """The actor may not do this (e.g. approve without being an approver)."""


class UnknownRequest(UserError):
    """A button or command names a request that does not exist."""


class AlreadyDecided(UserError):
    """The request already moved on; a second click changes nothing."""


class IllegalTransition(ClipdeskError):
    """A life-cycle move that the transition tables forbid."""

    def __init__(self, what: str, current: object, target: object) -> None:
        super().__init__(f"{what} cannot move from {current} to {target}")
        self.what = what
        self.current = current
        self.target = target


class ProviderError(ClipdeskError):
    """A video provider failed."""

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.provider = provider


class TransientProviderError(ProviderError):
    """Retry later: rate limits, 5xx, timeouts. ``retry_after`` is the provider's hint in seconds."""

    def __init__(self, message: str, *, provider: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, provider=provider)
        self.retry_after = retry_after


class SubmissionUncertain(TransientProviderError):
    """A create call ended ambiguously (timeout, 5xx, lost connection): a job may exist.

    Never simply retried: the worker first reconciles with :meth:`VideoProvider.find`.
    """


class ReconcileUnsupported(ProviderError):
    """The provider cannot tell whether an ambiguous submit created a job."""


class CapacityError(TransientProviderError):
    """The provider is down or out of capacity: another provider may take the render."""


class PermanentProviderError(ProviderError):
    """Never retry: invalid request, expired result."""


class ContentRefused(PermanentProviderError):
    """The provider refused the prompt on policy grounds; the reason is shown to the user."""


class ModerationUnavailable(ClipdeskError):
    """A configured moderator could not be reached; nothing is made unchecked."""


class MediaError(ClipdeskError):
    """A clip could not be processed (undecodable, bad watermark, expired certificate)."""


class StorageFull(ClipdeskError):
    """The media folder is full or not writable: a resource fault, retried, never a failed render."""


class DeliveryRefused(ClipdeskError):
    """A sink was told "no" for good (e.g. the bot is not in the channel): do not retry the delivery."""


class ModerationMisconfigured(ModerationUnavailable):
    """The moderation endpoint refuses clipdesk itself (404, 401, 403): an operator must fix a setting.

    Retrying cannot help; ``variable`` names the setting to fix.
    """

    def __init__(self, message: str, *, variable: str) -> None:
        super().__init__(message)
        self.variable = variable
