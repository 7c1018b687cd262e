"""The HTTP face: Litestar controllers, guards, error mapping. Thin: parse, authorize, call, shape."""
