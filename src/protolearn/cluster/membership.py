"""This node's connection to the deployment's Redis and its place among the nodes."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from protolearn.cluster.nodes import Node, NodeRegistry
from protolearn.config import Settings

__all__ = ("Cluster",)


class Cluster:
    def __init__(self, settings: Settings) -> None:
        # Short timeouts: a Redis that is away must cost a request little (it falls back).
        self.client = Redis.from_url(
            settings.redis_url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=15
        )
        self.nodes = NodeRegistry(
            self.client,
            Node(settings.node_name, settings.node_url.rstrip("/")),
            heartbeat_s=settings.node_heartbeat_seconds,
            expiry_s=settings.node_expiry_seconds,
            prefix=settings.redis_prefix,
            media=settings.node_media,
        )

    async def check(self) -> str:
        """For /readyz: "ok", or why Redis does not answer."""
        try:
            await self.client.ping()
        except (RedisError, OSError) as error:
            return f"unavailable: {type(error).__name__}"
        return "ok"

    async def close(self) -> None:
        await self.nodes.leave()
        await self.client.aclose()
