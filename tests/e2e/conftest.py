"""End-to-end tests share the integration tests' real server and API helpers."""

from tests.support.fixtures import api, base_url, client

__all__ = ("api", "base_url", "client")
