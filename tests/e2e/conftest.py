"""End-to-end tests share the integration suite's real server and API helpers."""

from tests.integration.conftest import api, base_url, client

__all__ = ("api", "base_url", "client")
