"""``GET /api/ai/health``: the provider in use, whether it answers now, its latency and errors."""

from __future__ import annotations

from protolearn.ai.provider import QuestionProvider
from protolearn.ai.schemas import AiHealth
from protolearn.ai.stats import ProviderStats

__all__ = ("health_of",)


async def health_of(provider: QuestionProvider, stats: ProviderStats) -> AiHealth:
    reachable = await provider.probe()
    providers = stats.snapshot()
    mine = providers.get(provider.name)
    return AiHealth(
        provider=provider.name,
        model=provider.model,
        reachable=reachable,
        last_latency_ms=mine.last_latency_ms if mine else None,
        error_rate=mine.error_rate if mine else 0.0,
        providers=providers,
    )
