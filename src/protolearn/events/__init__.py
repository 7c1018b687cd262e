"""Publish/subscribe of live events between rooms and sockets: in-process by default."""
