"""Which provider a deployment uses, from its settings."""

from __future__ import annotations

from protolearn.ai.chat import GROQ_DEFAULT_MODEL, ChatProvider, GroqTransport, OpenAICompatibleTransport
from protolearn.ai.offline import OfflineProvider
from protolearn.ai.provider import QuestionProvider
from protolearn.config import Settings, SettingsError

__all__ = ("create_provider",)


def create_provider(settings: Settings) -> QuestionProvider:
    """``auto``: Groq when a Groq key is set, else the offline provider (the embedded default)."""
    choice = settings.ai_provider
    if choice == "auto":
        choice = "groq" if settings.groq_api_key else "offline"
    match choice:
        case "groq":
            if not settings.groq_api_key:
                raise SettingsError("PROTOLEARN_AI_PROVIDER=groq needs GROQ_API_KEY")
            model = settings.ai_model or GROQ_DEFAULT_MODEL
            transport = GroqTransport(
                api_key=settings.groq_api_key,
                model=model,
                base_url=settings.groq_base_url or None,
                timeout_s=settings.ai_timeout_seconds,
            )
            return ChatProvider("groq", transport, model=model, max_retries=settings.ai_max_retries)
        case "openai_compatible":
            if not settings.ai_base_url or not settings.ai_model:
                raise SettingsError(
                    "PROTOLEARN_AI_PROVIDER=openai_compatible needs PROTOLEARN_AI_BASE_URL "
                    "and PROTOLEARN_AI_MODEL"
                )
            compatible = OpenAICompatibleTransport(
                base_url=settings.ai_base_url,
                model=settings.ai_model,
                api_key=settings.ai_api_key,
                timeout_s=settings.ai_timeout_seconds,
            )
            return ChatProvider(
                "openai_compatible", compatible, model=settings.ai_model, max_retries=settings.ai_max_retries
            )
        case _:
            return OfflineProvider()
