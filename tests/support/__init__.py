"""Helpers shared by the unit, integration and end-to-end tests: API actors and factories, a
real server on a loopback port, aiortc peers, live-channel clients, test images and material,
and a loopback LLM server."""
