"""`wishbot demo`: the real bot against the fake Bot API server, with scripted people."""
