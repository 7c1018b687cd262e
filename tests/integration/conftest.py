"""Integration tests run against a real server on a loopback port (tests/support/fixtures.py)."""

from tests.support.fixtures import api, base_url, client

__all__ = ("api", "base_url", "client")
