"""Fixtures for tests that talk to a real server: `base_url`, `client`, `api`. Conftests import
them from here (integration and end-to-end tests alike)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from protolearn.config import Settings
from tests.support.api import Api
from tests.support.server import running_server

__all__ = ("api", "base_url", "client")


@pytest.fixture
async def base_url(settings: Settings) -> AsyncIterator[str]:
    async with running_server(settings) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient, settings: Settings) -> Api:
    return Api(client, settings)
